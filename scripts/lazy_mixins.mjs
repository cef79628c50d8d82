// Lazy mixin clients inside the function bundles (issue 13): aiplatform's
// v1.JobServiceClient constructor also builds google-gax's IamClient, LocationsClient and an
// Operations client (each turns its own descriptor into gRPC definitions, and lro() makes a
// second GrpcClient with its own GoogleAuth) whether or not they are ever called. The product
// calls CreateCustomJob, ListCustomJobs and CancelCustomJob only, so this esbuild plugin
// rewrites job_service_client.js to build each of the three on its first use instead.
// The constructor also parses its descriptor a second time, into a protobufjs root it reads
// only to decode long-running operations (DeleteCustomJob and the like) and, over REST, to
// give the Operations client; that root is now made when an operation is first decoded.
//
// Invariants:
// - Every rewrite matches exactly the code it expects, the expected number of times, or the
//   build fails naming the rewrite: a new aiplatform release that changes the constructor
//   fails loudly instead of being bundled half-rewritten.
// - A mixin made late is made from a shallow copy of the constructor's `opts` taken where the
//   original made it (IamClient, LocationsClient and OperationsClient copy their options at
//   construction anyway), so a later mutation of the shared opts cannot change it.
// - `this.iamClient`, `this.locationsClient`, `this.operationsClient` stay readable and
//   assignable properties; reading one makes the client once. Each LongRunningDescriptor reads
//   `operationsClient` from the JobService client when an operation needs it.
// - close() closes only the mixins that were made (it does not make one to close it).
// - The second root is made once, from the same descriptor, the first time an operation's
//   response or metadata is decoded (or, over REST, when the Operations client is made);
//   every type the constructor looked up is looked up in it then, by the same name.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";

const CLIENT =
  /[\\/]@google-cloud[\\/]aiplatform[\\/]build[\\/]src[\\/]v1[\\/]job_service_client\.js$/;

/** Prepended to the rewritten module: the three helpers the rewrites call. */
const HELPERS = `
function __vdLazy(owner, name, make) {
  const set = (value) => Object.defineProperty(owner, name, { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(owner, name, { get() { const v = make(); set(v); return v; }, set, enumerable: true, configurable: true });
}
function __vdMade(owner, name) {
  const d = Object.getOwnPropertyDescriptor(owner, name);
  return d !== undefined && "value" in d && d.value != null;
}
function __vdOnce(make) { let done = false, value; return () => { if (!done) { value = make(); done = true; } return value; }; }
function __vdLazyType(root, name) {
  return { decode(...args) { const type = root().lookup(name); if (!type) throw new Error("lazy-mixins: " + name + " is not in the client's descriptor"); return type.decode(...args); } };
}
function __vdLro(owner, Descriptor, decodeResponse, decodeMetadata) {
  const d = new Descriptor(undefined, decodeResponse, decodeMetadata);
  Object.defineProperty(d, "operationsClient", { get: () => owner.operationsClient, enumerable: true, configurable: true });
  return d;
}
`;

/** [name, pattern, replacement, expected count]. Patterns are exact (whitespace aside). */
export const REWRITES = [
  [
    "IamClient in the constructor",
    /this\.iamClient = new this\._gaxModule\.IamClient\(this\._gaxGrpc, opts\);/g,
    '{ const o = Object.assign({}, opts); __vdLazy(this, "iamClient", () => new this._gaxModule.IamClient(this._gaxGrpc, o)); }',
    1,
  ],
  [
    "LocationsClient in the constructor",
    /this\.locationsClient = new this\._gaxModule\.LocationsClient\(this\._gaxGrpc, opts\);/g,
    '{ const o = Object.assign({}, opts); __vdLazy(this, "locationsClient", () => new this._gaxModule.LocationsClient(this._gaxGrpc, o)); }',
    1,
  ],
  [
    "the Operations client in the constructor",
    /this\.operationsClient = this\._gaxModule\s*\.lro\(lroOptions\)\s*\.operationsClient\(opts\);/g,
    '{ const o = Object.assign({}, opts); __vdLazy(this, "operationsClient", () => this._gaxModule.lro(lroOptions).operationsClient(o)); }',
    1,
  ],
  [
    "LongrunningDescriptor(this.operationsClient, ...)",
    /new this\._gaxModule\.LongrunningDescriptor\(this\.operationsClient, /g,
    "__vdLro(this, this._gaxModule.LongrunningDescriptor, ",
    7,
  ],
  [
    "the operations root in the constructor",
    /const protoFilesRoot = this\._gaxModule\.protobufFromJSON\(jsonProtos\);/g,
    "const protoFilesRoot = __vdOnce(() => this._gaxModule.protobufFromJSON(jsonProtos));",
    1,
  ],
  [
    "the operations root given to REST's Operations client",
    /lroOptions\.protoJson = protoFilesRoot;/g,
    "lroOptions.protoJson = protoFilesRoot();",
    1,
  ],
  [
    "a type looked up in the operations root",
    /protoFilesRoot\.lookup\(/g,
    "__vdLazyType(protoFilesRoot, ",
    14,
  ],
  [
    "close() of the IAM and Locations clients",
    /this\.(iamClient|locationsClient)\.close\(\)\.catch\(/g,
    '(__vdMade(this, "$1") ? this.$1.close() : Promise.resolve()).catch(',
    2,
  ],
  [
    "close() of the Operations client",
    /void this\.operationsClient\.close\(\);/g,
    'if (__vdMade(this, "operationsClient")) void this.operationsClient.close();',
    1,
  ],
];

/** The rewritten source of job_service_client.js; throws if any rewrite does not match. */
export function rewriteJobServiceClient(source) {
  let out = source;
  for (const [name, pattern, replacement, expected] of REWRITES) {
    const found = out.match(pattern)?.length ?? 0;
    if (found !== expected)
      throw new Error(
        `lazy-mixins: expected ${expected} × ${name} in job_service_client.js, found ${found}; @google-cloud/aiplatform changed: update scripts/lazy_mixins.mjs`,
      );
    out = out.replace(pattern, replacement);
  }
  const left = /new this\._gaxModule\.(IamClient|LocationsClient)\(|\.lro\(lroOptions\)/g;
  const eager = (out.match(left) ?? []).length;
  if (eager !== 3)
    throw new Error(
      `lazy-mixins: job_service_client.js still makes a mixin client eagerly (${eager} constructions, expected the 3 lazy ones); update scripts/lazy_mixins.mjs`,
    );
  const roots = (out.match(/protoFilesRoot/g) ?? []).length;
  if (roots !== 16)
    throw new Error(
      `lazy-mixins: job_service_client.js reads its operations root ${roots} times, expected the 16 rewritten; update scripts/lazy_mixins.mjs`,
    );
  return `${HELPERS}${out}`;
}

/** The esbuild plugin; fails the build if the bundle imports the client and it was not rewritten. */
export function lazyMixinsPlugin() {
  return {
    name: "lazy-mixins",
    setup(build) {
      let rewritten = 0;
      build.onStart(() => {
        rewritten = 0;
      });
      build.onLoad({ filter: /job_service_client\.js$/ }, (args) => {
        if (!CLIENT.test(args.path)) return undefined;
        rewritten++;
        const contents = rewriteJobServiceClient(readFileSync(args.path, "utf8"));
        return { contents, loader: "js", resolveDir: dirname(args.path) };
      });
      build.onEnd((result) => {
        const importsClient = Object.keys(result.metafile?.inputs ?? {}).some((f) =>
          /aiplatform\/build\/src\/v1\/job_service_client\.js$/.test(f),
        );
        if (importsClient && rewritten === 0)
          throw new Error(
            "lazy-mixins: the bundle has job_service_client.js but the plugin never loaded it; update scripts/lazy_mixins.mjs",
          );
      });
    },
  };
}

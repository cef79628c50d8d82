// Lazy mixin clients inside the function bundles (issue 13), for the two gRPC clients the
// functions make. aiplatform's
// v1.JobServiceClient constructor also builds google-gax's IamClient, LocationsClient and an
// Operations client (each turns its own descriptor into gRPC definitions, and lro() makes a
// second GrpcClient with its own GoogleAuth) whether or not they are ever called. The product
// calls CreateCustomJob, ListCustomJobs and CancelCustomJob only, so this esbuild plugin
// rewrites job_service_client.js to build each of the three on its first use instead.
// The constructor also parses its descriptor a second time, into a protobufjs root it reads
// only to decode long-running operations (DeleteCustomJob and the like) and, over REST, to
// give the Operations client; that root is now made when an operation is first decoded.
// Pub/Sub's v1.PublisherClient does the same on a smaller scale: an IamClient (its own
// descriptor) that only the topic IAM methods use, and a second root read only for the byte
// length of a PubsubMessage, which google-gax's request bundling would use and Pub/Sub's
// publisher turns off (`isBundling: false`); both are now made on first use too.
//
// Invariants:
// - Every rewrite matches exactly the code it expects, the expected number of times, or the
//   build fails naming the rewrite: a new aiplatform or Pub/Sub release that changes a
//   constructor fails loudly instead of being bundled half-rewritten.
// - A mixin made late is made from a shallow copy of the constructor's `opts` taken where the
//   original made it (IamClient, LocationsClient and OperationsClient copy their options at
//   construction anyway), so a later mutation of the shared opts cannot change it.
// - `this.iamClient`, `this.locationsClient`, `this.operationsClient` stay readable and
//   assignable properties; reading one makes the client once (the Publisher has iamClient only). Each LongRunningDescriptor reads
//   `operationsClient` from the JobService client when an operation needs it.
// - close() closes only the mixins that were made (it does not make one to close it).
// - The second root is made once, from the same descriptor, the first time a type looked up
//   in it encodes or decodes (or, over REST, when JobService's Operations client is made);
//   every type the constructor looked up is looked up in it then, by the same name.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";

/** Prepended to each rewritten module: the helpers the rewrites call. */
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
  const type = () => { const t = root().lookup(name); if (!t) throw new Error("lazy-mixins: " + name + " is not in the client's descriptor"); return t; };
  return { decode: (...args) => type().decode(...args), encode: (...args) => type().encode(...args) };
}
function __vdLro(owner, Descriptor, decodeResponse, decodeMetadata) {
  const d = new Descriptor(undefined, decodeResponse, decodeMetadata);
  Object.defineProperty(d, "operationsClient", { get: () => owner.operationsClient, enumerable: true, configurable: true });
  return d;
}
`;

const lazyIam =
  '{ const o = Object.assign({}, opts); __vdLazy(this, "iamClient", () => new this._gaxModule.IamClient(this._gaxGrpc, o)); }';
const lazyRoot =
  "const protoFilesRoot = __vdOnce(() => this._gaxModule.protobufFromJSON(jsonProtos));";
const IAM = /this\.iamClient = new this\._gaxModule\.IamClient\(this\._gaxGrpc, opts\);/g;
const ROOT = /const protoFilesRoot = this\._gaxModule\.protobufFromJSON\(jsonProtos\);/g;

/**
 * Each rewritten client: its module (path pattern and file name), its package, its rewrites
 * ([name, pattern, replacement, expected count]; patterns exact, whitespace aside), and what
 * must be left after them (eager mixin constructions, reads of the second root).
 */
export const CLIENTS = {
  jobService: {
    path: /[\\/]@google-cloud[\\/]aiplatform[\\/]build[\\/]src[\\/]v1[\\/]job_service_client\.js$/,
    file: "job_service_client.js",
    pkg: "@google-cloud/aiplatform",
    rewrites: [
      ["IamClient in the constructor", IAM, lazyIam, 1],
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
      ["the operations root in the constructor", ROOT, lazyRoot, 1],
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
    ],
    left: { eager: 3, roots: 16 },
  },
  publisher: {
    path: /[\\/]@google-cloud[\\/]pubsub[\\/]build[\\/]src[\\/]v1[\\/]publisher_client\.js$/,
    file: "publisher_client.js",
    pkg: "@google-cloud/pubsub",
    rewrites: [
      ["IamClient in the constructor", IAM, lazyIam, 1],
      ["the second root in the constructor", ROOT, lazyRoot, 1],
      [
        "PubsubMessage looked up in the second root",
        /protoFilesRoot\.lookupType\('google\.pubsub\.v1\.PubsubMessage'\)/g,
        "__vdLazyType(protoFilesRoot, 'google.pubsub.v1.PubsubMessage')",
        1,
      ],
      [
        "close() of the IAM client",
        /this\.iamClient\.close\(\)\.catch\(/g,
        '(__vdMade(this, "iamClient") ? this.iamClient.close() : Promise.resolve()).catch(',
        1,
      ],
    ],
    left: { eager: 1, roots: 2 },
  },
};

/** The rewritten source of one client's module; throws if any rewrite does not match. */
export function rewriteClient(id, source) {
  const { file, pkg, rewrites, left } = CLIENTS[id];
  const fail = (what) => {
    throw new Error(
      `lazy-mixins: ${what} in ${file}; ${pkg} changed: update scripts/lazy_mixins.mjs`,
    );
  };
  let out = source;
  for (const [name, pattern, replacement, expected] of rewrites) {
    const found = out.match(pattern)?.length ?? 0;
    if (found !== expected) fail(`expected ${expected} × ${name}, found ${found}`);
    out = out.replace(pattern, replacement);
  }
  const eager = (
    out.match(/new this\._gaxModule\.(IamClient|LocationsClient)\(|\.lro\(lroOptions\)/g) ?? []
  ).length;
  if (eager !== left.eager)
    fail(
      `a mixin client is still made eagerly (${eager} constructions, expected the ${left.eager} lazy ones)`,
    );
  const roots = (out.match(/protoFilesRoot/g) ?? []).length;
  if (roots !== left.roots)
    fail(`the second root is read ${roots} times, expected the ${left.roots} rewritten`);
  return `${HELPERS}${out}`;
}

/** The rewritten source of job_service_client.js (what test/unit/lazy_mixins.test.ts checks). */
export function rewriteJobServiceClient(source) {
  return rewriteClient("jobService", source);
}

/** The esbuild plugin; fails the build if the bundle imports a client it did not rewrite. */
export function lazyMixinsPlugin() {
  return {
    name: "lazy-mixins",
    setup(build) {
      const rewritten = new Set();
      build.onStart(() => rewritten.clear());
      build.onLoad({ filter: /(job_service|publisher)_client\.js$/ }, (args) => {
        const id = Object.keys(CLIENTS).find((k) => CLIENTS[k].path.test(args.path));
        if (!id) return undefined;
        rewritten.add(id);
        const contents = rewriteClient(id, readFileSync(args.path, "utf8"));
        return { contents, loader: "js", resolveDir: dirname(args.path) };
      });
      build.onEnd((result) => {
        const inputs = Object.keys(result.metafile?.inputs ?? {});
        for (const [id, { path, file }] of Object.entries(CLIENTS))
          if (inputs.some((f) => path.test(f)) && !rewritten.has(id))
            throw new Error(
              `lazy-mixins: the bundle has ${file} but the plugin never loaded it; update scripts/lazy_mixins.mjs`,
            );
      });
    },
  };
}

// For the tests of the gRPC clients the build rewrites (scripts/lazy_mixins.mjs): a loopback
// gRPC server answering from the shipped protos, and one client module bundled with the
// build's own plugins (service-only descriptors, lazy mixins), beside the bundle's copies of
// grpc-js and google-gax, with a count of the protobufjs roots it makes from its descriptor.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { bundle } from "../../scripts/build.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as lazy from "../../scripts/lazy_mixins.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as descriptor from "../../scripts/service_descriptors.mjs";

const require = createRequire(import.meta.url);
const { lazyMixinsPlugin } = lazy as { lazyMixinsPlugin(): object };
const { serviceDescriptorsPlugin, writeServiceDescriptors } = descriptor as {
  serviceDescriptorsPlugin(dir: string): object;
  writeServiceDescriptors(dir: string): void;
};

export type Handler = (request: Record<string, unknown>) => Record<string, unknown>;

/**
 * Serves `handlers` (service → method → answer) on 127.0.0.1 from `definitions`; each call
 * is passed to `seen` first. A handler that throws answers INTERNAL naming the method.
 */
export function serveLoopback(
  definitions: Record<string, grpc.ServiceDefinition>,
  handlers: Record<string, Record<string, Handler>>,
  seen: (service: string, method: string, request: Record<string, unknown>) => void,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  for (const [service, methods] of Object.entries(handlers)) {
    const definition = definitions[service];
    assert.ok(definition, `${service} is in the shipped protos`);
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [method, handler] of Object.entries(methods))
      impl[method] = ((
        call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
        done: grpc.sendUnaryData<unknown>,
      ) => {
        seen(service, method, call.request);
        try {
          done(null, handler(call.request));
        } catch (err) {
          done({ code: grpc.status.INTERNAL, details: `test server ${method}: ${err}` });
        }
      }) as grpc.UntypedHandleCall;
    server.addService(definition, impl);
  }
  return new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve({ server, port }),
    ),
  );
}

export interface RewrittenClient<C> {
  dir: string;
  Client: C;
  /** The bundle's own grpc-js credentials (a channel of the bundle needs them). */
  credentials: typeof grpc.credentials;
  /** protobufjs roots the bundled client has made from a descriptor so far; resettable. */
  roots: { made: number };
}

/**
 * Bundles `exportName` of `clientModule` (a package path) as the build does, beside the
 * grpc-js and google-gax the client resolves, into a temporary directory (the caller
 * removes `dir`).
 */
export async function bundleRewritten<C>(
  clientModule: string,
  exportName: string,
): Promise<RewrittenClient<C>> {
  const dir = mkdtempSync(join(tmpdir(), "vd-rewritten-client-"));
  writeServiceDescriptors(dir);
  const clientPath = require.resolve(clientModule);
  const fromClient = createRequire(clientPath);
  const entry = [
    `exports.Client = require(${JSON.stringify(clientPath)}).${exportName};`,
    `exports.credentials = require(${JSON.stringify(fromClient.resolve("@grpc/grpc-js"))}).credentials;`,
    `exports.gax = require(${JSON.stringify(fromClient.resolve("google-gax"))});`,
  ];
  writeFileSync(join(dir, "entry.cjs"), `${entry.join("\n")}\n`);
  await bundle({
    entry: join(dir, "entry.cjs"),
    outfile: join(dir, "client.cjs"),
    plugins: [serviceDescriptorsPlugin(dir), lazyMixinsPlugin()],
  });
  const bundled = require(join(dir, "client.cjs"));
  const roots = { made: 0 };
  const gax = bundled.gax as { protobufFromJSON(...args: unknown[]): unknown };
  const fromJSON = gax.protobufFromJSON;
  gax.protobufFromJSON = (...args: unknown[]) => {
    roots.made++;
    return fromJSON(...args);
  };
  return { dir, Client: bundled.Client, credentials: bundled.credentials, roots };
}

/** Whether the lazy property `name` of `owner` holds a value (was made or assigned). */
export const made = (owner: object, name: string): boolean =>
  "value" in (Object.getOwnPropertyDescriptor(owner, name) ?? { get: 1 });

export interface ClientPair<T> {
  /** The bundled (rewritten) client and its roots count; set once `before` ran. */
  rewritten: RewrittenClient<new (opts: object) => T>;
  /** A client pointed at the loopback server: the bundled one, or the shipped one. */
  client(which: "bundled" | "shipped"): T;
}

/**
 * Registers `before`/`after` hooks for a test file: bundles `exportName` of `clientModule`,
 * loads the shipped one, and starts `startServer`; closes and removes them after.
 */
export function clientPair<T>(
  clientModule: string,
  exportName: string,
  startServer: () => Promise<{ server: grpc.Server; port: number }>,
): ClientPair<T> {
  type Ctor = new (opts: object) => T;
  let server: grpc.Server | undefined;
  let port = 0;
  let shipped: Ctor;
  const pair = { rewritten: undefined } as unknown as ClientPair<T>;
  before(async () => {
    pair.rewritten = await bundleRewritten<Ctor>(clientModule, exportName);
    shipped = require(clientModule)[exportName];
    ({ server, port } = await startServer());
  });
  after(() => {
    server?.forceShutdown();
    if (pair.rewritten) rmSync(pair.rewritten.dir, { recursive: true, force: true });
  });
  pair.client = (which) => {
    const bundled = which === "bundled";
    const Client = bundled ? pair.rewritten.Client : shipped;
    const credentials = bundled ? pair.rewritten.credentials : grpc.credentials;
    return new Client({ apiEndpoint: "127.0.0.1", port, sslCreds: credentials.createInsecure() });
  };
  return pair;
}

/**
 * Drives the shipped client, then the bundled one, with `drive` (which calls `between` after
 * the product's calls; for the bundled client, `checkBundled` runs there), and asserts both
 * gave the same answers and sent the same requests (`calls`, filled by the server). Returns
 * the shipped client's answers and requests, and the bundled client, for more checks; both
 * clients are closed.
 */
export async function sameAsShipped<T extends { close(): Promise<unknown> }, R>(
  pair: ClientPair<T>,
  calls: string[],
  drive: (client: T, between: () => void) => Promise<R>,
  checkBundled: (bundled: T) => void,
): Promise<{ want: R; wantCalls: string[]; bundled: T }> {
  const original = pair.client("shipped");
  const bundled = pair.client("bundled");
  try {
    calls.length = 0;
    const want = await drive(original, () => {});
    const wantCalls = [...calls];
    calls.length = 0;
    pair.rewritten.roots.made = 0;
    const got = await drive(bundled, () => checkBundled(bundled));
    assert.deepEqual(got, want);
    assert.deepEqual(calls, wantCalls, "the same requests reached the server");
    return { want, wantCalls, bundled };
  } finally {
    await Promise.all([original.close(), bundled.close()]);
  }
}

/**
 * gRPC service definitions from the shipped descriptors, loaded by the proto-loader the client
 * resolves: the client package's own (`packageProtos`, resolved from the client module) and
 * google-gax's named ones (iam_service, locations, ..., which its package exports do not list).
 * Also returns the package's descriptor, parsed.
 */
export function shippedDefinitions(
  clientModule: string,
  packageProtos: string,
  gaxProtos: string[],
): { definitions: Record<string, grpc.ServiceDefinition>; packageJson: object } {
  const fromClient = createRequire(require.resolve(clientModule));
  const protoLoader = fromClient("@grpc/proto-loader") as {
    fromJSON(json: object, options: object): Record<string, grpc.ServiceDefinition>;
  };
  const gaxDir = join(dirname(fromClient.resolve("google-gax")), "..", "..");
  const read = (file: string) => JSON.parse(readFileSync(file, "utf8"));
  const opts = { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true };
  const packageJson = read(fromClient.resolve(packageProtos));
  const files = gaxProtos.map((name) => read(join(gaxDir, "build", "protos", `${name}.json`)));
  const definitions = Object.assign(
    {},
    ...[packageJson, ...files].map((json) => protoLoader.fromJSON(json, opts)),
  );
  return { definitions, packageJson };
}

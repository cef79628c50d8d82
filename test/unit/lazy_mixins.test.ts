// The JobService client the function bundles carry (scripts/lazy_mixins.mjs) makes its IAM,
// Locations and Operations clients on first use, and otherwise behaves like the client
// @google-cloud/aiplatform ships: the client is bundled here with the build's own plugins and
// both clients are driven against one real gRPC server on loopback (the shipped protos, no
// stubbed module). Every call the product makes (through shared/vertex/jobs.ts) and every
// mixin (IAM, Locations, Operations, and a long-running DeleteCustomJob polled to its end)
// must give the same answer from both, and the rewritten client must not have made a mixin
// (or the second protobufjs root it decodes operations with) before it is needed, nor to
// close it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as lazy from "../../scripts/lazy_mixins.mjs";
import { type JobServiceClient, vertexJobs } from "../../shared/vertex/jobs.js";
import {
  clientPair,
  type Handler,
  made,
  sameAsShipped,
  serveLoopback,
  shippedDefinitions,
} from "../helpers/rewritten_client.js";

const require = createRequire(import.meta.url);
const CLIENT_MODULE = "@google-cloud/aiplatform/build/src/v1/job_service_client.js";
const fromClient = createRequire(require.resolve(CLIENT_MODULE));
const { rewriteJobServiceClient } = lazy as { rewriteJobServiceClient(source: string): string };

const PARENT = "projects/p/locations/us-central1";
const JOB = `${PARENT}/customJobs/42`;
const MIXINS = ["iamClient", "locationsClient", "operationsClient"] as const;
const calls: string[] = [];
const anyOf = (typeUrl: string, value: Buffer) => ({ typeUrl, value });

/** A loopback gRPC server for JobService and the three mixin services, from the shipped protos. */
function startServer(): Promise<{ server: grpc.Server; port: number }> {
  const { definitions: defs, packageJson: aiplatform } = shippedDefinitions(
    CLIENT_MODULE,
    "@google-cloud/aiplatform/build/protos/protos.json",
    ["iam_service", "locations"],
  );
  const pb = fromClient("protobufjs") as typeof import("protobufjs");
  const root = pb.Root.fromJSON(aiplatform);
  const metadata = root.lookupType("google.cloud.aiplatform.v1.DeleteOperationMetadata");
  const deleteMeta = anyOf(
    "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata",
    Buffer.from(metadata.encode({ genericMetadata: { partialFailures: [{ code: 3 }] } }).finish()),
  );
  const job = { name: JOB, displayName: "lazy", state: "JOB_STATE_QUEUED", labels: { a: "b" } };
  const handlers: Record<string, Record<string, Handler>> = {
    "google.cloud.aiplatform.v1.JobService": {
      CreateCustomJob: (r) => ({
        ...job,
        displayName: (r.customJob as { displayName: string }).displayName,
      }),
      ListCustomJobs: () => ({ customJobs: [job], nextPageToken: "t2" }),
      CancelCustomJob: () => ({}),
      GetCustomJob: () => job,
      DeleteCustomJob: () => ({ name: `${JOB}/operations/1`, done: false, metadata: deleteMeta }),
    },
    "google.longrunning.Operations": {
      GetOperation: (r) => ({
        name: r.name,
        done: true,
        metadata: deleteMeta,
        response: anyOf("type.googleapis.com/google.protobuf.Empty", Buffer.alloc(0)),
      }),
      ListOperations: () => ({ operations: [{ name: `${JOB}/operations/1`, done: true }] }),
      CancelOperation: () => ({}),
      DeleteOperation: () => ({}),
    },
    "google.iam.v1.IAMPolicy": {
      GetIamPolicy: () => ({ version: 3, etag: Buffer.from("e1") }),
      SetIamPolicy: (r) => r.policy as Record<string, unknown>,
      TestIamPermissions: (r) => ({ permissions: r.permissions }),
    },
    "google.cloud.location.Locations": {
      GetLocation: (r) => ({ name: r.name, locationId: "us-central1", displayName: "Iowa" }),
      ListLocations: () => ({ locations: [{ name: PARENT, locationId: "us-central1" }] }),
    },
  };
  return serveLoopback(defs, handlers, (service, method) => calls.push(`${service}/${method}`));
}

const pair = clientPair<JobServiceClient>(CLIENT_MODULE, "JobServiceClient", startServer);

/** The mixin methods of the client (the product never calls them; a user of the SDK may). */
interface Mixins {
  getLocation(r: object): Promise<unknown[]>;
  listLocationsAsync(r: object): AsyncIterable<unknown>;
  getIamPolicy(r: object): Promise<unknown[]>;
  setIamPolicy(r: object): Promise<unknown[]>;
  testIamPermissions(r: object): Promise<unknown[]>;
  getOperation(r: object): Promise<unknown[]>;
  listOperationsAsync(r: object): AsyncIterable<unknown>;
  cancelOperation(r: object): Promise<unknown>;
  deleteOperation(r: object): Promise<unknown>;
  deleteCustomJob(r: object): Promise<[{ promise(): Promise<unknown[]>; metadata: unknown }]>;
  checkDeleteCustomJobProgress(name: string): Promise<{ done: boolean; metadata: unknown }>;
}

async function all(items: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Every call the product makes, through shared/vertex/jobs.ts. */
async function productCalls(c: JobServiceClient) {
  const jobs = vertexJobs(() => c);
  return {
    create: await jobs.create(PARENT, { displayName: "lazy", jobSpec: {} }, () => 10_000),
    list: await jobs.listPage(PARENT, 'labels.launch-id="x"', 10, undefined),
    find: await jobs.findByLaunchId(PARENT, "x"),
    cancel: await jobs.cancel(JOB),
  };
}

/** Every mixin method, and a long-running DeleteCustomJob polled to its end. */
async function mixinCalls(c: Mixins) {
  const op = `${JOB}/operations/1`;
  const [operation] = await c.deleteCustomJob({ name: JOB });
  const [result, metadata] = await operation.promise();
  const progress = await c.checkDeleteCustomJobProgress(op);
  return {
    getLocation: (await c.getLocation({ name: PARENT }))[0],
    listLocations: await all(c.listLocationsAsync({ name: "projects/p" })),
    getIamPolicy: (await c.getIamPolicy({ resource: JOB }))[0],
    setIamPolicy: (await c.setIamPolicy({ resource: JOB, policy: { version: 1 } }))[0],
    testIamPermissions: (await c.testIamPermissions({ resource: JOB, permissions: ["p.a"] }))[0],
    getOperation: (await c.getOperation({ name: op }))[0],
    listOperations: await all(c.listOperationsAsync({ name: JOB })),
    cancelOperation: await c.cancelOperation({ name: op }),
    deleteOperation: await c.deleteOperation({ name: op }),
    deleteCustomJob: { result, metadata, first: operation.metadata },
    checkProgress: { done: progress.done, metadata: progress.metadata },
  };
}

/** The product's calls, then the mixins; the answers as plain JSON. */
async function drive(c: JobServiceClient, afterProductCalls: () => void) {
  const product = await productCalls(c);
  afterProductCalls();
  const mixins = await mixinCalls(c as unknown as Mixins);
  return JSON.parse(JSON.stringify({ product, mixins }));
}

describe("the bundled JobService client with lazy mixins", () => {
  it("answers every product call and every mixin like the shipped client", async () => {
    const { want, wantCalls, bundled } = await sameAsShipped(pair, calls, drive, (c) => {
      for (const m of MIXINS) assert.ok(!made(c, m), `${m} made by the product's calls`);
      assert.equal(pair.rewritten.roots.made, 0, "the operations root made by the product's calls");
    });
    assert.equal(
      pair.rewritten.roots.made,
      1,
      "the operations root made once, to decode an operation",
    );
    for (const m of MIXINS) assert.ok(made(bundled, m), `${m} made once it was called`);
    assert.ok(wantCalls.includes("google.longrunning.Operations/GetOperation"));
    assert.ok(wantCalls.includes("google.iam.v1.IAMPolicy/SetIamPolicy"));
    assert.ok(wantCalls.includes("google.cloud.location.Locations/ListLocations"));
    assert.equal(want.product.create.name, JOB);
    assert.equal(want.mixins.checkProgress.done, true);
  });

  it("makes no mixin at construction or to close it, and keeps them assignable", async () => {
    pair.rewritten.roots.made = 0;
    const c = pair.client("bundled");
    for (const m of MIXINS) assert.ok(!made(c, m), `${m} not made at construction`);
    await vertexJobs(() => c).cancel(JOB);
    await c.close();
    for (const m of MIXINS) assert.ok(!made(c, m), `${m} not made by close()`);
    assert.equal(
      pair.rewritten.roots.made,
      0,
      "the operations root not made at construction or by close()",
    );
    const d = pair.client("bundled") as unknown as Record<string, unknown>;
    d.iamClient = { close: async () => {} };
    assert.ok(made(d, "iamClient"), "an assigned mixin is kept");
  });

  it("fails the build naming the rewrite when the shipped constructor changes", () => {
    const source = readFileSync(require.resolve(CLIENT_MODULE), "utf8");
    assert.doesNotThrow(() => rewriteJobServiceClient(source));
    const changed = source.replace(
      "this.locationsClient = new",
      "this.locationsClient = await new",
    );
    assert.throws(
      () => rewriteJobServiceClient(changed),
      /LocationsClient in the constructor.*found 0.*update scripts\/lazy_mixins\.mjs/,
    );
    const extra = `${source}\nfunction f() { this.iamClient = new this._gaxModule.IamClient(this._gaxGrpc, opts); }`;
    assert.throws(
      () => rewriteJobServiceClient(extra),
      /expected 1 × IamClient in the constructor, found 2 in job_service_client\.js/,
    );
  });
});

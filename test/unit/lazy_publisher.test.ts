// The Pub/Sub PublisherClient the function bundles carry (scripts/lazy_mixins.mjs) makes its
// IAM client and its second protobufjs root (read only for a PubsubMessage's byte length) on
// first use, and otherwise behaves like the client @google-cloud/pubsub ships: both are
// bundled or loaded as shipped and driven against one real gRPC server on loopback (the
// shipped protos, no stubbed module). The product's calls (Publish as @google-cloud/pubsub's
// Publisher sends it, and GetTopic beside it), every IAM method and a publish bundled by
// google-gax must give the same answers and send the same requests, the byte length must
// agree, and neither is made before it is needed, nor to close the client.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as lazy from "../../scripts/lazy_mixins.mjs";
import {
  clientPair,
  type Handler,
  made,
  sameAsShipped,
  serveLoopback,
  shippedDefinitions,
} from "../helpers/rewritten_client.js";

const require = createRequire(import.meta.url);
const CLIENT_MODULE = "@google-cloud/pubsub/build/src/v1/publisher_client.js";
const { rewriteClient } = lazy as { rewriteClient(id: string, source: string): string };

const TOPIC = "projects/p/topics/launch-status";
const calls: string[] = [];

/** A loopback gRPC server for Publisher and IAMPolicy, from the shipped protos. */
function startServer(): Promise<{ server: grpc.Server; port: number }> {
  const { definitions: defs } = shippedDefinitions(CLIENT_MODULE, "../../protos/protos.json", [
    "iam_service",
  ]);
  const handlers: Record<string, Record<string, Handler>> = {
    "google.pubsub.v1.Publisher": {
      Publish: (r) => ({ messageIds: (r.messages as unknown[]).map((_, i) => `id-${i}`) }),
      GetTopic: (r) => ({ name: r.topic, labels: { a: "b" } }),
    },
    "google.iam.v1.IAMPolicy": {
      GetIamPolicy: () => ({ version: 3, etag: Buffer.from("e1") }),
      SetIamPolicy: (r) => r.policy as Record<string, unknown>,
      TestIamPermissions: (r) => ({ permissions: r.permissions }),
    },
  };
  return serveLoopback(defs, handlers, (service, method, request) =>
    calls.push(`${service}/${method} ${JSON.stringify(request)}`),
  );
}

interface Publisher {
  publish(r: object, options?: object): Promise<unknown[]>;
  getTopic(r: object): Promise<unknown[]>;
  getIamPolicy(r: object): Promise<unknown[]>;
  setIamPolicy(r: object): Promise<unknown[]>;
  testIamPermissions(r: object): Promise<unknown[]>;
  descriptors: { batching: { publish: { byteLengthFunction(message: object): number } } };
  close(): Promise<void>;
}

const pair = clientPair<Publisher>(CLIENT_MODULE, "PublisherClient", startServer);

const MESSAGE = {
  data: Buffer.from(JSON.stringify({ state: "submitted", run_id: "r1" })),
  attributes: { launch_id: "l1", state: "submitted" },
  orderingKey: "l1",
};

/** How @google-cloud/pubsub's Publisher calls publish (its own batching, not google-gax's). */
const AS_PUBSUB = { isBundling: false };

/**
 * The product's calls, a check between, then IAM, a publish bundled by google-gax (its
 * default for a bare client) and the byte length; the answers as JSON.
 */
async function drive(c: Publisher, between: () => void) {
  const product = {
    publish: (await c.publish({ topic: TOPIC, messages: [MESSAGE, MESSAGE] }, AS_PUBSUB))[0],
    getTopic: (await c.getTopic({ topic: TOPIC }))[0],
  };
  between();
  const rest = {
    get: (await c.getIamPolicy({ resource: TOPIC }))[0],
    set: (await c.setIamPolicy({ resource: TOPIC, policy: { version: 1 } }))[0],
    test: (await c.testIamPermissions({ resource: TOPIC, permissions: ["pubsub.topics.get"] }))[0],
    bundled: (await c.publish({ topic: TOPIC, messages: [MESSAGE] }))[0],
    bytes: c.descriptors.batching.publish.byteLengthFunction(MESSAGE),
  };
  return JSON.parse(JSON.stringify({ product, rest }));
}

describe("the bundled Pub/Sub PublisherClient with a lazy IAM client and second root", () => {
  it("answers the product's calls, every IAM method and the byte length like the shipped client", async () => {
    const { want, wantCalls, bundled } = await sameAsShipped(pair, calls, drive, (c) => {
      assert.ok(!made(c, "iamClient"), "iamClient made by the product's calls");
      assert.equal(pair.rewritten.roots.made, 0, "the second root made by the product's calls");
    });
    assert.ok(made(bundled, "iamClient"), "iamClient made once it was called");
    assert.equal(pair.rewritten.roots.made, 1, "the second root made once, for a byte length");
    assert.deepEqual(want.product.publish.messageIds, ["id-0", "id-1"]);
    assert.deepEqual(want.rest.bundled.messageIds, ["id-0"]);
    assert.ok(want.rest.bytes > 40, "a PubsubMessage has a byte length");
    assert.ok(wantCalls.some((c) => c.startsWith("google.iam.v1.IAMPolicy/SetIamPolicy")));
  });

  it("makes neither at construction or to close it", async () => {
    pair.rewritten.roots.made = 0;
    const c = pair.client("bundled");
    assert.ok(!made(c, "iamClient"), "iamClient not made at construction");
    await c.publish({ topic: TOPIC, messages: [MESSAGE] }, AS_PUBSUB);
    await c.close();
    assert.ok(!made(c, "iamClient"), "iamClient not made by close()");
    assert.equal(
      pair.rewritten.roots.made,
      0,
      "the second root not made at construction or by close()",
    );
  });

  it("fails the build naming the rewrite when the shipped constructor changes", () => {
    const source = readFileSync(require.resolve(CLIENT_MODULE), "utf8");
    assert.doesNotThrow(() => rewriteClient("publisher", source));
    const changed = source.replace(
      "protoFilesRoot.lookupType('google.pubsub.v1.PubsubMessage')",
      "protoFilesRoot.lookupType('google.pubsub.v1.Message')",
    );
    assert.throws(
      () => rewriteClient("publisher", changed),
      /PubsubMessage looked up in the second root, found 0 in publisher_client\.js; @google-cloud\/pubsub changed/,
    );
  });
});

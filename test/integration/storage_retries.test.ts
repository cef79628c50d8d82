// The Storage SDK's own retries survive the product's marker writes. In
// @google-cloud/storage 7.22 an unconditional file.save() (a marker) turns
// retryOptions.autoRetry off on its Storage object for good; the product writes markers
// through a client of their own, so record writes keep their retries.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PubSub } from "@google-cloud/pubsub";
import { type GcsEmulator, startGcsEmulator } from "../../local/gcs/index.js";
import { storageClient } from "../../shared/clients.js";
import { dispatchDeps } from "../../shared/dispatch/deps.js";
import { freshRecord } from "../../shared/launch/record.js";
import { parseOptions } from "../../shared/options.js";

process.env.METADATA_SERVER_DETECTION = "none";

describe("Storage retries after a marker write", () => {
  let gcs: GcsEmulator;
  before(async () => {
    gcs = await startGcsEmulator({ port: 0 });
  });
  after(async () => {
    await gcs?.close();
  });

  const setUp = async (bucket: string) => {
    const options = parseOptions({
      GOOGLE_CLOUD_PROJECT: "local-project",
      VERTEX_REGION: "us-central1",
      STATE_BUCKET: bucket,
      QUEUE_CONFIG_DIR: "/nonexistent",
      GCS_ENDPOINT: gcs.url,
    });
    const storage = storageClient(options);
    await storage.createBucket(bucket, { location: "us-central1" });
    const deps = dispatchDeps(options, {
      storage,
      jobService: () => {
        throw new Error("no Vertex in this test");
      },
      // Never used: nothing here publishes.
      pubsub: new PubSub({
        projectId: "local-project",
        apiEndpoint: "127.0.0.1:1",
        emulatorMode: true,
      }),
      close: async () => {},
    });
    return { storage, deps };
  };
  const record = (runId: string) =>
    freshRecord({
      launchId: `id-${runId}`,
      idempotencyKey: `k-${runId}`,
      queue: "q",
      entity: "e",
      project: "p",
      runId,
      state: "dispatching",
      now: new Date(),
    });

  it("a record write after a marker write is still retried on a 503", async () => {
    const { storage, deps } = await setUp("state-retry-503");
    await deps.active.put(record("m1"));
    assert.equal(storage.retryOptions.autoRetry, true, "the record client still retries");
    gcs.control.injectFault({
      operation: "objects.insert",
      bucket: "state-retry-503",
      status: 503,
      count: 1,
    });
    const created = await deps.store.create(record("r1"));
    assert.notEqual(created, "exists", "the SDK retried the 503 and the create went through");
  });

  it("a record write whose answer was lost after a marker write is retried and recognised as ours", async () => {
    const { deps } = await setUp("state-retry-lost");
    await deps.active.put(record("m2"));
    gcs.control.injectFault({
      operation: "objects.insert",
      bucket: "state-retry-lost",
      status: 503,
      when: "after",
      count: 1,
    });
    const created = await deps.store.create(record("r2"));
    assert.notEqual(created, "exists", "the retry met its own write: not a conflict");
  });

  it("a marker write is itself retried on a 503 (it is idempotent)", async () => {
    const { deps } = await setUp("state-retry-marker");
    gcs.control.injectFault({
      operation: "objects.insert",
      bucket: "state-retry-marker",
      status: 503,
      count: 2,
    });
    await deps.active.put(record("m3"));
    const listed = await deps.active.list();
    assert.deepEqual(
      listed.map((e) => e.run_id),
      ["m3"],
    );
  });
});

// Launch records over the real Storage SDK against the GCS emulator: create-only,
// generation-matched updates, and a write whose answer was lost is not mistaken for a
// conflict (the SDK retries it and meets its own write).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Storage } from "@google-cloud/storage";
import { type GcsEmulator, startGcsEmulator } from "../../local/gcs/index.js";
import { freshRecord } from "../../shared/launch/record.js";
import type { LaunchRecord } from "../../shared/schemas/launch_record.js";
import { type LaunchStore, launchStore } from "../../shared/storage/launch_store.js";

function record(runId: string, state: LaunchRecord["state"] = "dispatching"): LaunchRecord {
  return freshRecord({
    launchId: `id-${runId}`,
    idempotencyKey: `k-${runId}`,
    queue: "q",
    entity: "e",
    project: "p",
    runId,
    state,
    now: new Date(),
  });
}

describe("launch store", () => {
  let gcs: GcsEmulator;
  let store: LaunchStore;
  before(async () => {
    gcs = await startGcsEmulator({ port: 0 });
    const storage = new Storage({ projectId: "p", apiEndpoint: gcs.url });
    await storage.createBucket("state", { location: "us-central1" });
    store = launchStore(storage.bucket("state"));
  });
  after(async () => {
    await gcs?.close();
  });

  it("creates once, then answers exists", async () => {
    const first = await store.create(record("a"));
    assert.notEqual(first, "exists");
    assert.equal(await store.create(record("a")), "exists");
  });

  it("updates only at the generation read", async () => {
    const created = await store.create(record("b"));
    assert.ok(created !== "exists");
    const updated = await store.update(record("b", "submitted"), created.generation);
    assert.ok(updated !== "conflict");
    assert.equal(await store.update(record("b", "failed"), created.generation), "conflict");
    assert.equal((await store.read("launches/q/b.json"))?.record.state, "submitted");
  });

  it("takes a create whose answer was lost (503 after the write) as its own, not as exists", async () => {
    gcs.control.injectFault({ operation: "objects.insert", status: 503, when: "after", count: 1 });
    const created = await store.create(record("c"));
    assert.notEqual(created, "exists", "the SDK's retry met our own write");
    const again = await store.read("launches/q/c.json");
    assert.ok(created !== "exists" && again && again.generation === created.generation);
  });

  it("takes an update whose answer was lost as its own, not as a conflict", async () => {
    const created = await store.create(record("d"));
    assert.ok(created !== "exists");
    gcs.control.injectFault({ operation: "objects.insert", status: 503, when: "after", count: 1 });
    const updated = await store.update(record("d", "running"), created.generation);
    assert.notEqual(updated, "conflict");
    assert.equal((await store.read("launches/q/d.json"))?.record.state, "running");
  });

  it("never reads an existing record as missing while another writer replaces it", async () => {
    const created = await store.create(record("e"));
    assert.ok(created !== "exists");
    let generation = created.generation;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 40; i++) {
        const next = await store.update(record("e", i % 2 ? "running" : "starting"), generation);
        assert.ok(next !== "conflict");
        generation = next.generation;
        await new Promise((r) => setTimeout(r, 5));
      }
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const read = await store.read("launches/q/e.json");
      assert.notEqual(read, null, "a record being rewritten is not missing");
      reads++;
    }
    await writer;
    assert.ok(reads > 0);
  });
});

// max_jobs admission (issue 14) against the GCS emulator over the official SDK: one
// create-only object per slot, counted by a listing. Several "instances" (each its own
// Storage client and Slots) acquire at once; exactness, idempotency, release, a lowered
// max_jobs, a lost answer, and what each holding writes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Storage } from "@google-cloud/storage";
import { type GcsEmulator, startGcsEmulator } from "../../local/gcs/index.js";
import { DispatchError } from "../../shared/errors.js";
import { bucketSlots, type Slots } from "../../shared/slots.js";

process.env.METADATA_SERVER_DETECTION = "none";

const BUCKET = "slots-state";
const INSTANCES = 5;

describe("max_jobs slots: one create-only object per slot", () => {
  let gcs: GcsEmulator;
  let instances: Slots[];
  let storage: Storage;
  const slotWrites = (queue: string) =>
    gcs.control
      .writeRates(Number.MAX_SAFE_INTEGER)
      .busiest.filter((o) => o.object.startsWith(`${BUCKET}/slots/${queue}/`));
  /** `n` acquirers spread over the instances, all at once; the launch ids that got a slot. */
  const burst = async (queue: string, n: number, max: number, prefix = "l") => {
    const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const got = await Promise.all(
      ids.map((id, i) => (instances[i % INSTANCES] as Slots).acquire(queue, id, max)),
    );
    return ids.filter((_, i) => got[i]);
  };
  const one = () => instances[0] as Slots;

  before(async () => {
    gcs = await startGcsEmulator({ port: 0 });
    storage = new Storage({ projectId: "p", apiEndpoint: gcs.url });
    await storage.createBucket(BUCKET, { location: "us-central1" });
    instances = Array.from({ length: INSTANCES }, () =>
      bucketSlots(new Storage({ projectId: "p", apiEndpoint: gcs.url }).bucket(BUCKET)),
    );
  });
  after(async () => {
    await gcs?.close();
  });

  it("50 concurrent acquirers from 5 instances for max 3: exactly 3 get a slot, each slot object written once", async () => {
    gcs.control.clearRequests();
    const winners = await burst("q50", 50, 3);
    assert.equal(winners.length, 3, `winners: ${winners.join(",")}`);
    assert.deepEqual((await one().holders("q50")).sort(), [...winners].sort());
    const writes = slotWrites("q50");
    assert.deepEqual(
      writes.map((w) => w.object.split("/").pop()).sort(),
      ["0", "1", "2"],
      "slot objects are indices 0..max-1",
    );
    for (const w of writes) assert.equal(w.total, 1, `${w.object} written ${w.total} times`);
  });

  it("acquire and release are idempotent and never touch another launch's slot", async () => {
    const winners = await burst("idem", 10, 2);
    const [a, b] = winners as [string, string];
    gcs.control.clearRequests();
    assert.equal(
      await one().acquire("idem", a, 2),
      true,
      "a holder acquiring again keeps its slot",
    );
    assert.equal(slotWrites("idem").length, 0, "and writes nothing");
    await one().release("idem", "l9-never-held");
    await one().release("idem", a);
    await instances[1]?.release("idem", a);
    assert.deepEqual(await one().holders("idem"), [b], "only a's slot went");
    assert.equal(slotWrites("idem")[0]?.total, 1, "one delete");
  });

  it("a released slot is taken again by exactly one of 20 concurrent acquirers", async () => {
    const first = await burst("again", 3, 3, "first");
    assert.equal(first.length, 3);
    await instances[2]?.release("again", first[1] as string);
    const second = await burst("again", 20, 3, "second");
    assert.equal(second.length, 1, `second round: ${second.join(",")}`);
    assert.equal((await one().holders("again")).length, 3);
    assert.equal(await one().acquire("again", "late", 3), false, "full again");
  });

  it("a lowered max_jobs stays exact: holders left above it are counted, never overshot", async () => {
    for (let round = 0; round < 4; round++) {
      const queue = `lowered${round}`;
      assert.equal((await burst(queue, 5, 5, "old")).length, 5);
      // max_jobs goes 5 -> 3; the holders of indices 0, 1, 2 finish, those of 3 and 4 still run.
      for (const slot of await listSlots(storage, queue)) {
        if (slot.index < 3) await one().release(queue, slot.launchId);
      }
      assert.equal(await one().acquire(queue, "solo-check", 2), false, "2 held, max 2: full");
      const got = await burst(queue, 20, 3, "new");
      const holders = await one().holders(queue);
      assert.ok(got.length <= 1, `round ${round}: ${got.length} admitted over 2 old holders`);
      assert.ok(holders.length <= 3, `round ${round}: ${holders.length} holders for max 3`);
      assert.deepEqual(
        holders.filter((h) => h.startsWith("new")).sort(),
        [...got].sort(),
        "a launch told false holds nothing",
      );
      // Every slot given back by an acquirer that found the queue over max is free again.
      if (got.length === 0) assert.equal(await one().acquire(queue, "after", 3), true);
    }
  });

  it("a repeated acquire gives the slot back when the queue is over a lowered max", async () => {
    assert.equal((await burst("shrink", 3, 3, "s")).length, 3);
    assert.equal(await one().acquire("shrink", "s0", 2), false, "3 held, max now 2");
    assert.deepEqual((await one().holders("shrink")).sort(), ["s1", "s2"]);
  });

  it("a create whose answer was lost is recognised as the launch's own slot", async () => {
    gcs.control.injectFault({ operation: "objects.insert", status: 503, when: "after", count: 1 });
    assert.equal(await one().acquire("lost", "only", 1), true);
    assert.deepEqual(await one().holders("lost"), ["only"]);
    assert.equal(await one().acquire("lost", "other", 1), false);
  });

  it("ignores an old slots/{queue}.json (the one-object design) and counts slot objects only", async () => {
    await storage
      .bucket(BUCKET)
      .file("slots/legacy.json")
      .save(JSON.stringify({ holders: ["x", "y"] }), {
        resumable: false,
        preconditionOpts: { ifGenerationMatch: 0 },
      });
    assert.equal(await one().acquire("legacy", "fresh", 1), true);
    assert.deepEqual(await one().holders("legacy"), ["fresh"]);
  });

  it("a listing Cloud Storage refuses now is a retryable error naming the queue", async () => {
    // Without the SDK's own retries (they would only make the test slow).
    const noRetry = new Storage({
      projectId: "p",
      apiEndpoint: gcs.url,
      retryOptions: { autoRetry: false },
    });
    gcs.control.injectFault({ operation: "objects.list", status: 503, count: 1 });
    await assert.rejects(
      bucketSlots(noRetry.bucket(BUCKET)).acquire("down", "x", 1),
      (err: unknown) => {
        assert.ok(err instanceof DispatchError, String(err));
        assert.equal(err.kind, "storage_unavailable");
        assert.equal(err.retryable, true);
        assert.match(err.message, /listing slots of queue down/);
        return true;
      },
    );
    gcs.control.clearFaults();
  });
});

/** The slot objects of a queue, read directly (index and holder). */
async function listSlots(storage: Storage, queue: string) {
  const [files] = await storage.bucket(BUCKET).getFiles({ prefix: `slots/${queue}/` });
  return files.map((f) => ({
    index: Number(f.name.split("/").pop()),
    launchId: String(f.metadata.metadata?.launch_id),
  }));
}

// A burst of 100 launches on a max_jobs queue through the real dispatch and poll cores
// (over the official SDKs, against the GCS and Vertex emulators): exactly max_jobs jobs at
// once, the rest held and drained as jobs end, and no slot object written in a burst.
//
// The bound asserted, from the GCS emulator's write counter: during the burst every object
// under slots/ is written at most ONCE in total (so at most once in any second, whatever the
// machine's speed); in each later poll round (the running jobs end, one tick) at most TWICE
// (given back by the job that ended, taken by a held launch). Totals per phase are used, not
// wall-clock seconds, so the bound cannot pass or fail by how fast this machine runs. In
// production a round is a poll tick, one a minute. The one-object design fails the burst
// bound: its slots/{queue}.json takes one write per admission.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DispatchError } from "../../shared/errors.js";
import { peakConcurrent } from "../chaos/verify.js";
import { type Core, coreMessage, coreQueue, startCore } from "../helpers/core.js";

const MAX = 10;
const LAUNCHES = 100;
const QUEUE = "burst";

describe(`a burst of ${LAUNCHES} launches on a max_jobs: ${MAX} queue`, () => {
  let core: Core;
  const queueJobs = () =>
    core.vertex.control.jobs().filter((j) => j.labels["launch-queue"] === QUEUE);
  const alive = () => queueJobs().filter((j) => !/SUCCEEDED|FAILED|CANCELLED/.test(j.state));
  /** Writes to each object under slots/ since the counter was last cleared. */
  const slotWrites = () =>
    core.gcs.control
      .writeRates(Number.MAX_SAFE_INTEGER)
      .busiest.filter((o) => o.object.startsWith("state/slots/"));

  before(async () => {
    // A create deadline well above what 100 launches at once take on a loaded machine: this
    // test is about admission; an ambiguous create (deadline passed) is the lifecycle's own
    // tests' subject (and see the lead's report on a late create after the deadline).
    core = await startCore({ env: { CREATE_DEADLINE_SECONDS: "30", LEASE_SECONDS: "40" } });
    core.writeQueue(QUEUE, coreQueue(`max_jobs: ${MAX}`));
  });
  after(async () => {
    await core?.close();
  });

  it(`admits exactly ${MAX} at once, writes no slot object twice, and drains the rest ${MAX} at a time`, async () => {
    core.gcs.control.clearRequests();
    const runIds = Array.from({ length: LAUNCHES }, (_, i) => `b${i}`);
    await Promise.all(runIds.map((r) => deliverUntilAcked(core, coreMessage(QUEUE, r), `m-${r}`)));
    const states = await Promise.all(
      runIds.map(async (r) => String((await core.record(QUEUE, r))?.state)),
    );
    assert.equal(states.filter((s) => s === "submitted").length, MAX, states.join(","));
    assert.equal(states.filter((s) => s === "queued").length, LAUNCHES - MAX);
    assert.equal(queueJobs().length, MAX, "jobs in Vertex after the burst");
    const burst = slotWrites();
    const figures = [`burst: ${burst.length} slot objects, ${sum(burst)} writes`];
    for (const w of burst)
      assert.ok(w.total <= 1, `${w.object} written ${w.total} times in the burst`);
    assert.equal(burst.length, MAX, "one slot object per admitted launch");
    assert.ok(burst.every((w) => /^state\/slots\/burst\/\d+$/.test(w.object)));

    let peakPerRound = 0;
    for (let round = 1; alive().length > 0; round++) {
      assert.ok(
        round <= 2 * (LAUNCHES / MAX),
        `still ${alive().length} jobs alive after ${round} rounds`,
      );
      for (const j of alive())
        core.vertex.control.setOutcome({ job: j.name, outcome: "succeed", immediate: true });
      core.gcs.control.clearRequests();
      await core.tick();
      assert.ok(alive().length <= MAX, `round ${round}: ${alive().length} jobs alive`);
      for (const w of slotWrites()) {
        assert.ok(w.total <= 2, `round ${round}: ${w.object} written ${w.total} times`);
        peakPerRound = Math.max(peakPerRound, w.total);
      }
    }
    figures.push(`rounds: at most ${peakPerRound} writes per slot object per round`);
    process.stderr.write(`admission burst: ${figures.join("; ")}\n`);

    assert.equal(queueJobs().length, LAUNCHES, "one job per launch");
    assert.equal(new Set(queueJobs().map((j) => j.labels["wandb-run-id"])).size, LAUNCHES);
    for (const r of runIds) assert.equal((await core.record(QUEUE, r))?.state, "finished", r);
    const timed = queueJobs().map((j) => {
      const full = core.vertex.control.job(j.name);
      return { ...j, createTime: String(full.createTime), endTime: String(full.endTime) };
    });
    assert.ok(
      peakConcurrent(timed) <= MAX,
      `peak ${peakConcurrent(timed)} jobs at once (Vertex times)`,
    );
    assert.deepEqual(await core.deps.slots.holders(QUEUE), [], "every slot given back");
  });
});

/**
 * One message delivered as Pub/Sub would: a retryable failure (a create deadline passed on a
 * loaded machine, a lease still held) is redelivered, the same message id, after a pause.
 */
async function deliverUntilAcked(core: Core, body: Record<string, unknown>, messageId: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await core.deliver(body, messageId);
    } catch (err) {
      if (!(err instanceof DispatchError && err.retryable) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const sum = (writes: Array<{ total: number }>) => writes.reduce((a, w) => a + w.total, 0);

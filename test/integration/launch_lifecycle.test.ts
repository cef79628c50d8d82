// The launch lifecycle under faults (shared/launch/table.ts): a claim that fails at any of
// its writes never strands a launch, one transition is one event, and a rejection whose
// clean-up failed is settled, never reopened. The core in-process, over the official
// SDKs against the GCS and Vertex emulators.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { DispatchError } from "../../shared/errors.js";
import { WATCHED_STATES } from "../../shared/schemas/launch_record.js";
import { type Core, coreMessage, coreQueue, startCore } from "../helpers/core.js";
import { type Failure, failingAfterPublish, failingAt, type Seam } from "../helpers/faults.js";

const LEASE = 6; // LEASE_SECONDS of the core

describe("launch lifecycle", () => {
  let core: Core;
  const statesOf = (runId: string) =>
    core.events.filter((e) => e.run_id === runId).map((e) => e.state);
  const jobsOf = (runId: string) =>
    core.vertex.control.jobs().filter((j) => j.labels["wandb-run-id"] === runId);
  const markerOf = async (runId: string) =>
    (await core.deps.active.list()).find((e) => e.run_id === runId);
  const busy = (e: DispatchError) => e.kind === "launch_busy";

  beforeEach(async () => {
    core = await startCore();
    core.writeQueue("q", coreQueue());
  });
  afterEach(async () => {
    await core?.close();
  });

  /**
   * After a first delivery failed: the poll alone (the message was dead-lettered) finishes
   * the launch, or nothing of it is left; then a redelivery and more ticks change nothing
   * more. Either way exactly one job and one `submitted`.
   */
  async function endsWithOneJob(queue: string, runId: string, messageId: string) {
    await core.tick(LEASE + 1);
    await core.tick(LEASE + 1);
    const afterPoll = await core.record(queue, runId);
    if (afterPoll === undefined || afterPoll.state === "rejected") {
      // Nothing was claimed: no marker left behind, no job, and the message is still there
      // (in the dead-letter topic) to be delivered again.
      assert.equal(await markerOf(runId), undefined, "no marker without a launch to finish");
      assert.equal(jobsOf(runId).length, 0);
    } else {
      assert.ok(afterPoll.job_name, `the poll alone finished it (it is ${afterPoll.state})`);
      assert.equal(jobsOf(runId).length, 1, `jobs of ${runId} after the poll`);
    }
    await core.later(LEASE + 1, () => core.deliver(coreMessage(queue, runId), messageId));
    await core.tick(LEASE + 1);
    const rec = await core.record(queue, runId);
    assert.ok(
      rec?.job_name && WATCHED_STATES.has(rec.state),
      `watched with a job, not ${rec?.state}`,
    );
    assert.equal(jobsOf(runId).length, 1, `jobs of ${runId}`);
    assert.deepEqual(
      statesOf(runId).filter((s) => s === "submitted"),
      ["submitted"],
    );
  }

  const failures: Failure[] = ["refused", "lost"];
  for (const seam of ["active.create", "store.create"] as Seam[]) {
    for (const how of failures) {
      it(`a new launch whose claim write ${seam} is ${how} ends with exactly one job`, async () => {
        const runId = `c-${seam.replace(".", "-")}-${how}`.toLowerCase();
        const faulty = failingAt(core.deps, seam, how);
        await assert.rejects(core.deliver(coreMessage("q", runId), `m-${runId}`, faulty));
        await endsWithOneJob("q", runId, `m-${runId}`);
      });
    }
  }

  for (const seam of ["active.put", "store.update"] as Seam[]) {
    for (const how of failures) {
      it(`a takeover whose write ${seam} is ${how} ends with exactly one job`, async () => {
        const runId = `t-${seam.replace(".", "-")}-${how}`.toLowerCase();
        core.vertex.control.addFault({
          method: "CreateCustomJob",
          code: "RESOURCE_EXHAUSTED",
          count: 1,
        });
        await assert.rejects(core.deliver(coreMessage("q", runId), `m-${runId}`));
        assert.equal((await core.record("q", runId))?.lease, null, "released: free to take over");
        const faulty = failingAt(core.deps, seam, how);
        await assert.rejects(core.deliver(coreMessage("q", runId), `m-${runId}`, faulty));
        await endsWithOneJob("q", runId, `m-${runId}`);
      });
    }
  }

  for (const seam of ["active.put", "store.update"] as Seam[]) {
    for (const how of failures) {
      it(`reopening a rejected launch whose write ${seam} is ${how} ends with exactly one job`, async () => {
        const runId = `r-${seam.replace(".", "-")}-${how}`.toLowerCase();
        const queue = `later-${runId}`;
        assert.equal(
          (await core.deliver(coreMessage(queue, runId), `m1-${runId}`)).state,
          "rejected",
        );
        core.writeQueue(queue, coreQueue()); // fixed: sent again as a new message
        const faulty = failingAt(core.deps, seam, how);
        await assert.rejects(core.deliver(coreMessage(queue, runId), `m2-${runId}`, faulty));
        await endsWithOneJob(queue, runId, `m2-${runId}`);
        assert.deepEqual(statesOf(runId).slice(0, 2), ["rejected", "submitted"]);
      });
    }
  }

  it("a delivery that finds the lease held puts back a marker the holder never wrote", async () => {
    core.vertex.control.addFault({
      method: "CreateCustomJob",
      code: "DEADLINE_EXCEEDED",
      when: "after",
      count: 1,
    });
    await assert.rejects(core.deliver(coreMessage("q", "held1"), "m-held1"));
    await core.deps.active.remove("q", "held1"); // as if the holder died before writing it
    await assert.rejects(core.deliver(coreMessage("q", "held1"), "m-held1"), busy);
    assert.equal((await markerOf("held1"))?.state, "dispatching", "the busy delivery repaired it");
    await core.tick(LEASE + 1); // every delivery from here on failed: the poll finishes it
    assert.equal((await core.record("q", "held1"))?.state, "submitted");
    assert.equal(jobsOf("held1").length, 1);
  });

  it("a holder whose lease renewal landed late sends no create; the next holder makes the one job", async () => {
    // The renewal write answers only after the lease it wrote has nearly run out (GCS
    // retries under faults, a stalled process): the poll may take the launch over any
    // moment now, so a create sent now could make a second job (the chaos run saw two).
    let creates = 0;
    const late = {
      ...core.deps,
      store: {
        ...core.deps.store,
        update: async (...args: Parameters<typeof core.deps.store.update>) => {
          const out = await core.deps.store.update(...args);
          if (args[0].lease && args[0].state === "dispatching") core.skew(LEASE - 1);
          return out;
        },
      },
      jobs: {
        ...core.deps.jobs,
        create: (...args: Parameters<typeof core.deps.jobs.create>) => {
          creates++;
          return core.deps.jobs.create(...args);
        },
      },
    };
    await assert.rejects(core.deliver(coreMessage("q", "late1"), "m-late1", late), busy);
    core.skew(-(LEASE - 1));
    assert.equal(creates, 1, "the create was called (and refused to send)");
    assert.equal(jobsOf("late1").length, 0, "no job from a holder whose lease ran short");
    const next = await core.deliver(coreMessage("q", "late1"), "m-late1");
    assert.equal(next.state, "submitted");
    assert.equal(jobsOf("late1").length, 1, "jobs of late1");
  });

  it("a holder that outlived its lease publishes no second submitted", async () => {
    let created: () => void = () => {};
    const hasCreated = new Promise<void>((r) => {
      created = r;
    });
    let resume: () => void = () => {};
    const gate = new Promise<void>((r) => {
      resume = r;
    });
    const slow = {
      ...core.deps,
      jobs: {
        ...core.deps.jobs,
        create: async (...args: Parameters<typeof core.deps.jobs.create>) => {
          const job = await core.deps.jobs.create(...args);
          created();
          await gate; // the holder stalls past its lease after the job exists
          return job;
        },
      },
    };
    const first = core.deliver(coreMessage("q", "stall1"), "m-stall1", slow);
    await hasCreated;
    const second = await core.later(LEASE + 5, () =>
      core.deliver(coreMessage("q", "stall1"), "m-stall1"),
    );
    assert.equal(second.state, "submitted", "the second holder found the job by its label");
    resume();
    await assert.rejects(first, busy);
    assert.deepEqual(statesOf("stall1"), ["submitted"]);
    assert.equal(jobsOf("stall1").length, 1);
  });

  it("an event whose clear failed after its publish is not published again", async () => {
    await core.launch(coreMessage("q", "clear1"));
    const job = String((await core.record("q", "clear1"))?.job_name);
    core.vertex.control.advance({ job, steps: 2 }); // RUNNING
    const summary = await core.tick(0, failingAfterPublish(core.deps, "store.update", "refused"));
    assert.equal(summary.errors, 0, "the clear was retried");
    assert.equal((await core.record("q", "clear1"))?.outbox, null);
    await core.tick(31);
    await core.tick(31);
    assert.deepEqual(statesOf("clear1"), ["submitted", "running"]);
  });

  it("an event whose clear lost its answer is not published again", async () => {
    await core.launch(coreMessage("q", "clear2"));
    const job = String((await core.record("q", "clear2"))?.job_name);
    core.vertex.control.advance({ job, steps: 2 });
    await core.tick(0, failingAfterPublish(core.deps, "store.update", "lost"));
    await core.tick(31);
    assert.deepEqual(statesOf("clear2"), ["submitted", "running"]);
    assert.equal((await core.record("q", "clear2"))?.outbox, null);
  });

  it("a rejection whose slot release failed is settled by its redelivery: one rejected, nothing reopened", async () => {
    core.writeQueue("bad", "spec: 5\n");
    const faulty = failingAt(core.deps, "slots.release", "refused");
    await assert.rejects(core.deliver(coreMessage("bad", "poison1"), "m-poison1", faulty));
    assert.deepEqual(statesOf("poison1"), [], "not published before its slot is back");
    await assert.rejects(core.deliver(coreMessage("bad", "poison1"), "m-poison1"), busy);
    const out = await core.later(31, () =>
      core.deliver(coreMessage("bad", "poison1"), "m-poison1"),
    );
    assert.equal(out.state, "duplicate");
    assert.deepEqual(statesOf("poison1"), ["rejected"]);
    assert.equal((await core.record("bad", "poison1"))?.state, "rejected");
    assert.equal(await markerOf("poison1"), undefined);
  });

  it("a rejection whose clean-up failed and that the poll settled is not rejected again by its redelivery", async () => {
    core.writeQueue("bad", "spec: 5\n");
    const faulty = failingAt(core.deps, "slots.release", "refused");
    await assert.rejects(core.deliver(coreMessage("bad", "poison2"), "m-poison2", faulty));
    await core.tick(31); // the poll finds its marker and settles it
    assert.deepEqual(statesOf("poison2"), ["rejected"]);
    assert.equal(await markerOf("poison2"), undefined);
    const out = await core.later(40, () =>
      core.deliver(coreMessage("bad", "poison2"), "m-poison2"),
    );
    assert.equal(out.state, "duplicate", "a redelivery of the rejected message is a duplicate");
    assert.deepEqual(statesOf("poison2"), ["rejected"]);
    assert.equal(await markerOf("poison2"), undefined);
  });
});

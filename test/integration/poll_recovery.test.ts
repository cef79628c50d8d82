// The poll function finishing what others left undone: launches whose dispatch gave up
// (dead-lettered), slots of rejected retries, events whose publish failed, decisions
// that must wait for a queue config that could not be read.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { DispatchError } from "../../shared/errors.js";
import { runTick } from "../../shared/poll/poll.js";
import type { StatusEvent } from "../../shared/schemas/status_event.js";
import { type Core, coreMessage, coreQueue, startCore } from "../helpers/core.js";

describe("poll recovery", () => {
  let core: Core;
  const statesOf = (runId: string) =>
    core.events.filter((e) => e.run_id === runId).map((e) => e.state);
  const jobsOf = (runId: string) =>
    core.vertex.control.jobs().filter((j) => j.labels["wandb-run-id"] === runId);
  const tickLater = async (seconds: number, deps = core.deps) => {
    core.skew(seconds);
    try {
      return await runTick(deps);
    } finally {
      core.skew(-seconds);
    }
  };

  beforeEach(async () => {
    core = await startCore();
    core.writeQueue("q", coreQueue());
    core.writeQueue("one", coreQueue("max_jobs: 1\nmax_retries: 1"));
    core.writeQueue("retry", coreQueue("max_retries: 1"));
    core.writeQueue("timeout", coreQueue("start_timeout: 60"));
  });
  afterEach(async () => {
    await core?.close();
  });

  it("resumes a launch whose every delivery failed (dead-lettered), with one job", async () => {
    core.vertex.control.addFault({
      method: "CreateCustomJob",
      code: "RESOURCE_EXHAUSTED",
      count: 1,
    });
    await assert.rejects(
      core.launch(coreMessage("q", "dead1")),
      (e: DispatchError) => e.kind === "vertex_unavailable",
    );
    const rec = await core.record("q", "dead1");
    assert.equal(rec?.state, "dispatching");
    assert.equal(rec?.lease, null, "a non-ambiguous failure releases the lease at once");
    assert.ok(
      (await core.deps.active.list()).some(
        (e) => e.run_id === "dead1" && e.state === "dispatching",
      ),
    );
    const summary = await runTick(core.deps);
    assert.equal(summary.resumed, 1);
    assert.equal((await core.record("q", "dead1"))?.state, "submitted");
    assert.equal(jobsOf("dead1").length, 1);
    assert.deepEqual(statesOf("dead1"), ["submitted"]);
  });

  it("resumes after an ambiguous failure only once the create deadline has passed, and finds the job made meanwhile", async () => {
    core.vertex.control.addFault({
      method: "CreateCustomJob",
      code: "DEADLINE_EXCEEDED",
      when: "after",
      count: 1,
    });
    await assert.rejects(core.launch(coreMessage("q", "dead2")));
    assert.equal(jobsOf("dead2").length, 1, "the create happened on the server");
    await runTick(core.deps);
    assert.equal((await core.record("q", "dead2"))?.state, "dispatching", "the lease still stands");
    await tickLater(5);
    assert.equal((await core.record("q", "dead2"))?.state, "submitted");
    assert.equal(jobsOf("dead2").length, 1, "looked up, not created again");
  });

  it("releases the max_jobs slot of a retry that is rejected, so the queue moves on", async () => {
    await core.launch(coreMessage("one", "slot1"));
    assert.equal((await core.launch(coreMessage("one", "slot2"))).state, "queued");
    // The retry of slot1 will be rejected: by then its queue stages in a multi-region bucket.
    await createBucket(core, "staging-us", "US");
    core.writeQueue(
      "one",
      coreQueue("max_jobs: 1\nmax_retries: 1").replace("gs://staging", "gs://staging-us"),
    );
    await new Promise((r) => setTimeout(r, 1100));
    const job = String((await core.record("one", "slot1"))?.job_name);
    core.vertex.control.setOutcome({ job, outcome: "preempt", immediate: true });
    await runTick(core.deps);
    assert.equal((await core.record("one", "slot1"))?.state, "rejected");
    assert.match(
      String((await core.record("one", "slot1"))?.error?.message),
      /gs:\/\/staging-us is in location US/,
    );
    // Its slot came back, so the same tick took slot2 out of the backlog (and, with the
    // same bucket, rejected it too): nothing is left holding the queue.
    assert.deepEqual(statesOf("slot2"), ["queued", "rejected"]);
    assert.deepEqual(await core.deps.slots.holders("one"), [], "no slot is leaked");
  });

  it("delivers a change whose publish failed on a later tick, exactly once", async () => {
    await core.launch(coreMessage("q", "pub1"));
    const job = String((await core.record("q", "pub1"))?.job_name);
    core.vertex.control.advance({ job, steps: 2 });
    let failures = 1;
    const flaky = {
      ...core.deps,
      publish: async (event: StatusEvent) => {
        if (failures-- > 0)
          throw new DispatchError("pubsub_unavailable", "publishing failed (test)");
        await core.deps.publish(event);
      },
    };
    const failed = await runTick(flaky);
    assert.equal(failed.errors, 1);
    assert.deepEqual(statesOf("pub1"), ["submitted"]);
    assert.equal(
      (await core.record("q", "pub1"))?.outbox?.event.state,
      "running",
      "the event waits in the outbox",
    );
    await runTick(core.deps);
    assert.deepEqual(statesOf("pub1"), ["submitted"], "not before its writer's time is up");
    await Promise.all([tickLater(31), tickLater(31)]);
    await runTick(core.deps);
    assert.deepEqual(statesOf("pub1"), ["submitted", "running"]);
    assert.equal((await core.record("q", "pub1"))?.outbox, null);
  });

  it("records a start timeout as failed even when its first publish failed", async () => {
    await core.launch(coreMessage("timeout", "late1"));
    await runTick(core.deps);
    let failures = 1;
    const flaky = {
      ...core.deps,
      publish: async (event: StatusEvent) => {
        if (failures-- > 0)
          throw new DispatchError("pubsub_unavailable", "publishing failed (test)");
        await core.deps.publish(event);
      },
    };
    core.skew(61);
    try {
      await runTick(flaky);
    } finally {
      core.skew(-61);
    }
    core.vertex.control.advance({}); // the cancel completes
    await tickLater(61 + 31);
    const events = core.events.filter((e) => e.run_id === "late1");
    assert.deepEqual(
      events.map((e) => e.state),
      ["submitted", "starting", "failed"],
    );
    assert.equal(events.at(-1)?.error?.kind, "start_timeout");
    assert.equal((await core.record("timeout", "late1"))?.state, "failed");
  });

  it("does not decide a retry on default settings when the queue config cannot be read", async () => {
    await core.launch(coreMessage("retry", "cfg1"));
    const job = String((await core.record("retry", "cfg1"))?.job_name);
    core.vertex.control.setOutcome({ job, outcome: "preempt", immediate: true });
    const unreadable = {
      ...core.deps,
      queues: {
        where: core.deps.queues.where,
        load: async () => {
          throw new DispatchError("storage_unavailable", "Cloud Storage answered 503 (test)");
        },
      },
    };
    const summary = await runTick(unreadable);
    assert.equal(summary.errors, 1);
    assert.deepEqual(statesOf("cfg1"), ["submitted"], "nothing decided");
    await runTick(core.deps);
    assert.deepEqual(
      statesOf("cfg1"),
      ["submitted", "preempted", "submitted"],
      "retried with the real max_retries",
    );
  });
});

async function createBucket(core: Core, name: string, location: string): Promise<void> {
  const { Storage } = await import("@google-cloud/storage");
  await new Storage({ projectId: "local-project", apiEndpoint: core.gcs.url }).createBucket(name, {
    location,
  });
}

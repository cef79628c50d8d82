// The poll function finishing what others left undone: launches whose dispatch gave up
// (dead-lettered), slots of rejected retries, events whose publish failed, decisions
// that must wait for a queue config that could not be read.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { handleDelivery } from "../../shared/dispatch/handle_delivery.js";
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
    core.skew(2); // past the queue config cache's TTL (1 s): the core's clock, not a sleep
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
    const flaky = { ...core.deps, publish: failingOnce(core.deps.publish) };
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
    const flaky = { ...core.deps, publish: failingOnce(core.deps.publish) };
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

  it("resumes a held launch whose create failed when the backlog drained it", async () => {
    await core.launch(coreMessage("one", "held1"));
    assert.equal((await core.launch(coreMessage("one", "held2"))).state, "queued");
    const job = String((await core.record("one", "held1"))?.job_name);
    core.vertex.control.setOutcome({ job, outcome: "succeed", immediate: true });
    core.vertex.control.addFault({
      method: "CreateCustomJob",
      code: "RESOURCE_EXHAUSTED",
      count: 1,
    });
    const failed = await runTick(core.deps);
    assert.equal(failed.errors, 1);
    assert.equal((await core.record("one", "held2"))?.state, "dispatching");
    assert.ok(
      (await core.deps.active.list()).some(
        (e) => e.run_id === "held2" && e.state === "dispatching",
      ),
    );
    await runTick(core.deps);
    assert.equal((await core.record("one", "held2"))?.state, "submitted");
    assert.equal(jobsOf("held2").length, 1);
  });

  it("a takeover writes the marker again, so a launch whose first holder died before it is not lost", async () => {
    core.vertex.control.addFault({
      method: "CreateCustomJob",
      code: "RESOURCE_EXHAUSTED",
      count: 2,
    });
    await assert.rejects(core.launch(coreMessage("q", "lost1"), "m-lost1"));
    await core.deps.active.remove("q", "lost1"); // as if the first holder died before writing it
    await assert.rejects(core.launch(coreMessage("q", "lost1"), "m-lost1"));
    assert.ok(
      (await core.deps.active.list()).some((e) => e.run_id === "lost1"),
      "the takeover put the marker back",
    );
    await runTick(core.deps);
    assert.equal((await core.record("q", "lost1"))?.state, "submitted");
  });

  it("decides nothing on a view of a job older than the record (overlapping ticks)", async () => {
    await core.launch(coreMessage("q", "stale1"));
    const job = String((await core.record("q", "stale1"))?.job_name);
    // T2 lists the jobs while the job is QUEUED, then waits; T1 sees it RUNNING and records it.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let listed: () => void = () => {};
    const hasListed = new Promise<void>((r) => {
      listed = r;
    });
    const slow = {
      ...core.deps,
      jobs: {
        ...core.deps.jobs,
        listPage: async (...args: Parameters<typeof core.deps.jobs.listPage>) => {
          const page = await core.deps.jobs.listPage(...args);
          listed();
          await gate;
          return page;
        },
      },
    };
    const t2 = runTick(slow);
    await hasListed;
    core.vertex.control.advance({ job, steps: 2 });
    await runTick(core.deps);
    release();
    await t2;
    assert.deepEqual(statesOf("stale1"), ["submitted", "running"]);
    assert.equal((await core.record("q", "stale1"))?.state, "running");
  });

  it("publishes submitted once when the submitted marker write fails and the message is redelivered; the poll mends the marker", async () => {
    let failures = 1;
    const flaky = {
      ...core.deps,
      active: {
        ...core.deps.active,
        put: async (...args: Parameters<typeof core.deps.active.put>) => {
          if (args[0].state === "submitted" && failures-- > 0) {
            throw new DispatchError("storage_unavailable", "Cloud Storage answered 503 (test)");
          }
          await core.deps.active.put(...args);
        },
      },
    };
    // The marker write comes after the event is out: it fails nothing, the claim's marker stands.
    const first = await handleDelivery(delivery(coreMessage("q", "twice1"), "m-twice1"), flaky);
    assert.equal(first.state, "submitted");
    assert.equal(failures, 0, "the submitted marker write was refused");
    const again = await handleDelivery(delivery(coreMessage("q", "twice1"), "m-twice1"), core.deps);
    assert.equal(again.state, "duplicate");
    assert.deepEqual(statesOf("twice1"), ["submitted"]);
    assert.equal(jobsOf("twice1").length, 1);
    const stale = (await core.deps.active.list()).find((e) => e.run_id === "twice1");
    assert.equal(stale?.state, "dispatching", "the claim's marker is left");
    await runTick(core.deps);
    const mended = (await core.deps.active.list()).find((e) => e.run_id === "twice1");
    assert.equal(mended?.state, "submitted", "the poll mended the marker from the record");
    assert.equal(mended?.job_name, jobsOf("twice1")[0]?.name);
    assert.deepEqual(statesOf("twice1"), ["submitted"]);
  });

  it("a cancel delivers a change still waiting to be published before it stops the launch", async () => {
    await core.launch(coreMessage("q", "wait1"));
    const job = String((await core.record("q", "wait1"))?.job_name);
    core.vertex.control.advance({ job, steps: 2 });
    const flaky = { ...core.deps, publish: failingOnce(core.deps.publish) };
    await runTick(flaky); // `running` is claimed but not published
    const cancel = delivery({ action: "cancel", queue: "q", run_id: "wait1" }, "m-cancel-wait1");
    await assert.rejects(
      handleDelivery(cancel, core.deps),
      (e: DispatchError) => e.kind === "launch_busy",
    );
    core.skew(31);
    try {
      await handleDelivery(cancel, core.deps);
    } finally {
      core.skew(-31);
    }
    assert.deepEqual(statesOf("wait1"), ["submitted", "running", "stopped"]);
  });

  it("an unreadable message delivered twice is rejected once", async () => {
    const bad = {
      body: Buffer.from("not json"),
      attributes: {},
      messageId: "m-bad",
      deliveryAttempt: 1,
    };
    await handleDelivery(bad, core.deps);
    await handleDelivery(bad, core.deps);
    assert.equal(core.events.filter((e) => e.state === "rejected").length, 1);
  });
});

/** A publisher that fails its first call (a Pub/Sub outage), then publishes as `publish` does. */
function failingOnce(publish: (event: StatusEvent) => Promise<void>) {
  let failures = 1;
  return async (event: StatusEvent) => {
    if (failures-- > 0) throw new DispatchError("pubsub_unavailable", "publishing failed (test)");
    await publish(event);
  };
}

function delivery(body: Record<string, unknown>, messageId: string) {
  return { body: Buffer.from(JSON.stringify(body)), attributes: {}, messageId, deliveryAttempt: 1 };
}

async function createBucket(core: Core, name: string, location: string): Promise<void> {
  const { Storage } = await import("@google-cloud/storage");
  await new Storage({ projectId: "local-project", apiEndpoint: core.gcs.url }).createBucket(name, {
    location,
  });
}

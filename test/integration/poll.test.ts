// The poll core against the GCS and Vertex emulators, through the official SDKs.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { handleDelivery } from "../../shared/dispatch/handle_delivery.js";
import { runTick } from "../../shared/poll/poll.js";
import { StatusEventSchema } from "../../shared/schemas/status_event.js";
import { type Core, coreMessage, coreQueue, startCore } from "../helpers/core.js";

describe("poll function core", () => {
  let core: Core;
  const eventsOf = (runId: string) => core.events.filter((e) => e.run_id === runId);
  const statesOf = (runId: string) => eventsOf(runId).map((e) => e.state);
  const jobOf = async (queue: string, runId: string) =>
    String((await core.record(queue, runId))?.job_name);
  const listCalls = () => core.vertex.control.requests().counts.ListCustomJobs?.total ?? 0;

  before(async () => {
    core = await startCore();
    core.writeQueue("q", coreQueue());
    core.writeQueue("timeout", coreQueue("start_timeout: 60"));
    core.writeQueue("retry", coreQueue("max_retries: 1"));
    core.writeQueue("noretry", coreQueue());
    core.writeQueue("retry2", coreQueue("max_retries: 1"));
    core.writeQueue("limited", coreQueue("max_jobs: 2"));
  });
  after(async () => {
    await core?.close();
  });

  it("follows a launch through submitted, starting, running and finished, one event per change", async () => {
    await core.launch(coreMessage("q", "life1"));
    const job = await jobOf("q", "life1");
    await runTick(core.deps); // QUEUED
    core.vertex.control.advance({ job }); // PENDING: still "starting", no event
    await runTick(core.deps);
    core.vertex.control.advance({ job }); // RUNNING
    await runTick(core.deps);
    await runTick(core.deps); // nothing changed
    core.vertex.control.advance({ job }); // SUCCEEDED
    await runTick(core.deps);
    await runTick(core.deps);
    assert.deepEqual(statesOf("life1"), ["submitted", "starting", "running", "finished"]);
    const [, starting, running, finished] = eventsOf("life1");
    assert.equal(starting?.previous_state, "submitted");
    assert.equal(starting?.vertex_state, "JOB_STATE_QUEUED");
    assert.equal(running?.previous_state, "starting");
    assert.equal(finished?.vertex_state, "JOB_STATE_SUCCEEDED");
    for (const e of eventsOf("life1")) StatusEventSchema.parse(e);
    assert.equal((await core.record("q", "life1"))?.state, "finished");
    assert.ok(
      !(await core.deps.active.list()).some((e) => e.run_id === "life1"),
      "a finished launch leaves the active set",
    );
  });

  it("records a failed job as failed with Vertex's error", async () => {
    await core.launch(coreMessage("q", "fail1"));
    const job = await jobOf("q", "fail1");
    core.vertex.control.setOutcome({ job, outcome: "fail", immediate: true });
    await runTick(core.deps);
    const last = eventsOf("fail1").at(-1);
    assert.equal(last?.state, "failed");
    assert.equal(last?.error?.kind, "job_failed");
    assert.match(String(last?.error?.message), /non-zero status/);
  });

  it("cancels a launch that stays QUEUED/PENDING past start_timeout and records it failed", async () => {
    await core.launch(coreMessage("timeout", "slow1"));
    const job = await jobOf("timeout", "slow1");
    await runTick(core.deps);
    assert.deepEqual(statesOf("slow1"), ["submitted", "starting"]);
    core.skew(61);
    try {
      await runTick(core.deps);
    } finally {
      core.skew(-61);
    }
    const last = eventsOf("slow1").at(-1);
    assert.equal(last?.state, "failed");
    assert.equal(last?.error?.kind, "start_timeout");
    assert.match(String(last?.error?.message), /did not start within start_timeout \(60 s/);
    assert.match(
      String((core.vertex.control.job(job) as { state: string }).state),
      /JOB_STATE_CANCELL(ING|ED)/,
    );
    assert.equal((await core.record("timeout", "slow1"))?.state, "failed");
  });

  it("resubmits a preempted job while retries are left, with a new label set and the same output directory", async () => {
    await core.launch(coreMessage("retry", "spot1"));
    const first = await jobOf("retry", "spot1");
    core.vertex.control.setOutcome({ job: first, outcome: "preempt", immediate: true });
    await runTick(core.deps);
    const rec = await core.record("retry", "spot1");
    assert.equal(rec?.attempt, 2);
    assert.deepEqual(rec?.previous_jobs, [first]);
    const second = String(rec?.job_name);
    assert.notEqual(second, first);
    assert.deepEqual(statesOf("spot1"), ["submitted", "preempted", "submitted"]);
    assert.equal(eventsOf("spot1")[1]?.attempt, 1);
    assert.equal(eventsOf("spot1")[2]?.attempt, 2);
    const a = core.vertex.control.job(first) as {
      labels: Record<string, string>;
      jobSpec: { baseOutputDirectory: { outputUriPrefix: string } };
    };
    const b = core.vertex.control.job(second) as typeof a;
    assert.notEqual(a.labels["launch-id"], b.labels["launch-id"]);
    assert.equal(a.labels["wandb-run-id"], b.labels["wandb-run-id"]);
    assert.equal(
      a.jobSpec.baseOutputDirectory.outputUriPrefix,
      b.jobSpec.baseOutputDirectory.outputUriPrefix,
    );

    // No retries left: the second preemption is final.
    core.vertex.control.setOutcome({ job: second, outcome: "preempt", immediate: true });
    await runTick(core.deps);
    assert.equal(statesOf("spot1").at(-1), "preempted");
    assert.equal((await core.record("retry", "spot1"))?.state, "preempted");
    assert.equal(
      core.vertex.control.jobs().filter((j) => j.labels["wandb-run-id"] === "spot1").length,
      2,
    );
  });

  it("finishes a resubmission whose create failed on a later tick, with exactly one new job", async () => {
    await core.launch(coreMessage("retry2", "spot3"));
    const first = await jobOf("retry2", "spot3");
    core.vertex.control.setOutcome({ job: first, outcome: "preempt", immediate: true });
    core.vertex.control.addFault({ method: "CreateCustomJob", code: "UNAVAILABLE", count: 1 });
    const failed = await runTick(core.deps);
    assert.equal(failed.errors, 1);
    const held = await core.record("retry2", "spot3");
    assert.equal(held?.state, "dispatching");
    // UNAVAILABLE may hide a create that happened: the lease is kept for the create deadline.
    const until = Date.parse(String(held?.lease?.expires_at));
    assert.ok(
      until > Date.now() && until <= Date.now() + 4_000 + 1_000,
      String(held?.lease?.expires_at),
    );
    await runTick(core.deps); // still held: nothing happens
    assert.equal((await core.record("retry2", "spot3"))?.state, "dispatching");
    core.skew(5);
    try {
      await runTick(core.deps);
    } finally {
      core.skew(-5);
    }
    const rec = await core.record("retry2", "spot3");
    assert.equal(rec?.state, "submitted");
    assert.equal(rec?.attempt, 2);
    assert.equal(
      core.vertex.control.jobs().filter((j) => j.labels["wandb-run-id"] === "spot3").length,
      2,
    );
    assert.deepEqual(statesOf("spot3"), ["submitted", "preempted", "submitted"]);
    assert.equal(eventsOf("spot3")[2]?.previous_state, "preempted");
  });

  it("records a preemption as final on a queue without retries", async () => {
    await core.launch(coreMessage("noretry", "spot2"));
    core.vertex.control.setOutcome({
      job: await jobOf("noretry", "spot2"),
      outcome: "stockout",
      immediate: true,
    });
    await runTick(core.deps);
    assert.deepEqual(statesOf("spot2"), ["submitted", "preempted"]);
    assert.equal(eventsOf("spot2")[1]?.error?.kind, "job_preempted");
  });

  it("drains the backlog by priority then age, never over max_jobs, under concurrent ticks", async () => {
    await core.launch(coreMessage("limited", "run-a"));
    await core.launch(coreMessage("limited", "run-b"));
    const held: Array<[string, number]> = [
      ["held-low", 3],
      ["held-first", 1],
      ["held-top", 0],
      ["held-second", 1],
    ];
    for (const [runId, priority] of held) {
      const out = await core.launch(coreMessage("limited", runId, { priority }));
      assert.equal(out.state, "queued");
    }
    const active = () =>
      core.vertex.control
        .jobs()
        .filter(
          (j) =>
            j.labels["launch-queue"] === "limited" && !/SUCCEEDED|FAILED|CANCELLED/.test(j.state),
        );
    assert.equal(active().length, 2);
    // Both running jobs end; three ticks at once may dispatch two held launches, no more.
    for (const runId of ["run-a", "run-b"]) {
      core.vertex.control.setOutcome({
        job: await jobOf("limited", runId),
        outcome: "succeed",
        immediate: true,
      });
    }
    await Promise.all([runTick(core.deps), runTick(core.deps), runTick(core.deps)]);
    await runTick(core.deps);
    assert.equal(active().length, 2, "max_jobs holds under concurrent ticks");
    for (const runId of ["held-top", "held-first"]) {
      const rec = await core.record("limited", runId);
      assert.match(String(rec?.state), /^(submitted|starting)$/, runId);
      assert.ok(rec?.job_name, `${runId} has a job`);
    }
    assert.equal(
      (await core.record("limited", "held-second"))?.state,
      "queued",
      "same priority: the older one went first",
    );
    assert.equal((await core.record("limited", "held-low"))?.state, "queued");
    assert.deepEqual(statesOf("held-top").slice(0, 2), ["queued", "submitted"]);
    assert.equal(eventsOf("held-top")[1]?.previous_state, "queued");
  });

  it("cancels a running, a queued and a finished launch", async () => {
    const cancel = (queue: string, runId: string) =>
      handleDelivery(
        {
          body: Buffer.from(JSON.stringify({ action: "cancel", queue, run_id: runId })),
          attributes: {},
          messageId: `c-${runId}`,
          deliveryAttempt: 1,
        },
        core.deps,
      );
    await core.launch(coreMessage("q", "run-c"));
    const job = await jobOf("q", "run-c");
    core.vertex.control.advance({ job, steps: 2 });
    await runTick(core.deps);
    assert.equal(statesOf("run-c").at(-1), "running");
    assert.equal((await cancel("q", "run-c")).state, "stopped");
    assert.match((core.vertex.control.job(job) as { state: string }).state, /CANCELL/);
    await runTick(core.deps);
    assert.equal(
      statesOf("run-c").filter((s) => s === "stopped").length,
      1,
      "the poll does not report the stop again",
    );

    assert.equal((await cancel("limited", "held-low")).state, "stopped");
    assert.equal((await core.record("limited", "held-low"))?.state, "stopped");

    assert.equal((await cancel("q", "life1")).state, "ignored");
    assert.equal((await core.record("q", "life1"))?.state, "finished");
  });

  it("publishes each change once when ticks overlap", async () => {
    const runs = ["ov1", "ov2", "ov3", "ov4"];
    for (const r of runs) await core.launch(coreMessage("q", r));
    core.vertex.control.advance({ steps: 2 }); // every live job: RUNNING
    await Promise.all([
      runTick(core.deps),
      runTick(core.deps),
      runTick(core.deps),
      runTick(core.deps),
    ]);
    for (const r of runs) assert.deepEqual(statesOf(r), ["submitted", "running"], r);
  });

  it("leaves state untouched when Vertex fails during a tick, then catches up", async () => {
    await core.launch(coreMessage("q", "fault1"));
    const job = await jobOf("q", "fault1");
    core.vertex.control.advance({ job, steps: 2 });
    core.vertex.control.addFault({ method: "ListCustomJobs", code: "UNAVAILABLE", count: 1 });
    const before = core.events.length;
    await assert.rejects(
      runTick(core.deps),
      (err: Error & { kind?: string }) => err.kind === "vertex_unavailable",
    );
    assert.equal(core.events.length, before, "nothing published");
    assert.equal((await core.record("q", "fault1"))?.state, "submitted");
    await runTick(core.deps);
    assert.deepEqual(statesOf("fault1"), ["submitted", "running"]);
  });

  it("lists jobs with a bounded number of Vertex calls and no GetCustomJob", async () => {
    const gets = core.vertex.control.requests().counts.GetCustomJob?.total ?? 0;
    const before = listCalls();
    const summary = await runTick(core.deps);
    assert.ok(summary.active > 0);
    assert.equal(listCalls() - before, summary.vertexCalls);
    assert.ok(
      summary.vertexCalls <= 1 + Math.ceil(summary.active / core.deps.pageSize),
      JSON.stringify(summary),
    );
    assert.equal(core.vertex.control.requests().counts.GetCustomJob?.total ?? 0, gets);
  });
});

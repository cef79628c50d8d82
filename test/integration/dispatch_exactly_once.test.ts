// Exactly one CustomJob per launch, whatever Pub/Sub, Vertex, GCS and crashes do (SPEC §6).
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";
import {
  launchMessage,
  queueYaml,
  stackMissing,
  startTestStack,
  type TestStack,
} from "../helpers/stack.js";

const missing = stackMissing();
if (missing) console.warn(`\n!!! ${missing}\n`);

describe("dispatch exactly-once", { skip: missing ?? false }, () => {
  let stack: TestStack;
  const jobsOf = (runId: string) =>
    stack.vertex.control.jobs().filter((j) => j.labels["wandb-run-id"] === runId);
  // Generous waits, never performance asserts: on a loaded 2-core machine a function's
  // first Vertex call after a (re)start takes 10 s or more (the client's cold load).
  const eventOf = (runId: string, state: string, timeoutMs = 90_000) =>
    stack.waitForEvent((e) => e.run_id === runId && e.state === state, timeoutMs);
  const creates = () =>
    stack.vertex.control.requests().counts.CreateCustomJob ?? { total: 0, ok: 0, errors: 0 };
  /** Waits until the dispatch function logged `count` lines about `runId` matching `message` (each one an acknowledgement). */
  const acks = (runId: string, message: RegExp, count: number, timeout = 60_000) =>
    eventually(() => linesOf(runId, message).length, {
      timeout,
      what: `${count} log lines of ${runId} matching ${message}`,
      until: (n) => n >= count,
    });
  /** The dispatch function's log lines about one run whose message matches. */
  const linesOf = (runId: string, message: RegExp) =>
    stack.functionLines
      .map((l) => {
        try {
          return JSON.parse(l) as { run_id?: string; message?: string };
        } catch {
          return {};
        }
      })
      .filter((l) => l.run_id === runId && message.test(l.message ?? ""));

  before(async () => {
    stack = await startTestStack();
    stack.writeQueue("q", queueYaml());
  });
  beforeEach(() => {
    stack.vertex.control.clearFaults();
    stack.gcs.control.clearFaults();
  });
  after(async () => {
    await stack?.close();
  });

  it("gives one job for the same message delivered several times, also concurrently", async () => {
    const body = launchMessage("q", "dup1");
    await Promise.all(Array.from({ length: 6 }, () => stack.publishLaunch(body)));
    await eventOf("dup1", "submitted");
    // Every one of the six messages is acknowledged once: one created the job, five were
    // told they are duplicates (after any launch_busy retries). Wait for all six.
    await acks("dup1", /^duplicate: /, 5);
    assert.equal(linesOf("dup1", /^created the Vertex AI CustomJob/).length, 1);
    assert.equal(jobsOf("dup1").length, 1);
    assert.equal(
      stack.events.filter((e) => e.run_id === "dup1" && e.state === "submitted").length,
      1,
    );
  });

  it("gives one job for one idempotency key without a run_id, and derives the same run id", async () => {
    const body = launchMessage("q", "ignored");
    delete body.run_id;
    await Promise.all(
      [1, 2, 3].map(() => stack.publishLaunch(body, { idempotency_key: "webhook-delivery-42" })),
    );
    const event = await stack.waitForEvent(
      (e) => e.state === "submitted" && e.queue === "q" && /^[a-z0-9]{8}$/.test(String(e.run_id)),
    );
    // All three acknowledged: one submitted it, two were told they are duplicates.
    await acks(String(event.run_id), /^duplicate: /, 2);
    assert.equal(linesOf(String(event.run_id), /^created the Vertex AI CustomJob/).length, 1);
    assert.equal(jobsOf(String(event.run_id)).length, 1);
  });

  it("finds the job after a create that made it but answered DEADLINE_EXCEEDED, and creates no second", async () => {
    stack.vertex.control.addFault({
      method: "CreateCustomJob",
      code: "DEADLINE_EXCEEDED",
      when: "after",
      count: 1,
    });
    const before = creates().total;
    await stack.publishLaunch(launchMessage("q", "ambig1"));
    const event = await eventOf("ambig1", "submitted");
    assert.equal(jobsOf("ambig1").length, 1);
    assert.equal(jobsOf("ambig1")[0]?.name, event.job_name);
    assert.equal(
      creates().total - before,
      1,
      "the redelivery looked the job up instead of creating again",
    );
  });

  it("survives a crash between CreateCustomJob and the record update: no second job on redelivery", async () => {
    // The emulator takes the first create, holds it 2.5 s, makes the job, then answers
    // UNAVAILABLE. The process is killed as soon as the create has arrived (the rule has
    // fired): the job comes to exist after the process is gone, so its record never says so.
    const held = stack.vertex.control.addFault({
      method: "CreateCustomJob",
      code: "UNAVAILABLE",
      when: "after",
      delayMs: 2500,
      count: 1,
    });
    const before = creates().total;
    await stack.publishLaunch(launchMessage("q", "crash1"));
    await eventually(() => held.fired, {
      timeout: 30_000,
      what: "the create of crash1 to reach the Vertex emulator",
      until: (fired) => fired > 0,
    });
    await stack.restartFunction("dispatch", "kill");
    await eventually(() => jobsOf("crash1").length > 0, {
      timeout: 30_000,
      what: "the job of crash1 to exist (the emulator makes it 2.5 s after the create arrived)",
    });
    assert.equal(jobsOf("crash1").length, 1, "the job was created");
    // It never recorded the job, so it published nothing either (`submitted` goes out of
    // the record's outbox, after the record write): only a recovery can move it on.
    assert.equal((await stack.readRecord("q", "crash1"))?.record.state, "dispatching");
    // The redelivery waits out the dead holder's lease (6 s here), looks the job up by its
    // label and records it, without a second create. On a loaded machine the restart can
    // outlast the delivery attempts (refused pushes count) and the message is
    // dead-lettered: then, as in production, a poll tick takes the launch over from its
    // marker, again by label. Either way: one job.
    const stored = await eventually(
      async () => {
        const now = await stack.readRecord("q", "crash1");
        if (
          now?.record.state === "dispatching" &&
          Date.parse(now.record.lease?.expires_at ?? "") < Date.now() - 30_000
        )
          await stack.tick();
        return stack.readRecord("q", "crash1");
      },
      {
        timeout: 120_000,
        what: "crash1 recorded as submitted",
        until: (r) => r?.record.state === "submitted",
        every: 500,
      },
    );
    const record = stored.record;
    assert.equal(record.job_name, jobsOf("crash1")[0]?.name);
    for (const event of stack.events.filter((e) => e.run_id === "crash1")) {
      assert.equal(event.job_name, record.job_name);
    }
    assert.equal(jobsOf("crash1").length, 1);
    assert.equal(creates().total - before, 1);
  });

  it("retries transient Vertex faults until the job is created", async () => {
    stack.vertex.control.addFault({ method: "CreateCustomJob", code: "UNAVAILABLE", count: 2 });
    await stack.publishLaunch(launchMessage("q", "transient1"));
    await eventOf("transient1", "submitted");
    assert.equal(jobsOf("transient1").length, 1);
  });

  it("retries transient GCS faults (503 on the bucket read, 429 on the record write) until the job is created", async () => {
    // More faults than the SDK's own retries absorb (4 attempts per call, on every client:
    // a marker write no longer switches them off): the bucket read fails two deliveries,
    // so the function itself must fail and Pub/Sub redeliver.
    stack.gcs.control.injectFault({ operation: "buckets.get", status: 503, count: 8 });
    stack.gcs.control.injectFault({
      operation: "objects.insert",
      bucket: "local-state",
      status: 429,
      count: 5,
    });
    await stack.publishLaunch(launchMessage("q", "transient2"));
    await eventOf("transient2", "submitted", 120_000);
    assert.equal(jobsOf("transient2").length, 1);
    const failures = stack.functionLines.filter(
      (l) =>
        /delivery failed; Pub\/Sub will redeliver/.test(l) && l.includes("storage_unavailable"),
    );
    assert.ok(
      failures.length >= 2,
      `the function failed and was redelivered (${failures.length} failures)`,
    );
  });

  it("does not retry a permanent Vertex fault: the launch is rejected after one create", async () => {
    stack.vertex.control.addFault({
      method: "CreateCustomJob",
      code: "PERMISSION_DENIED",
      message: "Permission 'aiplatform.customJobs.create' denied",
      count: 1,
    });
    const before = creates().total;
    await stack.publishLaunch(launchMessage("q", "perm1"));
    const event = await eventOf("perm1", "rejected");
    assert.match(
      String((event.error as { message: string }).message),
      /PERMISSION_DENIED: Permission 'aiplatform\.customJobs\.create' denied/,
    );
    await acks("perm1", /^launch rejected: /, 1); // recorded, published: the delivery acknowledged
    assert.equal(creates().total - before, 1, "one create, never retried");
    assert.equal(jobsOf("perm1").length, 0);
  });
});

// Exactly one CustomJob per launch, whatever Pub/Sub, Vertex, GCS and crashes do (SPEC §6).
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
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
  const eventOf = (runId: string, state: string, timeoutMs = 30_000) =>
    stack.waitForEvent((e) => e.run_id === runId && e.state === state, timeoutMs);
  const creates = () =>
    stack.vertex.control.requests().counts.CreateCustomJob ?? { total: 0, ok: 0, errors: 0 };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    await sleep(3000); // let every duplicate delivery finish
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
    await sleep(3000);
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
    // Slow down every write to the state bucket so the process can be killed after the
    // job exists and before its record says so.
    const fault = stack.gcs.control.injectFault({
      operation: "objects.insert",
      bucket: "local-state",
      delayMs: 2500,
    });
    const before = creates().total;
    await stack.publishLaunch(launchMessage("q", "crash1"));
    const deadline = Date.now() + 20_000;
    while (jobsOf("crash1").length === 0 && Date.now() < deadline) await sleep(50);
    assert.equal(jobsOf("crash1").length, 1, "the job was created");
    await stack.restartFunction("dispatch", "kill");
    stack.gcs.control.removeFault(fault.id);
    assert.notEqual(
      (await stack.readRecord("q", "crash1"))?.record.state,
      "submitted",
      "the crash came before the record update",
    );
    const event = await eventOf("crash1", "submitted", 40_000);
    assert.equal(jobsOf("crash1").length, 1);
    assert.equal(event.job_name, jobsOf("crash1")[0]?.name);
    assert.equal(creates().total - before, 1);
  });

  it("retries transient Vertex faults until the job is created", async () => {
    stack.vertex.control.addFault({ method: "CreateCustomJob", code: "UNAVAILABLE", count: 2 });
    await stack.publishLaunch(launchMessage("q", "transient1"));
    await eventOf("transient1", "submitted");
    assert.equal(jobsOf("transient1").length, 1);
  });

  it("retries transient GCS faults (503 on the bucket read, 429 on the record write) until the job is created", async () => {
    stack.gcs.control.injectFault({ operation: "buckets.get", status: 503, count: 2 });
    stack.gcs.control.injectFault({
      operation: "objects.insert",
      bucket: "local-state",
      status: 429,
      count: 1,
    });
    await stack.publishLaunch(launchMessage("q", "transient2"));
    await eventOf("transient2", "submitted");
    assert.equal(jobsOf("transient2").length, 1);
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
    await sleep(3000);
    assert.equal(creates().total - before, 1);
    assert.equal(jobsOf("perm1").length, 0);
  });
});

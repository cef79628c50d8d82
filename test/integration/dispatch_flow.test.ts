// The dispatch function end to end: real Pub/Sub push (Google's emulator) into the
// Functions Framework, against the GCS and Vertex emulators, through the official SDKs.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { StatusEventSchema } from "../../shared/schemas/status_event.js";
import {
  launchMessage,
  queueYaml,
  stackMissing,
  startTestStack,
  TEST_SECRET,
  type TestStack,
} from "../helpers/stack.js";

const missing = stackMissing();
if (missing) console.warn(`\n!!! ${missing}\n`);

describe("dispatch function", { skip: missing ?? false }, () => {
  let stack: TestStack;
  const jobsOf = (runId: string) =>
    stack.vertex.control.jobs().filter((j) => j.labels["wandb-run-id"] === runId);
  // Generous: the first launch after start-up takes ~17 s on a loaded 2-core machine (cold function).
  const eventOf = (runId: string, state: string, timeoutMs = 60_000) =>
    stack.waitForEvent((e) => e.run_id === runId && e.state === state, timeoutMs);

  before(async () => {
    stack = await startTestStack();
    stack.writeQueue("seed-default", queueYaml());
    const buckets: Array<[string, Record<string, unknown>]> = [
      ["staging-euw4", { location: "europe-west4" }],
      ["staging-nam4", { location: "NAM4" }],
      ["staging-us", { location: "US" }],
      [
        "staging-custom-dual",
        { location: "US", customPlacementConfig: { dataLocations: ["US-CENTRAL1", "US-EAST1"] } },
      ],
    ];
    for (const [name, metadata] of buckets) await stack.storage.createBucket(name, metadata);
    stack.writeQueue("euw4", queueYaml({ staging: "staging-euw4" }));
    stack.writeQueue("nam4", queueYaml({ staging: "staging-nam4" }));
    stack.writeQueue("multi", queueYaml({ staging: "staging-us" }));
    stack.writeQueue("custom-dual", queueYaml({ staging: "staging-custom-dual" }));
    stack.writeQueue("missing-bucket", queueYaml({ staging: "no-such-bucket-here" }));
    await stack.storage.createBucket("staging-locked", { location: "us-central1" });
    stack.gcs.control.deny("staging-locked");
    stack.writeQueue("locked", queueYaml({ staging: "staging-locked" }));
    stack.writeQueue(
      "not-allowed",
      queueYaml({ serviceAccount: "intruder@local-project.iam.gserviceaccount.com" }),
    );
    stack.writeQueue("bad-config", queueYaml().replace("machine_spec:", "machineSpec:"));
    stack.writeQueue("limited", queueYaml({ extra: "max_jobs: 1" }));
  });
  after(async () => {
    await stack?.close();
  });

  it("creates one CustomJob for the seed's default config and publishes `submitted`", async () => {
    await stack.publishLaunch(
      launchMessage("seed-default", "happy1", { name: "resnet", author: "mira" }),
    );
    const event = await eventOf("happy1", "submitted");
    assert.match(
      String(event.job_name),
      /^projects\/\d+\/locations\/us-central1\/customJobs\/\d+$/,
    );
    assert.equal(event.previous_state, null, "a new launch has no previous state");
    StatusEventSchema.parse(event);
    assert.equal(event.queue, "seed-default");
    assert.equal(event.attempt, 1);
    assert.match(
      String(event.console_url),
      /console\.cloud\.google\.com\/vertex-ai\/locations\/us-central1\/training\//,
    );
    const jobs = jobsOf("happy1");
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]?.name, event.job_name);
    assert.equal(jobs[0]?.labels["managed-by"], "vertex-dispatch");
    assert.equal(jobs[0]?.labels["launch-id"], event.launch_id);
    const job = stack.vertex.control.job(String(event.job_name)) as {
      jobSpec: {
        workerPoolSpecs: Array<{ containerSpec: { env: Array<{ name: string; value: string }> } }>;
        serviceAccount: string;
      };
    };
    const env = Object.fromEntries(
      job.jobSpec.workerPoolSpecs[0]?.containerSpec.env.map((e) => [e.name, e.value]) ?? [],
    );
    assert.equal(env.WANDB_RUN_ID, "happy1");
    assert.equal(env.WANDB_API_KEY, TEST_SECRET, "the job gets the dispatcher's W&B key");
    assert.equal(
      job.jobSpec.serviceAccount,
      "vertex-dispatch-jobs@local-project.iam.gserviceaccount.com",
    );
    const record = await stack.waitForRecord("seed-default", "happy1", "submitted");
    assert.equal(record.job_name, event.job_name);
    assert.equal(record.lease, null);
  });

  const preflight: Array<[string, string, RegExp]> = [
    [
      "a regional bucket in another region",
      "euw4",
      /gs:\/\/staging-euw4 is in location EUROPE-WEST4 \(region\).*us-central1/s,
    ],
    ["a dual-region bucket", "nam4", /gs:\/\/staging-nam4 is in location NAM4 \(dual-region\)/],
    [
      "a custom dual-region bucket",
      "custom-dual",
      /gs:\/\/staging-custom-dual is in location US \(dual-region\)/,
    ],
    ["a multi-region bucket", "multi", /gs:\/\/staging-us is in location US \(multi-region\)/],
    ["a missing bucket", "missing-bucket", /gs:\/\/no-such-bucket-here does not exist/],
    [
      "a bucket whose metadata the dispatcher may not read",
      "locked",
      /may not read the metadata of gs:\/\/staging-locked \(403\).*storage\.buckets\.get/,
    ],
  ];
  for (const [name, queue, message] of preflight) {
    it(`rejects ${name} before creating any job`, async () => {
      const runId = `pf-${queue}`;
      await stack.publishLaunch(launchMessage(queue, runId));
      const event = await eventOf(runId, "rejected");
      const error = event.error as { kind: string; message: string };
      assert.equal(error.kind, "preflight_failed");
      assert.match(error.message, message);
      assert.equal(jobsOf(runId).length, 0);
      await stack.waitForRecord(queue, runId, "rejected");
    });
  }

  it("rejects a job whose service account the dispatcher may not act as (Vertex refuses it)", async () => {
    await stack.publishLaunch(launchMessage("not-allowed", "actas1"));
    const event = await eventOf("actas1", "rejected");
    const error = event.error as { kind: string; message: string };
    assert.equal(error.kind, "vertex_rejected");
    assert.match(
      error.message,
      /permission to act as service_account: intruder@local-project\.iam\.gserviceaccount\.com/,
    );
    assert.equal(jobsOf("actas1").length, 0);
  });

  it("rejects an invalid queue config with the path of the bad key", async () => {
    await stack.publishLaunch(launchMessage("bad-config", "badcfg1"));
    const event = await eventOf("badcfg1", "rejected");
    const error = event.error as {
      kind: string;
      message: string;
      issues: Array<{ path: string; message: string }>;
    };
    assert.equal(error.kind, "invalid_config");
    assert.ok(
      error.issues.some(
        (i) => /worker_pool_specs\[0\]\.machineSpec/.test(i.path) && /machine_spec/.test(i.message),
      ),
      JSON.stringify(error.issues),
    );
  });

  it("tries a rejected launch again when it is sent again, e.g. after the queue config is fixed", async () => {
    stack.writeQueue("fixable", queueYaml().replace("machine_spec:", "machineSpec:"));
    await stack.publishLaunch(launchMessage("fixable", "fix1"));
    await eventOf("fix1", "rejected");
    await stack.waitForRecord("fixable", "fix1", "rejected");
    stack.writeQueue("fixable", queueYaml());
    await new Promise((r) => setTimeout(r, 1500)); // the queue config cache TTL is 1 s here
    await stack.publishLaunch(launchMessage("fixable", "fix1"));
    const event = await eventOf("fix1", "submitted");
    assert.equal(jobsOf("fix1").length, 1);
    assert.equal(
      (await stack.waitForRecord("fixable", "fix1", "submitted")).job_name,
      event.job_name,
    );
  });

  it("rejects a launch for an unknown queue", async () => {
    await stack.publishLaunch(launchMessage("nope", "noq1"));
    const event = await eventOf("noq1", "rejected");
    assert.equal((event.error as { kind: string }).kind, "queue_not_found");
  });

  const invalid: Array<[string, string | Buffer, RegExp]> = [
    ["non-JSON data", "this is not json", /not JSON/],
    ["an attributes-only message (no data)", "", /body is empty/],
    [
      "an unknown key",
      JSON.stringify({ ...launchMessage("seed-default", "x1"), colour: "red" }),
      /colour/,
    ],
    [
      "a wrong type",
      JSON.stringify({ ...launchMessage("seed-default", "x2"), priority: "high" }),
      /priority/,
    ],
    [
      "a message over 256 KiB",
      JSON.stringify({
        ...launchMessage("seed-default", "x3"),
        run_config: { blob: "x".repeat(270_000) },
      }),
      /over the 262144-byte limit/,
    ],
    [
      "a WANDB_API_KEY in env",
      JSON.stringify({ ...launchMessage("seed-default", "x4"), env: { WANDB_API_KEY: "mine" } }),
      /WANDB_API_KEY is not allowed/,
    ],
  ];
  for (const [name, body, message] of invalid) {
    it(`rejects ${name} as invalid_message, acknowledged and recorded`, async () => {
      const key = `invalid-${name}`;
      await stack.publishLaunch(body, { idempotency_key: key });
      const event = await stack.waitForEvent(
        (e) => e.state === "rejected" && JSON.stringify(e.error).match(message) !== null,
        20_000,
      );
      assert.equal((event.error as { kind: string }).kind, "invalid_message");
      assert.equal(event.job_name, null);
    });
  }

  it("holds launches beyond max_jobs as `queued` and cancels a queued one", async () => {
    await stack.publishLaunch(launchMessage("limited", "lim1"));
    await eventOf("lim1", "submitted");
    await stack.publishLaunch(launchMessage("limited", "lim2", { priority: 0 }));
    const held = await eventOf("lim2", "queued");
    assert.equal(held.job_name, null);
    assert.equal(jobsOf("lim2").length, 0);
    await stack.waitForRecord("limited", "lim2", "queued");

    await stack.publishLaunch({ action: "cancel", queue: "limited", run_id: "lim2" });
    const stopped = await eventOf("lim2", "stopped");
    assert.equal(stopped.previous_state, "queued");
    await stack.waitForRecord("limited", "lim2", "stopped");
  });

  it("cancels a submitted launch's job", async () => {
    await stack.publishLaunch(launchMessage("seed-default", "cancel1"));
    const submitted = await eventOf("cancel1", "submitted");
    await stack.publishLaunch({ action: "cancel", queue: "seed-default", run_id: "cancel1" });
    const stopped = await eventOf("cancel1", "stopped");
    assert.equal(stopped.previous_state, "submitted");
    assert.equal(stopped.vertex_state, "JOB_STATE_CANCELLING");
    const job = stack.vertex.control.job(String(submitted.job_name)) as { state: string };
    assert.match(job.state, /JOB_STATE_CANCELL(ING|ED)/);
  });

  it("publishes only events that match the status event schema", () => {
    assert.ok(stack.events.length > 10);
    for (const event of stack.events) StatusEventSchema.parse(event);
  });

  it("never lets the W&B API key reach a status event or a log line", () => {
    assert.ok(stack.functionLines.length > 0);
    for (const line of stack.functionLines)
      assert.ok(!line.includes(TEST_SECRET), `secret in log line: ${line}`);
    for (const event of stack.events)
      assert.ok(!JSON.stringify(event).includes(TEST_SECRET), "secret in a status event");
  });
});

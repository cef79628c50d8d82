// Vertex emulator conformance, driven by the official Node SDK in gRPC mode: create, get,
// list, cancel, delete (a long-running operation), the job lifecycle on the manual clock,
// outcomes, and UNIMPLEMENTED for the rest of JobService.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import type { VertexEmulator } from "../../local/vertex/index.js";
import {
  type JobServiceClient,
  PARENT,
  PROJECT,
  REGION,
  validJob,
  withVertexEmulator,
} from "../helpers/vertex.js";

let emulator: VertexEmulator;
let client: JobServiceClient;

withVertexEmulator((e, c) => {
  emulator = e;
  client = c;
});

beforeEach(() => emulator.control.reset());

function seconds(ts: { seconds?: unknown } | null | undefined): number {
  return Number(ts?.seconds ?? 0);
}

async function create(overrides: Record<string, unknown> = {}) {
  const [job] = await client.createCustomJob({ parent: PARENT, customJob: validJob(overrides) });
  return job;
}

async function get(name: string) {
  const [job] = await client.getCustomJob({ name });
  return job;
}

async function rejects(promise: Promise<unknown>, code: number, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: Error & { code?: number }) => {
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe("CreateCustomJob and GetCustomJob", () => {
  test("create answers the stored job: QUEUED, Vertex-style name, timestamps, resolved defaults", async () => {
    const before = Date.now() / 1000;
    const job = await create();
    assert.match(job.name ?? "", /^projects\/\d{12}\/locations\/us-central1\/customJobs\/\d{19}$/);
    assert.equal(job.displayName, "conformance");
    assert.equal(job.state, "JOB_STATE_QUEUED");
    assert.ok(seconds(job.createTime) >= Math.floor(before));
    assert.deepEqual(job.updateTime, job.createTime);
    assert.equal(job.startTime, null);
    assert.equal(job.endTime, null);
    assert.deepEqual(job.labels, { team: "ml" });
    const pool = job.jobSpec?.workerPoolSpecs?.[0];
    assert.equal(String(pool?.replicaCount), "1");
    assert.equal(pool?.diskSpec?.bootDiskType, "pd-ssd");
    assert.equal(pool?.diskSpec?.bootDiskSizeGb, 100);
    assert.deepEqual(pool?.containerSpec?.args, ["--epochs", "1"]);
  });

  test("get finds the job by project number or project ID; an unknown job is NOT_FOUND", async () => {
    const job = await create();
    const byNumber = await get(job.name ?? "");
    assert.equal(byNumber.name, job.name);
    const id = (job.name ?? "").split("/").pop();
    const byId = await get(`projects/${PROJECT}/locations/${REGION}/customJobs/${id}`);
    assert.equal(byId.name, job.name);
    await rejects(get(`${PARENT}/customJobs/1234567890123456789`), 5, /does not exist/);
    await rejects(
      get(`projects/${PROJECT}/locations/europe-west4/customJobs/${id}`),
      5,
      /does not exist/,
    );
    await rejects(get("customJobs/1"), 3, /Invalid CustomJob name/);
  });

  test("output-only fields in the request are ignored", async () => {
    const job = await create({
      state: "JOB_STATE_SUCCEEDED",
      name: "projects/x/locations/y/customJobs/1",
    });
    assert.equal(job.state, "JOB_STATE_QUEUED");
    assert.notEqual(job.name, "projects/x/locations/y/customJobs/1");
  });
});

describe("lifecycle on the manual clock", () => {
  test("QUEUED -> PENDING -> RUNNING (startTime) -> SUCCEEDED (endTime)", async () => {
    const job = await create();
    const name = job.name ?? "";
    emulator.control.advance({ job: name });
    const pending = await get(name);
    assert.equal(pending.state, "JOB_STATE_PENDING");
    assert.equal(pending.startTime, null);
    emulator.control.advance({ job: name });
    const running = await get(name);
    assert.equal(running.state, "JOB_STATE_RUNNING");
    assert.ok(running.startTime);
    assert.deepEqual(running.updateTime, running.startTime);
    emulator.control.advance({ job: name, steps: 5 });
    const done = await get(name);
    assert.equal(done.state, "JOB_STATE_SUCCEEDED");
    assert.ok(done.endTime);
    assert.deepEqual(done.startTime, running.startTime);
    assert.equal(done.error, null);
  });

  for (const [outcome, state, code, text] of [
    ["fail", "JOB_STATE_FAILED", 3, /exited with a non-zero status of 1/],
    ["preempt", "JOB_STATE_FAILED", 14, /preempted/],
    ["stockout", "JOB_STATE_FAILED", 8, /Resources are insufficient in region: us-central1/],
    ["expire", "JOB_STATE_EXPIRED", 4, /expired/],
  ] as const) {
    test(`outcome ${outcome} ends ${state} with error code ${code}`, async () => {
      const job = await create();
      emulator.control.setOutcome({ job: job.name ?? "", outcome });
      emulator.control.advance({ job: job.name ?? "", steps: 3 });
      const done = await get(job.name ?? "");
      assert.equal(done.state, state);
      assert.equal(done.error?.code, code);
      assert.match(done.error?.message ?? "", text);
      assert.ok(done.endTime);
      // stockout and expire happen before the job runs
      assert.equal(done.startTime === null, outcome === "stockout" || outcome === "expire");
    });
  }

  test("an outcome with its own code and message, applied immediately", async () => {
    const job = await create();
    emulator.control.setOutcome({
      job: job.name ?? "",
      outcome: "fail",
      code: "INTERNAL",
      message: "boom",
      immediate: true,
    });
    const done = await get(job.name ?? "");
    assert.equal(done.state, "JOB_STATE_FAILED");
    assert.deepEqual([done.error?.code, done.error?.message], [13, "boom"]);
  });

  test("a default outcome applies to jobs created afterwards", async () => {
    emulator.control.setOutcome({ outcome: "fail" });
    const job = await create();
    emulator.control.advance({ steps: 3 });
    assert.equal((await get(job.name ?? "")).state, "JOB_STATE_FAILED");
  });
});

describe("CancelCustomJob", () => {
  test("a running job goes CANCELLING -> CANCELLED with error code 1", async () => {
    const job = await create();
    const name = job.name ?? "";
    emulator.control.advance({ job: name, steps: 2 });
    const [empty] = await client.cancelCustomJob({ name });
    assert.deepEqual(Object.keys(empty ?? {}), []);
    const cancelling = await get(name);
    assert.equal(cancelling.state, "JOB_STATE_CANCELLING");
    assert.equal(cancelling.endTime, null);
    await client.cancelCustomJob({ name }); // cancelling again is fine
    emulator.control.advance({ job: name });
    const cancelled = await get(name);
    assert.equal(cancelled.state, "JOB_STATE_CANCELLED");
    assert.deepEqual([cancelled.error?.code, cancelled.error?.message], [1, "CANCELED"]);
    assert.ok(cancelled.startTime);
    assert.ok(cancelled.endTime);
  });

  test("a queued job is cancelled without ever starting; a finished job cannot be cancelled", async () => {
    const job = await create();
    const name = job.name ?? "";
    await client.cancelCustomJob({ name });
    emulator.control.advance({ job: name });
    const cancelled = await get(name);
    assert.equal(cancelled.state, "JOB_STATE_CANCELLED");
    assert.equal(cancelled.startTime, null);
    await rejects(client.cancelCustomJob({ name }), 9, /JOB_STATE_CANCELLED/);
  });
});

describe("DeleteCustomJob", () => {
  test("a finished job is deleted through a long-running operation", async () => {
    const job = await create();
    const name = job.name ?? "";
    await rejects(client.deleteCustomJob({ name }), 9, /cannot be deleted/);
    emulator.control.advance({ job: name, steps: 3 });
    const [operation] = await client.deleteCustomJob({ name });
    assert.match(operation.name ?? "", /^projects\/\d+\/locations\/us-central1\/operations\/\d+$/);
    const [result, metadata] = await operation.promise();
    assert.deepEqual(Object.keys(result ?? {}), []);
    assert.ok(
      (metadata as { genericMetadata?: { createTime?: unknown } }).genericMetadata?.createTime,
    );
    await rejects(get(name), 5, /does not exist/);
    const progress = await client.checkDeleteCustomJobProgress(operation.name ?? "");
    assert.equal(progress.done, true);
  });
});

describe("ListCustomJobs through the SDK", () => {
  test("pages are followed by the SDK's auto-pagination and async iterator", async () => {
    for (let i = 0; i < 5; i++) await create({ displayName: `job-${i}` });
    const [all] = await client.listCustomJobs({ parent: PARENT, pageSize: 2 });
    assert.equal(all.length, 5);
    assert.deepEqual(
      all.map((j) => j.displayName),
      ["job-4", "job-3", "job-2", "job-1", "job-0"],
    );
    const [firstPage, , response] = await client.listCustomJobs(
      { parent: PARENT, pageSize: 2 },
      { autoPaginate: false },
    );
    assert.equal(firstPage.length, 2);
    assert.ok(response?.nextPageToken);
    const seen: string[] = [];
    for await (const job of client.listCustomJobsAsync({ parent: PARENT, pageSize: 3 })) {
      seen.push(job.displayName ?? "");
    }
    assert.equal(seen.length, 5);
  });
});

describe("methods the emulator does not implement", () => {
  test("answer UNIMPLEMENTED and are counted in the request log", async () => {
    await rejects(
      client.getHyperparameterTuningJob({ name: `${PARENT}/hyperparameterTuningJobs/1` }),
      12,
      /not implemented/,
    );
    await rejects(client.listBatchPredictionJobs({ parent: PARENT }), 12, /not implemented/);
    const counts = emulator.control.requests().counts;
    assert.deepEqual(counts.GetHyperparameterTuningJob, { total: 1, ok: 0, errors: 1 });
  });
});

// Vertex emulator conformance over REST: the official Node SDK in REST fallback mode, raw
// proto3 JSON (shapes, Google's error bodies, payload errors), and the HTTP control API.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startVertexEmulator, type VertexEmulator } from "../../local/vertex/index.js";
import {
  type JobServiceClient,
  PARENT,
  REGION,
  rest,
  restClient,
  restError,
  validJob,
} from "../helpers/vertex.js";

let emulator: VertexEmulator;
let client: JobServiceClient;
const BASE = `/v1/${PARENT}/customJobs`;

before(async () => {
  emulator = await startVertexEmulator({ grpcPort: 0, restPort: 0, clock: { mode: "manual" } });
  client = restClient(emulator);
});

after(async () => {
  await client.close();
  await emulator.close();
});

beforeEach(() => emulator.control.reset());

describe("the SDK in REST fallback mode", () => {
  test("create, get, list, cancel and delete work unchanged", async () => {
    const [job] = await client.createCustomJob({
      parent: PARENT,
      customJob: validJob({
        jobSpec: {
          workerPoolSpecs: [
            {
              machineSpec: {
                machineType: "g2-standard-8",
                acceleratorType: "NVIDIA_L4",
                acceleratorCount: 1,
              },
              replicaCount: "1",
              containerSpec: { imageUri: "gcr.io/p/t:1", env: [{ name: "A", value: "1" }] },
            },
          ],
          scheduling: { timeout: { seconds: 3600 }, strategy: "SPOT" },
        },
      }),
    });
    const name = job.name ?? "";
    assert.equal(job.state, "JOB_STATE_QUEUED");
    assert.equal(job.jobSpec?.workerPoolSpecs?.[0]?.machineSpec?.acceleratorType, "NVIDIA_L4");
    assert.equal(Number(job.jobSpec?.scheduling?.timeout?.seconds), 3600);
    assert.equal(job.jobSpec?.scheduling?.strategy, "SPOT");

    const [got] = await client.getCustomJob({ name });
    assert.equal(got.name, name);
    const [list] = await client.listCustomJobs({ parent: PARENT, filter: "labels.team=ml" });
    assert.deepEqual(
      list.map((j) => j.name),
      [name],
    );

    await client.cancelCustomJob({ name });
    emulator.control.advance({ job: name });
    const [cancelled] = await client.getCustomJob({ name });
    assert.equal(cancelled.state, "JOB_STATE_CANCELLED");
    assert.equal(cancelled.error?.code, 1);

    const [operation] = await client.deleteCustomJob({ name });
    await operation.promise();
    await assert.rejects(client.getCustomJob({ name }), (err: Error & { code?: number }) => {
      assert.equal(err.code, 5);
      return true;
    });
  });

  test("errors come back with their gRPC code", async () => {
    await assert.rejects(
      client.createCustomJob({ parent: PARENT, customJob: validJob({ displayName: "" }) }),
      (err: Error & { code?: number }) => {
        assert.equal(err.code, 3);
        assert.match(err.message, /display_name; Message: Required field is not set/);
        return true;
      },
    );
  });
});

describe("raw proto3 JSON", () => {
  test("a job is camelCase JSON with enum names, RFC 3339 timestamps and int64 strings", async () => {
    const created = await rest(emulator, "POST", BASE, validJob());
    assert.equal(created.status, 200);
    const job = created.body;
    assert.equal(job.state, "JOB_STATE_QUEUED");
    assert.match(String(job.createTime), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    const pool = (job.jobSpec as { workerPoolSpecs: Array<Record<string, unknown>> })
      .workerPoolSpecs[0];
    assert.equal(pool?.replicaCount, "1");
    assert.deepEqual(pool?.diskSpec, { bootDiskType: "pd-ssd", bootDiskSizeGb: 100 });
    assert.equal(job.startTime, undefined);
    const got = await rest(emulator, "GET", `/v1/${String(job.name)}`);
    assert.deepEqual(got.body, job);
  });

  test("Durations are written as seconds and snake_case input is accepted", async () => {
    const created = await rest(emulator, "POST", BASE, {
      display_name: "snake",
      job_spec: {
        worker_pool_specs: [
          {
            machine_spec: { machine_type: "n1-standard-4" },
            replica_count: 1,
            container_spec: { image_uri: "gcr.io/p/t:1" },
          },
        ],
        scheduling: { timeout: "1.5s", max_wait_duration: "1800s" },
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const spec = created.body.jobSpec as { scheduling: Record<string, unknown> };
    assert.deepEqual(spec.scheduling, { timeout: "1.500s", maxWaitDuration: "1800s" });
  });

  test("numeric enums (what the SDK sends in REST mode) are accepted", async () => {
    const created = await rest(
      emulator,
      "POST",
      `${BASE}?$alt=json%3Benum-encoding=int`,
      validJob({
        jobSpec: {
          workerPoolSpecs: [
            {
              machineSpec: {
                machineType: "n1-standard-4",
                acceleratorType: 5,
                acceleratorCount: 1,
              },
              replicaCount: "1",
              containerSpec: { imageUri: "gcr.io/p/t:1" },
            },
          ],
        },
      }),
    );
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const pool = (
      created.body.jobSpec as { workerPoolSpecs: Array<{ machineSpec: Record<string, unknown> }> }
    ).workerPoolSpecs[0];
    assert.equal(pool?.machineSpec.acceleratorType, "NVIDIA_TESLA_T4");
  });

  test("payload errors use the wording of Google's front end", async () => {
    const unknown = await rest(emulator, "POST", BASE, validJob({ bogus: 1 }));
    assert.equal(unknown.status, 400);
    assert.deepEqual(restError(unknown), {
      code: 400,
      status: "INVALID_ARGUMENT",
      message: `Invalid JSON payload received. Unknown name "bogus" at 'custom_job': Cannot find field.`,
    });
    const badEnum = await rest(
      emulator,
      "POST",
      BASE,
      validJob({
        jobSpec: {
          workerPoolSpecs: [
            {
              machineSpec: { machineType: "n1-standard-4", acceleratorType: "NVIDIA_TESLA_K9000" },
              containerSpec: { imageUri: "gcr.io/p/t:1" },
            },
          ],
        },
      }),
    );
    assert.equal(badEnum.status, 400);
    assert.equal(
      restError(badEnum).message,
      `Invalid value at 'custom_job.job_spec.worker_pool_specs[0].machine_spec.accelerator_type' (type.googleapis.com/google.cloud.aiplatform.v1.AcceleratorType), "NVIDIA_TESLA_K9000"`,
    );
    const notJson = await fetch(`${emulator.restUrl}${BASE}`, { method: "POST", body: "{" });
    assert.equal(notJson.status, 400);
    assert.equal(
      ((await notJson.json()) as { error: { status: string } }).error.status,
      "INVALID_ARGUMENT",
    );
  });

  test("errors map to HTTP statuses: 404 NOT_FOUND, 400 FAILED_PRECONDITION, 501 UNIMPLEMENTED", async () => {
    const missing = await rest(emulator, "GET", `${BASE}/1234567890123456789`);
    assert.equal(missing.status, 404);
    assert.equal(restError(missing).status, "NOT_FOUND");
    const job = (await rest(emulator, "POST", BASE, validJob())).body;
    const del = await rest(emulator, "DELETE", `/v1/${String(job.name)}`);
    assert.equal(del.status, 400);
    assert.equal(restError(del).status, "FAILED_PRECONDITION");
    const wrongMethod = await rest(emulator, "PATCH", `/v1/${String(job.name)}`, {});
    assert.equal(wrongMethod.status, 501);
    const elsewhere = await rest(emulator, "GET", `/v1/${PARENT}/trainingPipelines`);
    assert.equal(elsewhere.status, 404);
  });

  test("cancel answers {} and delete answers an Operation that GetOperation completes", async () => {
    const job = (await rest(emulator, "POST", BASE, validJob())).body;
    const cancel = await rest(emulator, "POST", `/v1/${String(job.name)}:cancel`, {});
    assert.deepEqual([cancel.status, cancel.body], [200, {}]);
    emulator.control.advance({});
    const op = await rest(emulator, "DELETE", `/v1/${String(job.name)}`);
    assert.equal(op.status, 200);
    assert.equal(op.body.done, undefined);
    assert.equal(
      (op.body.metadata as Record<string, unknown>)["@type"],
      "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata",
    );
    const polled = await rest(emulator, "GET", `/v1/${String(op.body.name)}`);
    assert.equal(polled.body.done, true);
    assert.deepEqual(polled.body.response, {
      "@type": "type.googleapis.com/google.protobuf.Empty",
    });
  });

  test("a location that is not a Vertex training region is rejected", async () => {
    const answer = await rest(
      emulator,
      "POST",
      `/v1/projects/p/locations/us-moon1/customJobs`,
      validJob(),
    );
    assert.equal(answer.status, 400);
    assert.match(restError(answer).message, /Location "us-moon1" is not supported/);
    const global = await rest(emulator, "GET", `/v1/projects/p/locations/global/customJobs`);
    assert.equal(global.status, 400);
    assert.equal(REGION, "us-central1");
  });
});

describe("the HTTP control API", () => {
  const control = (method: string, path: string, body?: unknown) =>
    rest(emulator, method, `/emulator/v1${path}`, body);

  test("clock, advance, outcome, jobs and state", async () => {
    assert.deepEqual((await control("GET", "/clock")).body, { mode: "manual" });
    const job = (await rest(emulator, "POST", BASE, validJob())).body;
    const name = String(job.name);
    const advanced = await control("POST", "/advance", { job: name, steps: 2 });
    assert.equal((advanced.body.jobs as Array<{ state: string }>)[0]?.state, "JOB_STATE_RUNNING");
    assert.equal(
      (await control("POST", "/outcome", { job: name, outcome: "preempt", immediate: true }))
        .status,
      200,
    );
    const stored = await control("GET", `/jobs/${name}`);
    assert.equal(stored.body.state, "JOB_STATE_FAILED");
    assert.equal((stored.body.error as { code: number }).code, 14);
    const state = await control("GET", "/state");
    assert.equal((state.body.jobs as unknown[]).length, 1);
    assert.deepEqual(state.body.clock, { mode: "manual" });

    const timed = await control("PUT", "/clock", {
      mode: "timed",
      queuedSeconds: 0.01,
      pendingSeconds: 0.01,
      runningSeconds: 0.01,
    });
    assert.equal(timed.body.mode, "timed");
    assert.equal((await control("PUT", "/clock", { mode: "warp" })).status, 400);
    assert.equal((await control("POST", "/outcome", { job: "42", outcome: "fail" })).status, 404);
    assert.equal((await control("POST", "/outcome", { outcome: "explode" })).status, 400);
    assert.equal((await control("GET", "/nothing")).status, 404);
  });

  test("faults, act-as, request log and reset", async () => {
    const fault = await control("POST", "/faults", {
      method: "GetCustomJob",
      code: "UNAVAILABLE",
      count: 1,
    });
    assert.equal(fault.status, 200);
    assert.equal(fault.body.code, 14);
    assert.equal(((await control("GET", "/faults")).body.faults as unknown[]).length, 1);
    const failed = await rest(emulator, "GET", `${BASE}/1`);
    assert.deepEqual([failed.status, restError(failed).status], [503, "UNAVAILABLE"]);
    const after = await rest(emulator, "GET", `${BASE}/1`);
    assert.equal(after.status, 404);
    assert.equal((await control("POST", "/faults", { method: "GetCustomJob" })).status, 400);

    assert.deepEqual(
      (await control("PUT", "/act-as", { accounts: ["a@p.iam.gserviceaccount.com"] })).body,
      {
        accounts: ["a@p.iam.gserviceaccount.com"],
      },
    );
    assert.deepEqual((await control("GET", "/act-as")).body, {
      accounts: ["a@p.iam.gserviceaccount.com"],
    });

    const log = await control("GET", "/requests");
    const counts = log.body.counts as Record<string, { total: number; errors: number }>;
    assert.deepEqual(counts.GetCustomJob, { total: 2, ok: 0, errors: 2 });
    const requests = log.body.requests as Array<{ transport: string; status: string }>;
    assert.deepEqual(
      requests.map((r) => [r.transport, r.status]),
      [
        ["rest", "UNAVAILABLE"],
        ["rest", "NOT_FOUND"],
      ],
    );
    assert.equal((await control("POST", "/reset")).status, 200);
    assert.deepEqual((await control("GET", "/requests")).body, { requests: [], counts: {} });
    assert.deepEqual((await control("GET", "/act-as")).body, { accounts: null });
    assert.deepEqual((await control("GET", "/faults")).body, { faults: [] });
  });
});

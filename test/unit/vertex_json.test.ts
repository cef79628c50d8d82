// The Vertex emulator's proto3 JSON codec: well-known types, enums, int64 and errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../../local/vertex/errors.js";
import {
  canonicalJson,
  formatDuration,
  formatTimestamp,
  jsonToMessage,
  messageToJson,
  parseDuration,
  parseTimestamp,
} from "../../local/vertex/json.js";
import { loadProtos } from "../../local/vertex/protos.js";

const protos = loadProtos();
const CustomJob = protos.type("google.cloud.aiplatform.v1.CustomJob");

test("timestamps and durations", () => {
  assert.deepEqual(parseTimestamp("2026-01-01T00:00:00Z"), { seconds: 1767225600, nanos: 0 });
  assert.deepEqual(parseTimestamp("2026-01-01T01:00:00.25+01:00"), {
    seconds: 1767225600,
    nanos: 250000000,
  });
  assert.equal(parseTimestamp("2026-01-01"), null);
  assert.equal(formatTimestamp(1767225600, 0), "2026-01-01T00:00:00Z");
  assert.equal(formatTimestamp(1767225600, 1000), "2026-01-01T00:00:00.000001Z");
  assert.deepEqual(parseDuration("3600s"), { seconds: 3600, nanos: 0 });
  assert.deepEqual(parseDuration("-1.5s"), { seconds: -1, nanos: -500000000 });
  assert.equal(parseDuration("1h"), null);
  assert.equal(formatDuration(1, 500000000), "1.500s");
  assert.equal(formatDuration(7200, 0), "7200s");
});

test("a CustomJob round-trips through binary in canonical form", () => {
  const json = {
    displayName: "x",
    labels: { a: "b" },
    createTime: "2026-01-01T00:00:00.123Z",
    state: "JOB_STATE_RUNNING",
    jobSpec: {
      workerPoolSpecs: [
        {
          machineSpec: {
            machineType: "n1-standard-4",
            acceleratorType: "NVIDIA_TESLA_T4",
            acceleratorCount: 1,
          },
          replicaCount: "3",
          containerSpec: { imageUri: "gcr.io/p/t", env: [{ name: "A", value: "1" }] },
        },
      ],
      scheduling: { timeout: "3600s", strategy: "SPOT" },
    },
  };
  const bytes = CustomJob.encode(jsonToMessage(CustomJob, json)).finish();
  assert.deepEqual(messageToJson(CustomJob, CustomJob.decode(bytes)), json);
});

test("defaults are omitted; numbers and snake_case are accepted on input", () => {
  const out = canonicalJson(CustomJob, {
    display_name: "x",
    job_spec: { worker_pool_specs: [{ replica_count: 0, machine_spec: { accelerator_type: 5 } }] },
  });
  assert.deepEqual(out, {
    displayName: "x",
    jobSpec: { workerPoolSpecs: [{ machineSpec: { acceleratorType: "NVIDIA_TESLA_T4" } }] },
  });
});

test("payload errors", () => {
  const message = (json: unknown) => {
    try {
      canonicalJson(CustomJob, json as never, "custom_job");
    } catch (err) {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, "INVALID_ARGUMENT");
      return err.message;
    }
    return "accepted";
  };
  assert.equal(
    message({ nope: 1 }),
    `Invalid JSON payload received. Unknown name "nope" at 'custom_job': Cannot find field.`,
  );
  assert.equal(
    message({ displayName: 5 }),
    `Invalid value at 'custom_job.display_name' (TYPE_STRING), 5`,
  );
  assert.equal(
    message({ createTime: "today" }),
    `Invalid value at 'custom_job.create_time' (type.googleapis.com/google.protobuf.Timestamp), "today"`,
  );
  assert.equal(
    message({ state: "RUNNING" }),
    `Invalid value at 'custom_job.state' (type.googleapis.com/google.cloud.aiplatform.v1.JobState), "RUNNING"`,
  );
  assert.equal(
    message({ jobSpec: { workerPoolSpecs: [{ replicaCount: "many" }] } }),
    `Invalid value at 'custom_job.job_spec.worker_pool_specs[0].replica_count' (TYPE_INT64), "many"`,
  );
});

// The real `gcloud ai custom-jobs` against the Vertex emulator's REST port, through
// api_endpoint_overrides/aiplatform (gcloud keeps a 127.0.0.1 override as it is; it only adds
// the region prefix to hosts that start with "aiplatform"). gcloud is slow (~1 s a call), so
// this file makes a handful of calls.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startVertexEmulator, type VertexEmulator } from "../../local/vertex/index.js";
import { type Gcloud, gcloudMissing, makeGcloud } from "../helpers/gcloud.js";
import { PARENT, rest, validJob } from "../helpers/vertex.js";

const missing = gcloudMissing();
let emulator: VertexEmulator;
let gcloud: Gcloud;

before(async () => {
  if (missing) return;
  emulator = await startVertexEmulator({ grpcPort: 0, restPort: 0, clock: { mode: "manual" } });
  gcloud = makeGcloud({ aiplatform: `${emulator.restUrl}/` });
});

after(async () => {
  if (missing) return;
  gcloud.close();
  await emulator.close();
});

function skipWithoutGcloud(t: { skip(message: string): void }): boolean {
  if (!missing) return false;
  console.warn(`SKIPPED gcloud conformance tests: ${missing}`);
  t.skip(`SKIPPED: ${missing}`);
  return true;
}

test("gcloud ai custom-jobs list, describe and cancel", async (t) => {
  if (skipWithoutGcloud(t)) return;
  const created = await rest(
    emulator,
    "POST",
    `/v1/${PARENT}/customJobs`,
    validJob({ displayName: "from-sdk" }),
  );
  const name = String(created.body.name);
  const id = name.split("/").pop() ?? "";
  emulator.control.advance({ job: name, steps: 2 });

  const list = await gcloud.run([
    "ai",
    "custom-jobs",
    "list",
    "--region",
    "us-central1",
    "--format",
    "json",
  ]);
  assert.equal(list.code, 0, list.stderr);
  const jobs = JSON.parse(list.stdout) as Array<{
    name: string;
    state: string;
    displayName: string;
  }>;
  assert.deepEqual(
    jobs.map((j) => [j.name, j.state, j.displayName]),
    [[name, "JOB_STATE_RUNNING", "from-sdk"]],
  );

  const describe = await gcloud.run([
    "ai",
    "custom-jobs",
    "describe",
    id,
    "--region",
    "us-central1",
    "--format",
    "json",
  ]);
  assert.equal(describe.code, 0, describe.stderr);
  const job = JSON.parse(describe.stdout) as Record<string, unknown>;
  assert.equal(job.name, name);
  assert.ok(job.startTime);

  const cancel = await gcloud.run(["ai", "custom-jobs", "cancel", id, "--region", "us-central1"]);
  assert.equal(cancel.code, 0, cancel.stderr);
  emulator.control.advance({ job: name });
  const stored = emulator.control.job(name);
  assert.equal(stored.state, "JOB_STATE_CANCELLED");

  const again = await gcloud.run(["ai", "custom-jobs", "cancel", id, "--region", "us-central1"]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /FAILED_PRECONDITION: Cannot cancel CustomJob/);
});

test("gcloud ai custom-jobs create --config, and a rejected create", async (t) => {
  if (skipWithoutGcloud(t)) return;
  const config = join(tmpdir(), `vx-gcloud-${process.pid}.yaml`);
  writeFileSync(
    config,
    [
      "workerPoolSpecs:",
      "  - machineSpec:",
      "      machineType: n1-standard-4",
      "    replicaCount: 1",
      "    containerSpec:",
      "      imageUri: gcr.io/local-project/trainer:1",
      "",
    ].join("\n"),
  );
  const create = await gcloud.run([
    "ai",
    "custom-jobs",
    "create",
    "--region",
    "us-central1",
    "--display-name",
    "from-gcloud",
    "--config",
    config,
    "--labels",
    "team=ml",
  ]);
  assert.equal(create.code, 0, create.stderr);
  const created = emulator.control.jobs().find((j) => j.displayName === "from-gcloud");
  assert.ok(created);
  assert.deepEqual(created.labels, { team: "ml" });

  const bad = await gcloud.run([
    "ai",
    "custom-jobs",
    "create",
    "--region",
    "us-central1",
    "--display-name",
    "bad",
    "--worker-pool-spec=machine-type=n1-standard-4,accelerator-type=NVIDIA_L4,container-image-uri=gcr.io/p/t",
  ]);
  assert.notEqual(bad.code, 0);
  assert.match(
    bad.stderr,
    /INVALID_ARGUMENT: Accelerator "NVIDIA_L4" is not supported for machine type "n1-standard-4"/,
  );
});

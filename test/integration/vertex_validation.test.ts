// Every CreateCustomJob validation rule of the Vertex emulator: status code and wording.
// Most cases go over REST (one request each); a few go over gRPC to show the codes match.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import type { VertexEmulator } from "../../local/vertex/index.js";
import {
  type JobServiceClient,
  PARENT,
  rest,
  restError,
  validJob,
  withPool,
  withVertexEmulator,
} from "../helpers/vertex.js";

let emulator: VertexEmulator;
let client: JobServiceClient;

withVertexEmulator((e, c) => {
  emulator = e;
  client = c;
});

beforeEach(() => emulator.control.reset());

async function createIn(location: string, job: unknown) {
  return rest(emulator, "POST", `/v1/projects/local-project/locations/${location}/customJobs`, job);
}

async function accepted(job: unknown, location = "us-central1"): Promise<Record<string, unknown>> {
  const answer = await createIn(location, job);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

async function rejected(
  job: unknown,
  status: string,
  message: string | RegExp,
  location = "us-central1",
): Promise<void> {
  const answer = await createIn(location, job);
  const error = restError(answer);
  assert.ok(error, `expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(error.status, status, error.message);
  if (typeof message === "string") assert.equal(error.message, message);
  else assert.match(error.message, message);
}

const violation = (field: string, message = "Required field is not set.") =>
  `List of found errors:\t1.Field: ${field}; Message: ${message}\t`;

describe("required fields", () => {
  test("display name, job spec and worker pools", async () => {
    await rejected(
      validJob({ displayName: undefined }),
      "INVALID_ARGUMENT",
      violation("display_name"),
    );
    await rejected(validJob({ jobSpec: undefined }), "INVALID_ARGUMENT", violation("job_spec"));
    await rejected(
      validJob({ jobSpec: { workerPoolSpecs: [] } }),
      "INVALID_ARGUMENT",
      violation("job_spec.worker_pool_specs"),
    );
    await rejected(
      validJob({ jobSpec: { workerPoolSpecs: [{}] } }),
      "INVALID_ARGUMENT",
      violation("job_spec.worker_pool_specs[0]", "The first worker pool spec must not be empty."),
    );
  });

  test("several missing fields are listed together", async () => {
    const answer = await createIn("us-central1", {
      jobSpec: { workerPoolSpecs: [{ replicaCount: 1 }] },
    });
    assert.equal(
      restError(answer).message,
      "List of found errors:\t1.Field: display_name; Message: Required field is not set.\t" +
        "2.Field: job_spec.worker_pool_specs[0].machine_spec.machine_type; Message: Required field is not set.\t" +
        "3.Field: job_spec.worker_pool_specs[0].container_spec.image_uri; Message: Required field is not set.\t",
    );
  });

  test("the container image, or the python package's image, URIs and module", async () => {
    await rejected(
      withPool({ containerSpec: { args: ["x"] } }),
      "INVALID_ARGUMENT",
      violation("job_spec.worker_pool_specs[0].container_spec.image_uri"),
    );
    const answer = await createIn(
      "us-central1",
      withPool({ containerSpec: undefined, pythonPackageSpec: { args: ["x"] } }),
    );
    assert.equal(
      restError(answer).message,
      "List of found errors:\t" +
        "1.Field: job_spec.worker_pool_specs[0].python_package_spec.executor_image_uri; Message: Required field is not set.\t" +
        "2.Field: job_spec.worker_pool_specs[0].python_package_spec.package_uris; Message: Required field is not set.\t" +
        "3.Field: job_spec.worker_pool_specs[0].python_package_spec.python_module; Message: Required field is not set.\t",
    );
    await accepted(
      withPool({
        containerSpec: undefined,
        pythonPackageSpec: {
          executorImageUri: "us-docker.pkg.dev/vertex-ai/training/tf-cpu.2-14:latest",
          packageUris: ["gs://b/trainer-0.1.tar.gz"],
          pythonModule: "trainer.task",
        },
      }),
    );
    await rejected(
      withPool({
        containerSpec: undefined,
        pythonPackageSpec: {
          executorImageUri: "us-docker.pkg.dev/vertex-ai/training/tf-cpu.2-14:latest",
          packageUris: Array.from({ length: 101 }, (_, i) => `gs://b/p${i}.tar.gz`),
          pythonModule: "trainer.task",
        },
      }),
      "INVALID_ARGUMENT",
      /Too many package URIs .*101 given, at most 100/,
    );
  });

  test("container_spec and python_package_spec are a oneof", async () => {
    await rejected(
      withPool({ pythonPackageSpec: { pythonModule: "m" } }),
      "INVALID_ARGUMENT",
      "Invalid JSON payload received. Oneof field 'task' is already set. Cannot set 'pythonPackageSpec'",
    );
  });

  test("over gRPC the same rules answer INVALID_ARGUMENT (3)", async () => {
    await assert.rejects(
      client.createCustomJob({ parent: PARENT, customJob: validJob({ displayName: "" }) }),
      (err: Error & { code?: number }) => err.code === 3 && /display_name/.test(err.message),
    );
    await assert.rejects(
      client.createCustomJob({ parent: "projects/local-project", customJob: validJob() }),
      (err: Error & { code?: number }) => err.code === 3 && /Invalid parent/.test(err.message),
    );
    await assert.rejects(
      client.createCustomJob({ parent: PARENT }),
      (err: Error & { code?: number }) =>
        err.code === 3 && /custom_job; Message: Required/.test(err.message),
    );
  });
});

describe("display name and labels", () => {
  test("a display name has at most 128 characters (code points)", async () => {
    await accepted(validJob({ displayName: "x".repeat(128) }));
    await accepted(validJob({ displayName: "😀".repeat(128) }));
    await rejected(
      validJob({ displayName: "x".repeat(129) }),
      "INVALID_ARGUMENT",
      violation(
        "display_name",
        "The display name is too long: it can have at most 128 characters.",
      ),
    );
  });

  test("label keys and values follow Google's label rules", async () => {
    await accepted(validJob({ labels: { "a-b_c1": "", ключ: "значение", k: "v-1_2" } }));
    await accepted(validJob({ labels: { ["k".repeat(64)]: "v".repeat(64) } }));
    await rejected(
      validJob({ labels: { Team: "x" } }),
      "INVALID_ARGUMENT",
      /Label key "Team" is invalid/,
    );
    await rejected(
      validJob({ labels: { "1team": "x" } }),
      "INVALID_ARGUMENT",
      /must start with a lowercase letter/,
    );
    await rejected(
      validJob({ labels: { "a.b": "x" } }),
      "INVALID_ARGUMENT",
      /Label key "a.b" is invalid/,
    );
    await rejected(
      validJob({ labels: { ["k".repeat(65)]: "x" } }),
      "INVALID_ARGUMENT",
      /between 1 and 64 characters/,
    );
    await rejected(
      validJob({ labels: { k: "Value" } }),
      "INVALID_ARGUMENT",
      /Label value "Value" of key "k"/,
    );
    await rejected(
      validJob({ labels: { k: "v".repeat(65) } }),
      "INVALID_ARGUMENT",
      /no longer than 64/,
    );
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    await rejected(
      validJob({ labels: many }),
      "INVALID_ARGUMENT",
      /at most 64 labels, but 65 were given/,
    );
    await accepted(
      validJob({
        labels: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, "v"])),
      }),
    );
  });
});

describe("machines and accelerators", () => {
  const machine = (machineSpec: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    withPool({ machineSpec, ...extra });

  test("the machine type must be one Vertex trains on", async () => {
    await rejected(
      machine({ machineType: "n1-standard-1" }),
      "INVALID_ARGUMENT",
      'Machine type "n1-standard-1" is not supported.',
    );
    await rejected(machine({ machineType: "c3-standard-4" }), "INVALID_ARGUMENT", /c3-standard-4/);
    await rejected(
      withPool({ machineSpec: {} }),
      "INVALID_ARGUMENT",
      violation("job_spec.worker_pool_specs[0].machine_spec.machine_type"),
    );
  });

  test("accelerators must fit the machine family", async () => {
    await accepted(
      machine({
        machineType: "n1-standard-8",
        acceleratorType: "NVIDIA_TESLA_T4",
        acceleratorCount: 2,
      }),
    );
    await rejected(
      machine({
        machineType: "e2-standard-4",
        acceleratorType: "NVIDIA_TESLA_T4",
        acceleratorCount: 1,
      }),
      "INVALID_ARGUMENT",
      'Accelerator "NVIDIA_TESLA_T4" is not supported for machine type "e2-standard-4".',
    );
    await rejected(
      machine({ machineType: "n1-standard-4", acceleratorType: "NVIDIA_L4", acceleratorCount: 1 }),
      "INVALID_ARGUMENT",
      'Accelerator "NVIDIA_L4" is not supported for machine type "n1-standard-4".',
    );
    await rejected(
      machine({
        machineType: "n1-standard-4",
        acceleratorType: "NVIDIA_TESLA_T4",
        acceleratorCount: 3,
      }),
      "INVALID_ARGUMENT",
      /Accelerator count 3 is not supported for machine type "n1-standard-4"/,
    );
    await rejected(
      machine({
        machineType: "n1-standard-16",
        acceleratorType: "NVIDIA_TESLA_V100",
        acceleratorCount: 1,
      }),
      "INVALID_ARGUMENT",
      /Accelerator count 1/,
    );
    await rejected(
      machine({
        machineType: "n1-standard-64",
        acceleratorType: "NVIDIA_TESLA_P100",
        acceleratorCount: 4,
      }),
      "INVALID_ARGUMENT",
      /"NVIDIA_TESLA_P100" is not supported for machine type "n1-standard-64"/,
    );
  });

  test("accelerator-optimized machines need their own GPU in their own count", async () => {
    await accepted(
      machine({
        machineType: "a2-highgpu-2g",
        acceleratorType: "NVIDIA_TESLA_A100",
        acceleratorCount: 2,
      }),
    );
    await rejected(
      machine({ machineType: "a2-highgpu-1g" }),
      "INVALID_ARGUMENT",
      /must be used with accelerator "NVIDIA_TESLA_A100" \(count 1\)/,
    );
    await rejected(
      machine({
        machineType: "a2-highgpu-1g",
        acceleratorType: "NVIDIA_TESLA_A100",
        acceleratorCount: 2,
      }),
      "INVALID_ARGUMENT",
      /Accelerator count 2/,
    );
    await rejected(
      machine({
        machineType: "g2-standard-4",
        acceleratorType: "NVIDIA_TESLA_T4",
        acceleratorCount: 1,
      }),
      "INVALID_ARGUMENT",
      /"NVIDIA_TESLA_T4" is not supported for machine type "g2-standard-4"/,
    );
  });

  test("the accelerator must be offered for training in the job's region", async () => {
    await rejected(
      machine({
        machineType: "a3-highgpu-1g",
        acceleratorType: "NVIDIA_H100_80GB",
        acceleratorCount: 1,
      }),
      "INVALID_ARGUMENT",
      'Accelerator "NVIDIA_H100_80GB" is not supported in location "us-west2".',
      "us-west2",
    );
    await accepted(
      machine({
        machineType: "a3-highgpu-1g",
        acceleratorType: "NVIDIA_H100_80GB",
        acceleratorCount: 1,
      }),
      "us-east4",
    );
  });

  test("TPUs: cloud-tpu counts, v5e topologies, a single worker pool", async () => {
    await accepted(
      machine({ machineType: "cloud-tpu", acceleratorType: "TPU_V2", acceleratorCount: 8 }),
    );
    await rejected(
      machine({ machineType: "cloud-tpu", acceleratorType: "TPU_V2", acceleratorCount: 16 }),
      "INVALID_ARGUMENT",
      /Accelerator count 16/,
    );
    await accepted(machine({ machineType: "ct5lp-hightpu-4t", tpuTopology: "2x2" }));
    await rejected(
      machine({ machineType: "ct5lp-hightpu-4t" }),
      "INVALID_ARGUMENT",
      violation("job_spec.worker_pool_specs[0].machine_spec.tpu_topology"),
    );
    await rejected(
      machine({ machineType: "ct5lp-hightpu-4t", tpuTopology: "3x3" }),
      "INVALID_ARGUMENT",
      'TPU topology "3x3" is not supported for machine type "ct5lp-hightpu-4t".',
    );
    const twoPools = validJob({
      jobSpec: {
        workerPoolSpecs: [
          {
            machineSpec: {
              machineType: "cloud-tpu",
              acceleratorType: "TPU_V2",
              acceleratorCount: 8,
            },
            replicaCount: 1,
            containerSpec: { imageUri: "gcr.io/p/t" },
          },
          {
            machineSpec: { machineType: "n1-standard-4" },
            replicaCount: 1,
            containerSpec: { imageUri: "gcr.io/p/t" },
          },
        ],
      },
    });
    await rejected(twoPools, "INVALID_ARGUMENT", /supports a single worker pool with one replica/);
  });
});

describe("worker pools, replicas, disks, env", () => {
  test("the chief pool has one replica; other pools may have more; a skipped pool is {}", async () => {
    await rejected(
      withPool({ replicaCount: "2" }),
      "INVALID_ARGUMENT",
      violation(
        "job_spec.worker_pool_specs[0].replica_count",
        "The replica count of the first worker pool (the chief) cannot be greater than 1.",
      ),
    );
    await rejected(withPool({ replicaCount: "-1" }), "INVALID_ARGUMENT", /must not be negative/);
    const job = await accepted(
      validJob({
        jobSpec: {
          workerPoolSpecs: [
            {
              machineSpec: { machineType: "n1-standard-4" },
              containerSpec: { imageUri: "gcr.io/p/t" },
            },
            {},
            {
              machineSpec: { machineType: "n1-highcpu-16" },
              replicaCount: "4",
              containerSpec: { imageUri: "gcr.io/p/t" },
            },
          ],
        },
      }),
    );
    const pools = (job.jobSpec as { workerPoolSpecs: Array<Record<string, unknown>> })
      .workerPoolSpecs;
    assert.deepEqual(
      pools.map((p) => p.replicaCount),
      ["1", undefined, "4"],
    );
  });

  test("boot disks: type and size range, and the A3 Ultra default", async () => {
    await rejected(
      withPool({ diskSpec: { bootDiskType: "pd-balanced" } }),
      "INVALID_ARGUMENT",
      /Boot disk type "pd-balanced"/,
    );
    await rejected(
      withPool({ diskSpec: { bootDiskSizeGb: 99 } }),
      "INVALID_ARGUMENT",
      /between 100 and 64000 GB/,
    );
    await rejected(
      withPool({ diskSpec: { bootDiskSizeGb: 64001 } }),
      "INVALID_ARGUMENT",
      /between 100 and 64000 GB/,
    );
    await accepted(withPool({ diskSpec: { bootDiskType: "pd-standard", bootDiskSizeGb: 64000 } }));
    const job = await accepted(
      withPool({
        machineSpec: {
          machineType: "a3-ultragpu-8g",
          acceleratorType: "NVIDIA_H200_141GB",
          acceleratorCount: 8,
        },
      }),
    );
    const pool = (job.jobSpec as { workerPoolSpecs: Array<{ diskSpec: unknown }> })
      .workerPoolSpecs[0];
    assert.deepEqual(pool?.diskSpec, { bootDiskType: "hyperdisk-balanced", bootDiskSizeGb: 100 });
  });

  test("at most 100 environment variables, each named like a C identifier", async () => {
    const env = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `V${i}`, value: "x" }));
    await accepted(withPool({ containerSpec: { imageUri: "gcr.io/p/t", env: env(100) } }));
    await rejected(
      withPool({ containerSpec: { imageUri: "gcr.io/p/t", env: env(101) } }),
      "INVALID_ARGUMENT",
      /Too many environment variables .*101 given, at most 100/,
    );
    await rejected(
      withPool({ containerSpec: { imageUri: "gcr.io/p/t", env: [{ name: "1BAD", value: "x" }] } }),
      "INVALID_ARGUMENT",
      /"1BAD" .* valid C identifier/,
    );
    await rejected(
      withPool({ containerSpec: { imageUri: "gcr.io/p/t", env: [{ value: "x" }] } }),
      "INVALID_ARGUMENT",
      violation("job_spec.worker_pool_specs[0].container_spec.env[0].name"),
    );
  });
});

describe("scheduling, network, output directory", () => {
  test("FLEX_START needs a supported GPU, the same machines everywhere and a timeout of 7 days at most", async () => {
    const l4 = { machineType: "g2-standard-8", acceleratorType: "NVIDIA_L4", acceleratorCount: 1 };
    await accepted(
      withPool(
        { machineSpec: l4 },
        { scheduling: { strategy: "FLEX_START", maxWaitDuration: "1800s" } },
      ),
    );
    await rejected(
      withPool({}, { scheduling: { strategy: "FLEX_START" } }),
      "INVALID_ARGUMENT",
      /FLEX_START is not supported for accelerator "none"/,
    );
    await rejected(
      withPool({ machineSpec: l4 }, { scheduling: { strategy: "FLEX_START", timeout: "691200s" } }),
      "INVALID_ARGUMENT",
      /timeout of 7 days or less/,
    );
  });

  test("network and output directory forms", async () => {
    await accepted(
      validJob({
        jobSpec: {
          ...(validJob().jobSpec as object),
          network: "projects/123/global/networks/default",
        },
      }),
    );
    await rejected(
      validJob({ jobSpec: { ...(validJob().jobSpec as object), network: "default" } }),
      "INVALID_ARGUMENT",
      /Invalid network "default"/,
    );
    await rejected(
      validJob({
        jobSpec: {
          ...(validJob().jobSpec as object),
          baseOutputDirectory: { outputUriPrefix: "/tmp/out" },
        },
      }),
      "INVALID_ARGUMENT",
      /must be a Cloud Storage URI/,
    );
  });
});

describe("service accounts and act-as", () => {
  const withAccount = (serviceAccount: string) =>
    validJob({ jobSpec: { ...(validJob().jobSpec as object), serviceAccount } });
  const denied = (account: string) =>
    `You do not have permission to act as service_account: ${account}. (or it may not exist).`;

  test("without an allow-list any well-formed account is accepted; a malformed one cannot exist", async () => {
    await accepted(withAccount("trainer@local-project.iam.gserviceaccount.com"));
    await rejected(withAccount("not-an-account"), "INVALID_ARGUMENT", denied("not-an-account"));
  });

  test("with an allow-list, other accounts are denied with Vertex's act-as error", async () => {
    emulator.control.setActAs(["trainer@local-project.iam.gserviceaccount.com"]);
    await accepted(withAccount("trainer@local-project.iam.gserviceaccount.com"));
    await accepted(validJob()); // no account: runs as the Vertex AI Custom Code Service Agent
    await rejected(
      withAccount("other@local-project.iam.gserviceaccount.com"),
      "INVALID_ARGUMENT",
      denied("other@local-project.iam.gserviceaccount.com"),
    );
    await assert.rejects(
      client.createCustomJob({
        parent: PARENT,
        customJob: withAccount("other@local-project.iam.gserviceaccount.com"),
      }),
      (err: Error & { code?: number }) =>
        err.code === 3 && err.message.includes("act as service_account"),
    );
    emulator.control.setActAs([]);
    await rejected(
      withAccount("trainer@local-project.iam.gserviceaccount.com"),
      "INVALID_ARGUMENT",
      /act as/,
    );
  });
});

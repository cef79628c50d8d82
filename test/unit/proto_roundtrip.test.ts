/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B macros such as ${image_uri} are literal strings here. */
// The request survives the real client's protos: the object handed to
// JobServiceClient.createCustomJob is encoded and decoded with the protos.json that
// @google-cloud/aiplatform ships, and comes back equal — no field lost, no enum turned
// into 0. Also: the small enum lists in code match those protos, and render's proto3 JSON.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import type * as protobuf from "protobufjs";
import { toProto3Json } from "../../shared/resolve/proto_json.js";
import {
  ACCELERATOR_TYPES,
  RESERVATION_AFFINITY_TYPE_ENUM,
  RESERVATION_AFFINITY_TYPES,
  SCHEDULING_STRATEGIES,
  SCHEDULING_STRATEGY_ENUM,
} from "../../shared/schemas/vertex_enums.js";
import { baseMessage, baseQueue, resolveRaw, set } from "../helpers/resolve_fixtures.js";

const require = createRequire(import.meta.url);
const pb = require("protobufjs") as typeof protobuf;
const root = pb.Root.fromJSON(
  require("@google-cloud/aiplatform/build/protos/protos.json") as protobuf.INamespace,
);
const Request = root.lookupType("google.cloud.aiplatform.v1.CreateCustomJobRequest");

type Obj = Record<string, unknown>;

/** encode(fromObject(x)) → decode → toObject, as the client's gRPC layer would see it. */
function roundTrip(request: Obj): Obj {
  const bytes = Request.encode(Request.fromObject(request)).finish();
  return Request.toObject(Request.decode(bytes), { enums: String, longs: Number }) as Obj;
}

/** A queue that sets every spec/run key the resolver translates. */
function everything(): Obj {
  const q = baseQueue();
  set(q, "spec.worker_pool_specs", [
    {
      machine_spec: {
        machine_type: "n1-standard-16",
        accelerator_type: "NVIDIA_TESLA_T4",
        accelerator_count: 4,
      },
      replica_count: 1,
      disk_spec: { boot_disk_type: "pd-ssd", boot_disk_size_gb: 200 },
      nfs_mounts: [{ server: "10.0.0.2", path: "/exports", mount_point: "data" }],
      container_spec: {
        image_uri: "${image_uri}",
        command: ["python"],
        args: ["-m", "train"],
        env: [{ name: "A", value: "1" }],
      },
    },
    {
      machine_spec: {
        machine_type: "n1-standard-16",
        accelerator_type: "NVIDIA_TESLA_T4",
        accelerator_count: 4,
      },
      replica_count: 3,
      python_package_spec: {
        executor_image_uri: "us-docker.pkg.dev/vertex-ai/training/x:1",
        package_uris: ["gs://bkt/p.tar.gz"],
        python_module: "trainer.task",
        args: ["--x"],
        env: [{ name: "B", value: "2" }],
      },
    },
  ]);
  set(q, "spec.base_output_dir", "gs://acme-staging/out");
  set(q, "spec.labels", { team: "vision" });
  set(
    q,
    "spec.encryption_spec_key_name",
    "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k",
  );
  set(q, "spec.display_name", "everything");
  set(q, "run", {
    service_account: "trainer@acme-ml.iam.gserviceaccount.com",
    timeout: 3600,
    network: "projects/123/global/networks/vpc",
    reserved_ip_ranges: ["range-a"],
    enable_web_access: true,
    enable_dashboard_access: true,
    tensorboard: "projects/p/locations/us-central1/tensorboards/7",
    experiment: "exp",
    experiment_run: "r1",
    restart_job_on_worker_restart: true,
    disable_retries: true,
    scheduling_strategy: "SPOT",
    max_wait_duration: 600,
    persistent_resource_id: "pool-a",
  });
  return q;
}

/** FLEX_START with max_wait_duration: 0, which custom_job.proto says means wait indefinitely. */
function flexStartWaitingForever(): Obj {
  const q = set(baseQueue(), "spec.worker_pool_specs[0].machine_spec", {
    machine_type: "g2-standard-8",
    accelerator_type: "NVIDIA_L4",
    accelerator_count: 1,
  });
  set(q, "run.scheduling_strategy", "FLEX_START");
  return set(q, "run.max_wait_duration", 0);
}

describe("the request survives the client's protos", () => {
  const cases: Array<[string, () => Obj]> = [
    ["the seed's default config", baseQueue],
    ["every key set", everything],
    [
      "a TPU VM with a topology",
      () =>
        set(baseQueue(), "spec.worker_pool_specs[0].machine_spec", {
          machine_type: "ct5lp-hightpu-4t",
          tpu_topology: "2x2",
        }),
    ],
    [
      "FLEX_START",
      () =>
        set(
          set(baseQueue(), "spec.worker_pool_specs[0].machine_spec", {
            machine_type: "g2-standard-8",
            accelerator_type: "NVIDIA_L4",
            accelerator_count: 1,
          }),
          "run.scheduling_strategy",
          "FLEX_START",
        ),
    ],
    ["FLEX_START with max_wait_duration 0 (wait indefinitely)", flexStartWaitingForever],
    [
      "reservations and a GPU partition",
      () =>
        set(baseQueue(), "spec.worker_pool_specs", [
          {
            machine_spec: {
              machine_type: "a2-highgpu-1g",
              accelerator_type: "NVIDIA_TESLA_A100",
              accelerator_count: 1,
              gpu_partition_size: "1g.5gb",
              reservation_affinity: {
                reservation_affinity_type: "SPECIFIC_RESERVATION",
                key: "compute.googleapis.com/reservation-name",
                values: ["projects/acme-ml/zones/us-central1-a/reservations/a100"],
              },
            },
            container_spec: { image_uri: "${image_uri}" },
          },
          {
            machine_spec: {
              machine_type: "n1-standard-4",
              reservation_affinity: { reservation_affinity_type: "ANY_RESERVATION" },
            },
            container_spec: { image_uri: "${image_uri}" },
          },
        ]),
    ],
  ];
  for (const [title, queue] of cases) {
    it(`${title}: encode → decode gives back the same object`, () => {
      const r = resolveRaw(
        queue(),
        {
          ...baseMessage(),
          name: "n",
          author: "a",
          job: "acme/vision/j:v1",
          run_config: { lr: 1 },
        },
        { project: "acme-ml", wandbApiKey: "k" },
      );
      const request = { parent: r.parent, customJob: r.customJob };
      assert.deepEqual(roundTrip(request), request);
    });
  }
  it("every enum comes back by name, none as the 0 value", () => {
    const r = resolveRaw(everything(), baseMessage());
    const decoded = roundTrip({ parent: r.parent, customJob: r.customJob }) as {
      customJob: { jobSpec: { workerPoolSpecs: Array<{ machineSpec: Obj }>; scheduling: Obj } };
    };
    assert.equal(
      decoded.customJob.jobSpec.workerPoolSpecs[0]?.machineSpec.acceleratorType,
      "NVIDIA_TESLA_T4",
    );
    assert.equal(decoded.customJob.jobSpec.scheduling.strategy, "SPOT");
    const numeric = Request.toObject(
      Request.decode(
        Request.encode(Request.fromObject({ parent: r.parent, customJob: r.customJob })).finish(),
      ),
      { enums: Number },
    ) as {
      customJob: { jobSpec: { workerPoolSpecs: Array<{ machineSpec: Obj }>; scheduling: Obj } };
    };
    assert.equal(numeric.customJob.jobSpec.workerPoolSpecs[0]?.machineSpec.acceleratorType, 5);
    assert.equal(numeric.customJob.jobSpec.scheduling.strategy, 4);
  });
  it("the test can fail: a snake_case key is dropped by the client", () => {
    const r = resolveRaw(baseQueue(), baseMessage());
    const jobSpec: Obj = {
      ...(r.customJob.jobSpec as Obj),
      service_account: "x@p.iam.gserviceaccount.com",
    };
    delete jobSpec.serviceAccount;
    const request = { parent: r.parent, customJob: { ...r.customJob, jobSpec } };
    assert.notDeepEqual(roundTrip(request), request);
    assert.equal(((roundTrip(request).customJob as Obj).jobSpec as Obj).serviceAccount, undefined);
  });
  it("the test can fail: an unknown enum name is dropped (it would be sent as 0)", () => {
    const r = resolveRaw(
      set(baseQueue(), "spec.worker_pool_specs[0].machine_spec", {
        machine_type: "n1-standard-8",
        accelerator_type: "NVIDIA_TESLA_T4",
        accelerator_count: 1,
      }),
      baseMessage(),
    );
    const request = structuredClone({ parent: r.parent, customJob: r.customJob }) as {
      parent: string;
      customJob: { jobSpec: { workerPoolSpecs: Array<{ machineSpec: Obj }> } };
    };
    const ms = request.customJob.jobSpec.workerPoolSpecs[0]?.machineSpec as Obj;
    ms.acceleratorType = "NVIDIA_TESLA_T5";
    const back = roundTrip(request) as typeof request;
    assert.equal(back.customJob.jobSpec.workerPoolSpecs[0]?.machineSpec.acceleratorType, undefined);
  });
});

describe("machine_spec's reservation affinity and GPU partition reach the proto", () => {
  it("by their camelCase names, the type by name", () => {
    const q = set(baseQueue(), "spec.worker_pool_specs[0].machine_spec", {
      machine_type: "a2-highgpu-1g",
      accelerator_type: "NVIDIA_TESLA_A100",
      accelerator_count: 1,
      gpu_partition_size: "1g.5gb",
      reservation_affinity: {
        reservation_affinity_type: "SPECIFIC_RESERVATION",
        key: "compute.googleapis.com/reservation-name",
        values: ["projects/acme-ml/zones/us-central1-a/reservations/a100"],
      },
    });
    const r = resolveRaw(q, baseMessage());
    const request = { parent: r.parent, customJob: r.customJob };
    const numeric = Request.toObject(
      Request.decode(Request.encode(Request.fromObject(request)).finish()),
      { enums: Number },
    ) as { customJob: { jobSpec: { workerPoolSpecs: Array<{ machineSpec: Obj }> } } };
    const ms = numeric.customJob.jobSpec.workerPoolSpecs[0]?.machineSpec as Obj;
    assert.equal(ms.gpuPartitionSize, "1g.5gb");
    assert.deepEqual(ms.reservationAffinity, {
      reservationAffinityType: 3,
      key: "compute.googleapis.com/reservation-name",
      values: ["projects/acme-ml/zones/us-central1-a/reservations/a100"],
    });
    const json = toProto3Json(request) as {
      customJob: { jobSpec: { workerPoolSpecs: Array<{ machineSpec: Obj }> } };
    };
    const pool = json.customJob.jobSpec.workerPoolSpecs[0] as { machineSpec: Obj };
    assert.equal(
      (pool.machineSpec.reservationAffinity as Obj).reservationAffinityType,
      "SPECIFIC_RESERVATION",
    );
  });
});

describe("the enum lists in code match the shipped protos", () => {
  const names = (path: string) => Object.keys(root.lookupEnum(path).values);
  it("AcceleratorType", () => {
    assert.deepEqual(
      [...ACCELERATOR_TYPES].sort(),
      names("google.cloud.aiplatform.v1.AcceleratorType").sort(),
    );
  });
  it("Scheduling.Strategy", () => {
    assert.deepEqual(
      [...SCHEDULING_STRATEGY_ENUM].sort(),
      names("google.cloud.aiplatform.v1.Scheduling.Strategy").sort(),
    );
    for (const s of SCHEDULING_STRATEGIES) assert.ok(SCHEDULING_STRATEGY_ENUM.includes(s), s);
  });
  it("ReservationAffinity.Type", () => {
    assert.deepEqual(
      [...RESERVATION_AFFINITY_TYPE_ENUM].sort(),
      names("google.cloud.aiplatform.v1.ReservationAffinity.Type").sort(),
    );
    for (const t of RESERVATION_AFFINITY_TYPES)
      assert.ok(RESERVATION_AFFINITY_TYPE_ENUM.includes(t), t);
  });
  it("the MachineSpec and ReservationAffinity fields the translation writes exist", () => {
    const fields = (path: string) => Object.keys(root.lookupType(path).fields);
    for (const f of [
      "machineType",
      "acceleratorType",
      "acceleratorCount",
      "gpuPartitionSize",
      "tpuTopology",
      "reservationAffinity",
    ])
      assert.ok(fields("google.cloud.aiplatform.v1.MachineSpec").includes(f), f);
    assert.deepEqual(fields("google.cloud.aiplatform.v1.ReservationAffinity").sort(), [
      "key",
      "reservationAffinityType",
      "values",
    ]);
  });
});

describe("proto3 JSON for render", () => {
  it("prints Durations as strings, int64 as strings, enums by name, camelCase keys", () => {
    const r = resolveRaw(everything(), baseMessage());
    const json = toProto3Json({ parent: r.parent, customJob: r.customJob }) as {
      parent: string;
      customJob: { jobSpec: { scheduling: Obj; workerPoolSpecs: Obj[] } };
    };
    assert.equal(json.parent, "projects/acme-ml/locations/us-central1");
    assert.deepEqual(json.customJob.jobSpec.scheduling, {
      timeout: "3600s",
      restartJobOnWorkerRestart: true,
      strategy: "SPOT",
      disableRetries: true,
      maxWaitDuration: "600s",
    });
    assert.equal(json.customJob.jobSpec.workerPoolSpecs[1]?.replicaCount, "3");
    assert.equal(
      ((json.customJob.jobSpec.workerPoolSpecs[0] as Obj).machineSpec as Obj).acceleratorType,
      "NVIDIA_TESLA_T4",
    );
    assert.ok(!JSON.stringify(json).includes("_spec"), "no snake_case key");
    assert.ok(!("webAccessUris" in json.customJob), "no output-only fields");
  });
  it('prints max_wait_duration 0 as "0s": it means wait indefinitely, not unset', () => {
    const r = resolveRaw(flexStartWaitingForever(), baseMessage());
    assert.deepEqual((r.customJob.jobSpec as { scheduling: Obj }).scheduling, {
      strategy: "FLEX_START",
      maxWaitDuration: { seconds: 0 },
    });
    const json = toProto3Json({ parent: r.parent, customJob: r.customJob }) as {
      customJob: { jobSpec: { scheduling: Obj } };
    };
    assert.deepEqual(json.customJob.jobSpec.scheduling, {
      strategy: "FLEX_START",
      maxWaitDuration: "0s",
    });
  });
});

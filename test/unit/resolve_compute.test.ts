// Compute facts (SPEC §5 static checks) from shared/data/vertex-compute.json: where the
// data came from, regions, machine types, accelerator names and compatibility, TPUs,
// disks and scheduling strategies. Uncertain facts (a `note` in the data) warn.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { COMPUTE_FACTS, LIMITS, machineTypes } from "../../shared/resolve/compute.js";
import {
  assertIssue,
  assertWarning,
  baseMessage,
  baseQueue,
  caught,
  REPO_ROOT,
  resolveRaw,
  set,
} from "../helpers/resolve_fixtures.js";

type Obj = Record<string, unknown>;
const machine = (ms: Obj, extra: (q: Obj) => void = () => {}) => {
  const q = set(baseQueue(), "spec.worker_pool_specs[0].machine_spec", ms);
  extra(q);
  return q;
};

describe("compute facts: where they came from", () => {
  it("carry their compile date and sources", () => {
    assert.match(COMPUTE_FACTS._meta.compiled_utc, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(Object.keys(COMPUTE_FACTS._meta.sources).length >= 10, "sources listed");
    assert.ok(
      Object.values(COMPUTE_FACTS._meta.sources).some((s) => s.includes("configure-compute")),
    );
    assert.ok(
      existsSync(join(REPO_ROOT, "shared", "data", "vertex-compute.SOURCES.md")),
      "SOURCES.md beside the data",
    );
  });
  it("are the team kit's copy, unchanged (when ../shared is beside the repo)", (t) => {
    const kit = join(REPO_ROOT, "..", "shared", "data", "vertex-compute.json");
    if (!existsSync(kit)) {
      t.skip("no ../shared/data/vertex-compute.json beside this clone");
      return;
    }
    const ours = readFileSync(join(REPO_ROOT, "shared", "data", "vertex-compute.json"), "utf8");
    assert.equal(
      ours,
      readFileSync(kit, "utf8"),
      "shared/data/vertex-compute.json differs from the team kit's copy",
    );
  });
  it("limits come from the data", () => {
    assert.equal(LIMITS.displayNameMax, 128);
    assert.equal(LIMITS.envMax, 100);
    assert.equal(LIMITS.labelsMax, 64);
    assert.equal(LIMITS.labelValueMax, 63);
    assert.deepEqual([LIMITS.bootDiskMinGb, LIMITS.bootDiskMaxGb], [100, 64000]);
    assert.ok(machineTypes().includes("n1-standard-4") && machineTypes().includes("a2-highgpu-1g"));
  });
});

describe("compute: region", () => {
  it("a Vertex training region passes", () => {
    resolveRaw({ ...baseQueue(), region: "europe-west4" }, baseMessage());
  });
  it("an unknown region is an error with a hint", () => {
    const err = caught(() => resolveRaw({ ...baseQueue(), region: "us-centrall" }, baseMessage()));
    assertIssue(
      err,
      "region",
      /"us-centrall" is not a Vertex AI training region: did you mean "us-central1"\?/,
    );
  });
  it("a multi-region name is an error", () => {
    assertIssue(
      caught(() => resolveRaw({ ...baseQueue(), region: "global" }, baseMessage())),
      "region",
      /not a Vertex AI training region/,
    );
  });
  it("a region with a note in the data warns", () => {
    assertWarning(
      resolveRaw({ ...baseQueue(), region: "asia-south2" }, baseMessage()).warnings,
      /region asia-south2:/,
    );
  });
  it("a region only gcloud lists warns instead of failing", () => {
    assertWarning(
      resolveRaw({ ...baseQueue(), region: "us-west8" }, baseMessage()).warnings,
      /listed by gcloud but not in Vertex's documented training regions/,
    );
  });
  it("the default region is checked too", () => {
    const q = baseQueue();
    delete q.region;
    assertIssue(
      caught(() => resolveRaw(q, baseMessage(), { project: "acme-ml", region: "mars-north1" })),
      "region",
      /not a Vertex AI training region/,
    );
  });
});

const P = "spec.worker_pool_specs[0]";
const ERRORS: Array<[string, Obj, string, RegExp]> = [
  [
    "unknown machine type with a hint",
    { machine_type: "n1-standard-5" },
    `${P}.machine_spec.machine_type`,
    /unknown machine type "n1-standard-5": did you mean "n1-standard-4"\?/,
  ],
  [
    "a machine type Vertex does not list",
    { machine_type: "n2d-standard-8" },
    `${P}.machine_spec.machine_type`,
    /unknown machine type/,
  ],
  [
    "unknown accelerator name (the client would send 0)",
    { machine_type: "n1-standard-4", accelerator_type: "NVIDIA_TESLA_T5", accelerator_count: 1 },
    `${P}.machine_spec.accelerator_type`,
    /unknown accelerator type "NVIDIA_TESLA_T5": did you mean "NVIDIA_TESLA_T4"\?/,
  ],
  [
    "accelerator name in lowercase",
    { machine_type: "n1-standard-4", accelerator_type: "nvidia_tesla_t4", accelerator_count: 1 },
    `${P}.machine_spec.accelerator_type`,
    /did you mean "NVIDIA_TESLA_T4"/,
  ],
  [
    "accelerator on a CPU-only family",
    { machine_type: "e2-standard-8", accelerator_type: "NVIDIA_TESLA_T4", accelerator_count: 1 },
    `${P}.machine_spec.accelerator_type`,
    /takes no accelerators.*n1-\*/,
  ],
  [
    "L4 on an N1 machine",
    { machine_type: "n1-standard-8", accelerator_type: "NVIDIA_L4", accelerator_count: 1 },
    `${P}.machine_spec.accelerator_type`,
    /cannot be attached to n1-standard-8.*g2-\*/,
  ],
  [
    "invalid N1 GPU count",
    { machine_type: "n1-standard-8", accelerator_type: "NVIDIA_TESLA_T4", accelerator_count: 3 },
    `${P}.machine_spec.accelerator_count`,
    /n1-standard-8 takes 1, 2, 4 × NVIDIA_TESLA_T4, not 3/,
  ],
  [
    "too few V100 for the machine",
    { machine_type: "n1-standard-32", accelerator_type: "NVIDIA_TESLA_V100", accelerator_count: 2 },
    `${P}.machine_spec.accelerator_count`,
    /takes 4, 8/,
  ],
  [
    "A2 without its GPU",
    { machine_type: "a2-highgpu-1g" },
    `${P}.machine_spec.accelerator_type`,
    /needs accelerator_type NVIDIA_TESLA_A100 and accelerator_count 1/,
  ],
  [
    "A2 with another GPU",
    { machine_type: "a2-highgpu-1g", accelerator_type: "NVIDIA_A100_80GB", accelerator_count: 1 },
    `${P}.machine_spec.accelerator_type`,
    /comes with NVIDIA_TESLA_A100/,
  ],
  [
    "A2 with the wrong count",
    { machine_type: "a2-highgpu-2g", accelerator_type: "NVIDIA_TESLA_A100", accelerator_count: 1 },
    `${P}.machine_spec.accelerator_count`,
    /exactly 2 × NVIDIA_TESLA_A100/,
  ],
  [
    "count without a type",
    { machine_type: "n1-standard-4", accelerator_count: 2 },
    `${P}.machine_spec.accelerator_count`,
    /needs an accelerator_type/,
  ],
  [
    "type without a count",
    { machine_type: "n1-standard-4", accelerator_type: "NVIDIA_TESLA_T4" },
    `${P}.machine_spec.accelerator_count`,
    /set accelerator_count/,
  ],
  [
    "a deprecated GPU (K80)",
    { machine_type: "n1-standard-4", accelerator_type: "NVIDIA_TESLA_K80", accelerator_count: 1 },
    `${P}.machine_spec.accelerator_type`,
    /not offered for Vertex training/,
  ],
  [
    "TPU VM without a topology",
    { machine_type: "ct5lp-hightpu-4t" },
    `${P}.machine_spec.tpu_topology`,
    /needs a tpu_topology \(one of 2x2, 2x4, 4x4/,
  ],
  [
    "a topology on a GPU machine",
    { machine_type: "n1-standard-4", tpu_topology: "2x2" },
    `${P}.machine_spec.tpu_topology`,
    /applies to TPU machine types/,
  ],
  [
    "cloud-tpu with a GPU",
    { machine_type: "cloud-tpu", accelerator_type: "NVIDIA_TESLA_T4", accelerator_count: 8 },
    `${P}.machine_spec.accelerator_type`,
    /TPU_V2 or TPU_V3/,
  ],
];

describe("compute: machine and accelerator errors", () => {
  for (const [title, ms, path, message] of ERRORS) {
    it(title, () => {
      const err = caught(() => resolveRaw(machine(ms), baseMessage()));
      assert.equal(err.kind, "invalid_config");
      assertIssue(err, path, message);
    });
  }
  it("a TPU VM runs as a single pool with one replica", () => {
    const q = machine({ machine_type: "ct6e-standard-4t", tpu_topology: "2x2" }, (x) =>
      set(x, `${P}.replica_count`, 2),
    );
    (q.spec as { worker_pool_specs: Obj[] }).worker_pool_specs.push({
      machine_spec: { machine_type: "n1-standard-4" },
      container_spec: { image_uri: "i" },
    });
    const err = caught(() => resolveRaw(q, baseMessage()));
    assertIssue(err, "spec.worker_pool_specs", /single worker pool/);
    assertIssue(err, `${P}.replica_count`, /needs replica_count 1/);
  });
  it("boot disk type and size", () => {
    const q = set(baseQueue(), `${P}.disk_spec`, {
      boot_disk_type: "pd-balanced",
      boot_disk_size_gb: 50,
    });
    const err = caught(() => resolveRaw(q, baseMessage()));
    assertIssue(
      err,
      `${P}.disk_spec.boot_disk_type`,
      /unknown boot disk type "pd-balanced".*pd-ssd, pd-standard, hyperdisk-balanced/,
    );
    assertIssue(err, `${P}.disk_spec.boot_disk_size_gb`, /100-64000 GB, got 50/);
  });
  it("SPOT with a TPU Pod is an error", () => {
    const q = machine(
      { machine_type: "cloud-tpu", accelerator_type: "TPU_V2", accelerator_count: 32 },
      (x) => set(x, "run.scheduling_strategy", "SPOT"),
    );
    assertIssue(
      caught(() => resolveRaw({ ...q, region: "europe-west4" }, baseMessage())),
      `${P}.machine_spec.accelerator_count`,
      /Spot VMs do not support TPU Pods/,
    );
  });
  it("FLEX_START needs the same machine in every pool and at most 7 days", () => {
    const q = machine(
      { machine_type: "g2-standard-8", accelerator_type: "NVIDIA_L4", accelerator_count: 1 },
      (x) =>
        set(x, "run", {
          service_account: "t@p.iam.gserviceaccount.com",
          scheduling_strategy: "FLEX_START",
          timeout: 8 * 86400,
        }),
    );
    (q.spec as { worker_pool_specs: Obj[] }).worker_pool_specs.push({
      machine_spec: {
        machine_type: "g2-standard-4",
        accelerator_type: "NVIDIA_L4",
        accelerator_count: 1,
      },
      container_spec: { image_uri: "i" },
    });
    const err = caught(() => resolveRaw(q, baseMessage()));
    assertIssue(err, "spec.worker_pool_specs[1].machine_spec", /same machine configuration/);
    assertIssue(err, "run.timeout", /at most 7 days/);
  });
});

describe("compute: valid combinations, and warnings where the data is uncertain", () => {
  const VALID: Array<[string, Obj, string?]> = [
    [
      "N1 + 4 × T4",
      { machine_type: "n1-standard-16", accelerator_type: "NVIDIA_TESLA_T4", accelerator_count: 4 },
    ],
    [
      "N1 + 8 × V100",
      {
        machine_type: "n1-standard-32",
        accelerator_type: "NVIDIA_TESLA_V100",
        accelerator_count: 8,
      },
    ],
    [
      "G2 + L4",
      { machine_type: "g2-standard-8", accelerator_type: "NVIDIA_L4", accelerator_count: 1 },
    ],
    [
      "A3 + 8 × H100",
      { machine_type: "a3-highgpu-8g", accelerator_type: "NVIDIA_H100_80GB", accelerator_count: 8 },
    ],
    ["ct5lp + topology", { machine_type: "ct5lp-hightpu-4t", tpu_topology: "2x2" }],
    ["tpu7x + topology", { machine_type: "tpu7x-standard-4t", tpu_topology: "2x2x1" }],
    [
      "cloud-tpu + 8 × TPU_V3",
      { machine_type: "cloud-tpu", accelerator_type: "TPU_V3", accelerator_count: 8 },
      "europe-west4",
    ],
    ["CPU only", { machine_type: "e2-standard-8" }],
  ];
  for (const [title, ms, region] of VALID) {
    it(title, () => {
      resolveRaw({ ...machine(ms), region: region ?? "us-central1" }, baseMessage());
    });
  }
  it("a P100 count the data leaves empty (inferred) warns", () => {
    const r = resolveRaw(
      machine({
        machine_type: "n1-standard-64",
        accelerator_type: "NVIDIA_TESLA_P100",
        accelerator_count: 4,
      }),
      baseMessage(),
    );
    assertWarning(r.warnings, /inferred from a flattened doc table/);
  });
  it("an undocumented TPU topology warns", () => {
    assertWarning(
      resolveRaw(machine({ machine_type: "ct5lp-hightpu-1t", tpu_topology: "2x2" }), baseMessage())
        .warnings,
      /not a documented topology/,
    );
  });
  it("a GPU not listed for the region warns", () => {
    const q = {
      ...machine({
        machine_type: "g2-standard-8",
        accelerator_type: "NVIDIA_L4",
        accelerator_count: 1,
      }),
      region: "southamerica-east1",
    };
    assertWarning(
      resolveRaw(q, baseMessage()).warnings,
      /NVIDIA_L4 is not listed for training in southamerica-east1/,
    );
  });
  it("FLEX_START with a GPU the docs do not name warns", () => {
    const q = machine(
      { machine_type: "n1-standard-8", accelerator_type: "NVIDIA_TESLA_T4", accelerator_count: 1 },
      (x) => set(x, "run.scheduling_strategy", "FLEX_START"),
    );
    assertWarning(resolveRaw(q, baseMessage()).warnings, /FLEX_START is documented for/);
  });
  it("more than four pools warns", () => {
    const q = baseQueue();
    const pools = (q.spec as { worker_pool_specs: Obj[] }).worker_pool_specs;
    for (let i = 0; i < 4; i++) pools.push(structuredClone(pools[0] as Obj));
    const r = resolveRaw(q, baseMessage());
    assertWarning(r.warnings, /5 worker pools; Vertex documents 4 positions/);
  });
  it("a chief with several replicas is an error at its replica_count (Vertex refuses it)", () => {
    const err = caught(() => resolveRaw(set(baseQueue(), `${P}.replica_count`, 2), baseMessage()));
    assertIssue(
      err,
      "spec.worker_pool_specs[0].replica_count",
      /the chief .* set replica_count: 1/,
    );
  });
});

describe("compute: gpu_partition_size", () => {
  const pool = (ms: Record<string, unknown>) =>
    set(baseQueue(), "spec.worker_pool_specs[0].machine_spec", {
      machine_type: "n1-standard-8",
      gpu_partition_size: "1g.10gb",
      ...ms,
    });
  it("needs an NVIDIA accelerator and accelerator_count 1", () => {
    assertIssue(
      caught(() => resolveRaw(pool({}), baseMessage())),
      "spec.worker_pool_specs[0].machine_spec.gpu_partition_size",
      /set an NVIDIA accelerator_type/,
    );
    assertIssue(
      caught(() =>
        resolveRaw(
          pool({
            machine_type: "a2-highgpu-2g",
            accelerator_type: "NVIDIA_TESLA_A100",
            accelerator_count: 2,
          }),
          baseMessage(),
        ),
      ),
      "spec.worker_pool_specs[0].machine_spec.accelerator_count",
      /with gpu_partition_size, accelerator_count must be 1/,
    );
  });
  it("is sent as gpuPartitionSize", () => {
    const r = resolveRaw(
      pool({
        machine_type: "a2-highgpu-1g",
        accelerator_type: "NVIDIA_TESLA_A100",
        accelerator_count: 1,
      }),
      baseMessage(),
    );
    const ms = (
      (r.customJob.jobSpec as { workerPoolSpecs: Array<Record<string, unknown>> })
        .workerPoolSpecs[0] as { machineSpec: Record<string, unknown> }
    ).machineSpec;
    assert.equal(ms.gpuPartitionSize, "1g.10gb");
  });
});

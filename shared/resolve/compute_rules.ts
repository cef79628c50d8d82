// The compute checks as a table of rules, each a small function with the source of the
// fact it enforces (keys of vertex-compute.json `_meta.sources`; SOURCES.md has the
// details). Pool rules run in order on every real pool ({} placeholders run nothing);
// those marked `knownMachine` run only when the machine type is one Vertex documents.
// Where the data carries a `note` (uncertain or inferred), a rule warns instead of
// rejecting.
import type { WorkerPoolSpec } from "../schemas/queue_config.js";
import { ACCELERATOR_TYPES } from "../schemas/vertex_enums.js";
import {
  COMPUTE_FACTS,
  type Family,
  type Findings,
  LIMITS,
  machinesFor,
  machineTypes,
  TPU_MACHINES_HINT,
} from "./compute_facts.js";
import { didYouMean, unknownValueMessage } from "./keys.js";

export interface JobContext {
  region: string;
  strategy?: string | undefined;
  timeoutSeconds?: number | undefined;
}

/** One real pool, with what every rule reads about it. */
export interface PoolCheck {
  pool: WorkerPoolSpec;
  /** The path of a field of this pool, e.g. at("machine_spec") = spec.worker_pool_specs[1].machine_spec. */
  at: (...rest: string[]) => string;
  /** The accelerator when its name is known and not UNSPECIFIED. */
  accelerator: string | undefined;
  count: number;
  machine: { name: string; family: Family } | undefined;
  /** The job's real pools (placeholders left out). */
  pools: readonly WorkerPoolSpec[];
  job: JobContext;
}

export interface Rule<C> {
  name: string;
  source: string;
  knownMachine?: boolean;
  check: (c: C, out: Findings) => void;
}

const issue = (out: Findings, path: string, message: string) => out.issues.push({ path, message });
const known = (c: PoolCheck) => c.machine as { name: string; family: Family };
const mt = (c: PoolCheck) => c.pool.machine_spec.machine_type;
const unset = (type: string | undefined) =>
  type === undefined || type === "ACCELERATOR_TYPE_UNSPECIFIED";

export const POOL_RULES: readonly Rule<PoolCheck>[] = [
  {
    name: "accelerator name is a v1 AcceleratorType (the Node client would send an unknown one as 0)",
    source: "proto_accel",
    check: (c, out) => {
      const type = c.pool.machine_spec.accelerator_type;
      if (type === undefined || (ACCELERATOR_TYPES as readonly string[]).includes(type)) return;
      issue(
        out,
        c.at("machine_spec", "accelerator_type"),
        unknownValueMessage("accelerator type", type, ACCELERATOR_TYPES),
      );
    },
  },
  {
    name: "an accelerator count needs an accelerator type",
    source: "proto_machine",
    check: (c, out) => {
      if (!unset(c.pool.machine_spec.accelerator_type) || c.count === 0) return;
      issue(
        out,
        c.at("machine_spec", "accelerator_count"),
        `accelerator_count ${c.count} needs an accelerator_type (e.g. NVIDIA_TESLA_T4)`,
      );
    },
  },
  {
    name: "gpu_partition_size splits one NVIDIA GPU (accelerator_count 1)",
    source: "proto_machine",
    check: (c, out) => {
      if (c.pool.machine_spec.gpu_partition_size === undefined) return;
      const a = c.accelerator;
      if (a === undefined || !a.startsWith("NVIDIA_")) {
        issue(
          out,
          c.at("machine_spec", "gpu_partition_size"),
          `gpu_partition_size partitions an NVIDIA GPU: set an NVIDIA accelerator_type${a ? `, not ${a}` : ""}`,
        );
      } else if (c.count !== 1) {
        issue(
          out,
          c.at("machine_spec", "accelerator_count"),
          `with gpu_partition_size, accelerator_count must be 1 (the GPU is split into partitions), got ${c.count}`,
        );
      }
    },
  },
  {
    name: "machine type is one Vertex training documents",
    source: "configure_compute",
    check: (c, out) => {
      if (c.machine) return;
      const hint = didYouMean(mt(c), machineTypes());
      issue(
        out,
        c.at("machine_spec", "machine_type"),
        `unknown machine type "${mt(c)}"${hint ? `: did you mean "${hint}"?` : ""}; see the machine types Vertex training supports (configure-compute)`,
      );
    },
  },
  {
    name: "an accelerator type needs a count (TPU VMs excepted)",
    source: "configure_compute",
    knownMachine: true,
    check: (c, out) => {
      const { family } = known(c);
      if (c.accelerator === undefined || c.count !== 0 || family.requires_tpu_topology) return;
      const fixed = family.accelerator_by_machine_type?.[mt(c)];
      issue(
        out,
        c.at("machine_spec", "accelerator_count"),
        `set accelerator_count for accelerator_type ${c.accelerator}${fixed ? ` (${mt(c)} takes ${fixed.accelerator_count})` : ""}`,
      );
    },
  },
  {
    name: "CPU-only families take no accelerator",
    source: "configure_compute",
    knownMachine: true,
    check: (c, out) => {
      const { name, family } = known(c);
      if (family.accelerators !== "none" || c.accelerator === undefined) return;
      issue(
        out,
        c.at("machine_spec", "accelerator_type"),
        `${mt(c)} (${name}) takes no accelerators; ${c.accelerator}: ${machinesFor(c.accelerator)}`,
      );
    },
  },
  {
    name: "N1 machines take only P4, P100, T4, V100, in the documented counts",
    source: "configure_compute",
    knownMachine: true,
    check: n1Gpus,
  },
  {
    name: "accelerator-optimized machines come with a fixed GPU type and count",
    source: "configure_compute",
    knownMachine: true,
    check: fixedGpus,
  },
  {
    name: "cloud-tpu takes TPU_V2/TPU_V3: 8 cores, or a pod of 32·n",
    source: "configure_compute",
    knownMachine: true,
    check: cloudTpu,
  },
  {
    name: "Spot VMs do not support TPU Pods",
    source: "spot",
    knownMachine: true,
    check: (c, out) => {
      if (!isCloudTpu(c) || c.job.strategy !== "SPOT" || c.count < 32) return;
      issue(
        out,
        c.at("machine_spec", "accelerator_count"),
        "Spot VMs do not support TPU Pods: use scheduling_strategy STANDARD or a single TPU (8 cores)",
      );
    },
  },
  {
    name: "TPU VMs need a documented tpu_topology; other machines take none",
    source: "configure_compute",
    knownMachine: true,
    check: tpuTopology,
  },
  {
    name: "a TPU VM runs as a single worker pool with one replica",
    source: "configure_compute",
    knownMachine: true,
    check: (c, out) => {
      if (!known(c).family.single_worker_pool_only) return;
      if (c.pools.length > 1)
        issue(
          out,
          "spec.worker_pool_specs",
          `${mt(c)} (a TPU VM) runs as a single worker pool; remove the other pools`,
        );
      if ((c.pool.replica_count ?? 1) !== 1)
        issue(out, c.at("replica_count"), `${mt(c)} (a TPU VM) needs replica_count 1`);
    },
  },
  {
    name: "the GPU is listed for training in the job's region (warning: the table has gaps)",
    source: "locations",
    knownMachine: true,
    check: (c, out) => {
      if (c.accelerator === undefined) return;
      const regions = COMPUTE_FACTS.gpu_regions.by_accelerator_for_training[c.accelerator];
      if (!regions || regions.includes(c.job.region)) return;
      out.warnings.push(
        `${c.at("machine_spec", "accelerator_type")}: ${c.accelerator} is not listed for training in ${c.job.region} (listed: ${regions.join(", ")})`,
      );
    },
  },
  {
    name: "boot disk type and size",
    source: "configure_compute",
    knownMachine: true,
    check: (c, out) => {
      const disk = c.pool.disk_spec;
      if (
        disk?.boot_disk_type !== undefined &&
        !LIMITS.bootDiskTypes.includes(disk.boot_disk_type)
      ) {
        issue(
          out,
          c.at("disk_spec", "boot_disk_type"),
          unknownValueMessage("boot disk type", disk.boot_disk_type, LIMITS.bootDiskTypes),
        );
      }
      const size = disk?.boot_disk_size_gb;
      if (size !== undefined && (size < LIMITS.bootDiskMinGb || size > LIMITS.bootDiskMaxGb)) {
        issue(
          out,
          c.at("disk_spec", "boot_disk_size_gb"),
          `boot disks are ${LIMITS.bootDiskMinGb}-${LIMITS.bootDiskMaxGb} GB, got ${size}`,
        );
      }
    },
  },
  {
    name: "at most 100 package URIs",
    source: "proto_custom_job",
    knownMachine: true,
    check: (c, out) => {
      const uris = c.pool.python_package_spec?.package_uris.length ?? 0;
      if (uris > LIMITS.packageUrisMax)
        issue(
          out,
          c.at("python_package_spec", "package_uris"),
          `at most ${LIMITS.packageUrisMax} package URIs, got ${uris}`,
        );
    },
  },
];

/** The cloud-tpu family (TPU v2/v3 by accelerator type), as the data describes it. */
function isCloudTpu(c: PoolCheck): boolean {
  const { name, family } = known(c);
  return (
    name === "cloud-tpu" && family.accelerators !== "none" && !family.accelerator_by_machine_type
  );
}

function n1Gpus(c: PoolCheck, out: Findings): void {
  const { name, family } = known(c);
  if (name !== "n1" || family.accelerators === "none" || c.accelerator === undefined) return;
  const rules = COMPUTE_FACTS.n1_gpu_rules;
  const a = c.accelerator;
  if (!rules.attachable_gpu_types.includes(a)) {
    issue(
      out,
      c.at("machine_spec", "accelerator_type"),
      `${a} cannot be attached to ${mt(c)}: N1 machines take ${rules.attachable_gpu_types.join(", ")}; ${a}: ${machinesFor(a)}`,
    );
    return;
  }
  if (c.count === 0) return;
  const allowed = rules.allowed_counts[mt(c)]?.[a] ?? [];
  if (allowed.length === 0) {
    out.warnings.push(
      `${c.at("machine_spec")}: the compute facts list no valid ${a} count for ${mt(c)} (inferred from a flattened doc table); Vertex may reject it`,
    );
  } else if (!allowed.includes(c.count)) {
    issue(
      out,
      c.at("machine_spec", "accelerator_count"),
      `${mt(c)} takes ${allowed.join(", ")} × ${a}, not ${c.count}`,
    );
  }
}

function fixedGpus(c: PoolCheck, out: Findings): void {
  const { name, family } = known(c);
  if (family.accelerators === "none" || name === "n1") return;
  const fixed = family.accelerator_by_machine_type?.[mt(c)];
  if (!fixed) return;
  const path = c.at("machine_spec", "accelerator_type");
  if (c.accelerator === undefined) {
    issue(
      out,
      path,
      `${mt(c)} needs accelerator_type ${fixed.accelerator_type} and accelerator_count ${fixed.accelerator_count}`,
    );
  } else if (c.accelerator !== fixed.accelerator_type) {
    issue(out, path, `${mt(c)} comes with ${fixed.accelerator_type}, not ${c.accelerator}`);
  } else if (c.count > 0 && c.count !== fixed.accelerator_count) {
    issue(
      out,
      c.at("machine_spec", "accelerator_count"),
      `${mt(c)} has exactly ${fixed.accelerator_count} × ${fixed.accelerator_type}; set accelerator_count: ${fixed.accelerator_count}`,
    );
  }
}

function cloudTpu(c: PoolCheck, out: Findings): void {
  const { name, family } = known(c);
  if (name !== "cloud-tpu" || family.accelerators === "none" || family.accelerator_by_machine_type)
    return;
  const a = c.accelerator;
  if (a !== "TPU_V2" && a !== "TPU_V3") {
    issue(
      out,
      c.at("machine_spec", "accelerator_type"),
      `cloud-tpu needs accelerator_type TPU_V2 or TPU_V3${a ? `, not ${a}` : ""}`,
    );
  } else if (c.count > 0 && c.count !== 8 && c.count % 32 !== 0) {
    out.warnings.push(
      `${c.at("machine_spec", "accelerator_count")}: ${a} takes 8 for a single TPU, or 32 or a multiple of 32 for a pod`,
    );
  }
}

function tpuTopology(c: PoolCheck, out: Findings): void {
  const { name, family } = known(c);
  const ms = c.pool.machine_spec;
  const topologies = (family.supported_topologies ?? []).filter((t) => t.machine_type === mt(c));
  if (!family.requires_tpu_topology) {
    if (ms.tpu_topology !== undefined && name !== "cloud-tpu") {
      issue(
        out,
        c.at("machine_spec", "tpu_topology"),
        `tpu_topology applies to ${TPU_MACHINES_HINT}, not ${mt(c)}`,
      );
    }
    return;
  }
  if (ms.tpu_topology === undefined) {
    const options = topologies.map((t) => t.tpu_topology);
    issue(
      out,
      c.at("machine_spec", "tpu_topology"),
      `${mt(c)} needs a tpu_topology${options.length ? ` (one of ${options.join(", ")})` : ""}`,
    );
  } else if (!topologies.some((t) => t.tpu_topology === ms.tpu_topology)) {
    out.warnings.push(
      `${c.at("machine_spec", "tpu_topology")}: ${ms.tpu_topology} is not a documented topology for ${mt(c)}`,
    );
  }
  if (c.accelerator !== undefined) {
    out.warnings.push(
      `${c.at("machine_spec", "accelerator_type")}: the docs configure ${mt(c)} with a TPU topology and no accelerator_type`,
    );
  }
}

/** The job's real pools, with their positions in spec.worker_pool_specs. */
export interface JobCheck {
  pools: readonly { pool: WorkerPoolSpec; i: number }[];
  slots: number;
  job: JobContext;
}

export const JOB_RULES: readonly Rule<JobCheck>[] = [
  {
    name: "four documented worker-pool positions (warning: no source states a limit)",
    source: "distributed",
    check: (c, out) => {
      if (c.slots <= LIMITS.workerPoolPositions) return;
      out.warnings.push(
        `spec.worker_pool_specs: ${c.slots} worker pools; Vertex documents ${LIMITS.workerPoolPositions} positions (chief, workers, parameter servers, evaluators)`,
      );
    },
  },
  {
    name: "the first pool is the chief: replica_count 1",
    source: "sdk_worker_spec",
    check: (c, out) => {
      if ((c.pools[0]?.pool.replica_count ?? 1) <= 1) return;
      // An error, not a warning: Vertex refuses the job (INVALID_ARGUMENT), so a launch
      // let through would be rejected by Vertex without a path the user can act on.
      issue(
        out,
        "spec.worker_pool_specs[0].replica_count",
        "the first pool is the chief and runs exactly one replica: set replica_count: 1 there and put the other replicas in a second pool (spec.worker_pool_specs[1])",
      );
    },
  },
];

/** Run after the pool rules (their issues come last, as FLEX_START is a job-wide choice). */
export const FLEX_START_RULES: readonly Rule<JobCheck>[] = [
  {
    name: "FLEX_START is documented for L4, A100, H100, H200, B200 (warning: the doc names models, not enums)",
    source: "dws",
    check: (c, out) => {
      const implied = COMPUTE_FACTS.scheduling.FLEX_START.accelerator_types_implied;
      for (const { pool, i } of c.pools) {
        const acc = pool.machine_spec.accelerator_type;
        if (acc !== undefined && acc !== "ACCELERATOR_TYPE_UNSPECIFIED" && implied.includes(acc))
          continue;
        out.warnings.push(
          `spec.worker_pool_specs[${i}].machine_spec: FLEX_START is documented for ${implied.join(", ")}; ${acc ?? "no accelerator"} may be rejected`,
        );
      }
    },
  },
  {
    name: "FLEX_START needs the same machine configuration in every pool",
    source: "dws",
    check: (c, out) => {
      const first = c.pools[0]?.pool.machine_spec;
      for (const { pool, i } of c.pools) {
        const ms = pool.machine_spec;
        if (
          !first ||
          (ms.machine_type === first.machine_type &&
            ms.accelerator_type === first.accelerator_type &&
            ms.accelerator_count === first.accelerator_count)
        )
          continue;
        issue(
          out,
          `spec.worker_pool_specs[${i}].machine_spec`,
          "FLEX_START needs the same machine configuration in every worker pool",
        );
      }
    },
  },
  {
    name: "FLEX_START jobs run at most 7 days",
    source: "dws",
    check: (c, out) => {
      const t = c.job.timeoutSeconds;
      if (t === undefined || t <= LIMITS.flexStartMaxTimeoutSeconds) return;
      issue(
        out,
        "run.timeout",
        `FLEX_START jobs may run at most 7 days (${LIMITS.flexStartMaxTimeoutSeconds} s), got ${t}`,
      );
    },
  },
];

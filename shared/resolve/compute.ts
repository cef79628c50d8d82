// Compute facts from shared/data/vertex-compute.json (sources in vertex-compute.SOURCES.md):
// Vertex training regions, machine types and families, accelerator compatibility, disk
// and request limits. Where the data carries a `note` (uncertain or inferred), the check
// warns instead of rejecting, as SOURCES.md asks.
import data from "../data/vertex-compute.json" with { type: "json" };
import type { Issue } from "../errors.js";
import { formatPath } from "../errors.js";
import { isEmptyPool, type PoolSlot, type WorkerPoolSpec } from "../schemas/queue_config.js";
import { ACCELERATOR_TYPES } from "../schemas/vertex_enums.js";
import { didYouMean, unknownValueMessage } from "./keys.js";

interface Family {
  machine_types: string[];
  accelerators?: string | Record<string, unknown>;
  requires_accelerator?: boolean;
  requires_tpu_topology?: boolean;
  accelerator_by_machine_type?: Record<
    string,
    { accelerator_type: string; accelerator_count: number }
  >;
  supported_topologies?: Array<{ machine_type: string; tpu_topology: string }>;
  single_worker_pool_only?: boolean;
  note?: string;
}

interface ComputeFacts {
  _meta: { compiled_utc: string; sources: Record<string, string> };
  regions: {
    custom_training: string[];
    gcloud_SUPPORTED_TRAINING_REGIONS: string[];
    extra_regions: Record<string, { note: string }>;
  };
  machine_families: Record<string, Family | Record<string, unknown>>;
  n1_gpu_rules: {
    attachable_gpu_types: string[];
    allowed_counts: Record<string, Record<string, number[]>>;
  };
  gpu_regions: { by_accelerator_for_training: Record<string, string[]> };
  scheduling: { FLEX_START: { accelerator_types_implied: string[] } };
  limits: {
    display_name: { max_length: number };
    labels: {
      general_gcp_rules: {
        max_labels_per_resource: number;
        key_length: number[];
        value_length: number[];
      };
    };
    disk_spec: {
      boot_disk_type: { values: string[] };
      boot_disk_size_gb: { min: number; max: number };
    };
    container_spec: { env_max: number };
    python_package_spec: { package_uris: { max: number } };
    worker_pool_specs: { documented_positions: number };
  };
}

/** The facts as shipped (the test compares this file with the team kit's copy). */
export const COMPUTE_FACTS = data as unknown as ComputeFacts;

const L = COMPUTE_FACTS.limits;
/** Request limits the resolver enforces, from the data's `limits`. */
export const LIMITS = {
  displayNameMax: L.display_name.max_length,
  labelsMax: L.labels.general_gcp_rules.max_labels_per_resource,
  labelKeyMax: L.labels.general_gcp_rules.key_length[1] ?? 63,
  labelValueMax: L.labels.general_gcp_rules.value_length[1] ?? 63,
  envMax: L.container_spec.env_max,
  packageUrisMax: L.python_package_spec.package_uris.max,
  bootDiskTypes: L.disk_spec.boot_disk_type.values,
  bootDiskMinGb: L.disk_spec.boot_disk_size_gb.min,
  bootDiskMaxGb: L.disk_spec.boot_disk_size_gb.max,
  workerPoolPositions: L.worker_pool_specs.documented_positions,
  /** FLEX_START requirement (schedule-jobs-dws): timeout of 7 days or less. */
  flexStartMaxTimeoutSeconds: 7 * 24 * 3600,
} as const;

let byMachineType: Map<string, { name: string; family: Family }> | undefined;
function familyOf(machineType: string): { name: string; family: Family } | undefined {
  if (!byMachineType) {
    byMachineType = new Map();
    for (const [name, f] of Object.entries(COMPUTE_FACTS.machine_families)) {
      if (name === "_meta") continue;
      const family = f as Family;
      for (const mt of family.machine_types) byMachineType.set(mt, { name, family });
    }
  }
  return byMachineType.get(machineType);
}

/** Every machine type Vertex training documents. */
export function machineTypes(): string[] {
  familyOf("");
  return [...(byMachineType?.keys() ?? [])];
}

export interface Findings {
  issues: Issue[];
  warnings: string[];
}

/** The region must be a Vertex training region. */
export function checkRegion(region: string, path: string): Findings {
  const { custom_training, gcloud_SUPPORTED_TRAINING_REGIONS, extra_regions } =
    COMPUTE_FACTS.regions;
  const note = extra_regions[region]?.note;
  if (custom_training.includes(region)) {
    return { issues: [], warnings: note ? [`region ${region}: ${note}`] : [] };
  }
  if (gcloud_SUPPORTED_TRAINING_REGIONS.includes(region)) {
    return {
      issues: [],
      warnings: [
        `region ${region} is listed by gcloud but not in Vertex's documented training regions; the job may be rejected`,
      ],
    };
  }
  const hint = didYouMean(region, custom_training);
  return {
    issues: [
      {
        path,
        message: `"${region}" is not a Vertex AI training region${hint ? `: did you mean "${hint}"?` : ""} (training regions: ${custom_training.join(", ")})`,
      },
    ],
    warnings: [],
  };
}

const TPU_MACHINES_HINT = "TPU machine types (cloud-tpu, ct5lp-*, ct6e-*, tpu7x-*)";

function machinesFor(accelerator: string): string {
  const out: string[] = [];
  for (const [name, f] of Object.entries(COMPUTE_FACTS.machine_families)) {
    if (name === "_meta") continue;
    const family = f as Family;
    const fixed = family.accelerator_by_machine_type ?? {};
    if (Object.values(fixed).some((a) => a.accelerator_type === accelerator)) out.push(`${name}-*`);
  }
  if (COMPUTE_FACTS.n1_gpu_rules.attachable_gpu_types.includes(accelerator)) out.push("n1-*");
  if (accelerator === "TPU_V2" || accelerator === "TPU_V3") out.push("cloud-tpu");
  return out.length
    ? `use it with ${out.join(" or ")} machine types`
    : "it is not offered for Vertex training";
}

/**
 * Machine type known; accelerator name valid and compatible with the machine family and
 * count; TPU topology; disk; scheduling strategy allowed for the machines.
 */
export function checkWorkerPools(
  slots: readonly PoolSlot[],
  ctx: { region: string; strategy?: string; timeoutSeconds?: number },
): Findings {
  // `{}` placeholders run nothing: only real pools are checked, at their own index.
  const pools = slots.filter((p): p is WorkerPoolSpec => !isEmptyPool(p));
  const indexOf = (pool: WorkerPoolSpec) => slots.indexOf(pool);
  const issues: Issue[] = [];
  const warnings: string[] = [];
  const allMachines = machineTypes();
  const poolsPath = "spec.worker_pool_specs";
  if (slots.length > LIMITS.workerPoolPositions) {
    warnings.push(
      `${poolsPath}: ${slots.length} worker pools; Vertex documents ${LIMITS.workerPoolPositions} positions (chief, workers, parameter servers, evaluators)`,
    );
  }
  const firstReplicas = pools[0]?.replica_count ?? 1;
  if (firstReplicas > 1) {
    warnings.push(
      `${poolsPath}[0].replica_count: the first pool is the chief; Vertex expects replica_count 1 there`,
    );
  }

  pools.forEach((pool) => {
    const i = indexOf(pool);
    const at = (...rest: string[]) => formatPath(["spec", "worker_pool_specs", i, ...rest]);
    const ms = pool.machine_spec;
    const mt = ms.machine_type;
    const found = familyOf(mt);

    // Accelerator name (an unknown enum name would be sent as 0 by the Node client).
    let accelerator: string | undefined = ms.accelerator_type;
    if (
      accelerator !== undefined &&
      !(ACCELERATOR_TYPES as readonly string[]).includes(accelerator)
    ) {
      issues.push({
        path: at("machine_spec", "accelerator_type"),
        message: unknownValueMessage("accelerator type", accelerator, ACCELERATOR_TYPES),
      });
      accelerator = undefined;
    } else if (accelerator === "ACCELERATOR_TYPE_UNSPECIFIED") {
      accelerator = undefined;
    }
    const count = ms.accelerator_count ?? 0;
    if (
      ms.accelerator_type === "ACCELERATOR_TYPE_UNSPECIFIED" ||
      ms.accelerator_type === undefined
    ) {
      if (count > 0) {
        issues.push({
          path: at("machine_spec", "accelerator_count"),
          message: `accelerator_count ${count} needs an accelerator_type (e.g. NVIDIA_TESLA_T4)`,
        });
      }
    }

    // machine_resources.proto: partitions split one NVIDIA GPU; "accelerator_count should be set to 1".
    if (ms.gpu_partition_size !== undefined) {
      if (accelerator === undefined || !accelerator.startsWith("NVIDIA_")) {
        issues.push({
          path: at("machine_spec", "gpu_partition_size"),
          message: `gpu_partition_size partitions an NVIDIA GPU: set an NVIDIA accelerator_type${accelerator ? `, not ${accelerator}` : ""}`,
        });
      } else if (count !== 1) {
        issues.push({
          path: at("machine_spec", "accelerator_count"),
          message: `with gpu_partition_size, accelerator_count must be 1 (the GPU is split into partitions), got ${count}`,
        });
      }
    }

    if (!found) {
      const hint = didYouMean(mt, allMachines);
      issues.push({
        path: at("machine_spec", "machine_type"),
        message: `unknown machine type "${mt}"${hint ? `: did you mean "${hint}"?` : ""}; see the machine types Vertex training supports (configure-compute)`,
      });
      return;
    }
    const { name: familyName, family } = found;

    if (accelerator !== undefined && count === 0 && !family.requires_tpu_topology) {
      const fixed = family.accelerator_by_machine_type?.[mt];
      issues.push({
        path: at("machine_spec", "accelerator_count"),
        message: `set accelerator_count for accelerator_type ${accelerator}${fixed ? ` (${mt} takes ${fixed.accelerator_count})` : ""}`,
      });
    }

    if (family.accelerators === "none") {
      if (accelerator !== undefined) {
        issues.push({
          path: at("machine_spec", "accelerator_type"),
          message: `${mt} (${familyName}) takes no accelerators; ${accelerator}: ${machinesFor(accelerator)}`,
        });
      }
    } else if (familyName === "n1") {
      if (accelerator !== undefined) {
        const rules = COMPUTE_FACTS.n1_gpu_rules;
        if (!rules.attachable_gpu_types.includes(accelerator)) {
          issues.push({
            path: at("machine_spec", "accelerator_type"),
            message: `${accelerator} cannot be attached to ${mt}: N1 machines take ${rules.attachable_gpu_types.join(", ")}; ${accelerator}: ${machinesFor(accelerator)}`,
          });
        } else if (count > 0) {
          const allowed = rules.allowed_counts[mt]?.[accelerator] ?? [];
          if (allowed.length === 0) {
            warnings.push(
              `${at("machine_spec")}: the compute facts list no valid ${accelerator} count for ${mt} (inferred from a flattened doc table); Vertex may reject it`,
            );
          } else if (!allowed.includes(count)) {
            issues.push({
              path: at("machine_spec", "accelerator_count"),
              message: `${mt} takes ${allowed.join(", ")} × ${accelerator}, not ${count}`,
            });
          }
        }
      }
    } else if (family.accelerator_by_machine_type) {
      const fixed = family.accelerator_by_machine_type[mt];
      if (fixed) {
        if (accelerator === undefined) {
          issues.push({
            path: at("machine_spec", "accelerator_type"),
            message: `${mt} needs accelerator_type ${fixed.accelerator_type} and accelerator_count ${fixed.accelerator_count}`,
          });
        } else if (accelerator !== fixed.accelerator_type) {
          issues.push({
            path: at("machine_spec", "accelerator_type"),
            message: `${mt} comes with ${fixed.accelerator_type}, not ${accelerator}`,
          });
        } else if (count > 0 && count !== fixed.accelerator_count) {
          issues.push({
            path: at("machine_spec", "accelerator_count"),
            message: `${mt} has exactly ${fixed.accelerator_count} × ${fixed.accelerator_type}; set accelerator_count: ${fixed.accelerator_count}`,
          });
        }
      }
    } else if (familyName === "cloud-tpu") {
      if (accelerator !== "TPU_V2" && accelerator !== "TPU_V3") {
        issues.push({
          path: at("machine_spec", "accelerator_type"),
          message: `cloud-tpu needs accelerator_type TPU_V2 or TPU_V3${accelerator ? `, not ${accelerator}` : ""}`,
        });
      } else if (count > 0 && count !== 8 && count % 32 !== 0) {
        warnings.push(
          `${at("machine_spec", "accelerator_count")}: ${accelerator} takes 8 for a single TPU, or 32 or a multiple of 32 for a pod`,
        );
      }
      if (ctx.strategy === "SPOT" && count >= 32) {
        issues.push({
          path: at("machine_spec", "accelerator_count"),
          message:
            "Spot VMs do not support TPU Pods: use scheduling_strategy STANDARD or a single TPU (8 cores)",
        });
      }
    }

    if (family.requires_tpu_topology) {
      if (ms.tpu_topology === undefined) {
        const options = (family.supported_topologies ?? [])
          .filter((t) => t.machine_type === mt)
          .map((t) => t.tpu_topology);
        issues.push({
          path: at("machine_spec", "tpu_topology"),
          message: `${mt} needs a tpu_topology${options.length ? ` (one of ${options.join(", ")})` : ""}`,
        });
      } else {
        const known = (family.supported_topologies ?? []).some(
          (t) => t.machine_type === mt && t.tpu_topology === ms.tpu_topology,
        );
        if (!known)
          warnings.push(
            `${at("machine_spec", "tpu_topology")}: ${ms.tpu_topology} is not a documented topology for ${mt}`,
          );
      }
      if (accelerator !== undefined) {
        warnings.push(
          `${at("machine_spec", "accelerator_type")}: the docs configure ${mt} with a TPU topology and no accelerator_type`,
        );
      }
    } else if (ms.tpu_topology !== undefined && familyName !== "cloud-tpu") {
      issues.push({
        path: at("machine_spec", "tpu_topology"),
        message: `tpu_topology applies to ${TPU_MACHINES_HINT}, not ${mt}`,
      });
    }

    if (family.single_worker_pool_only) {
      if (pools.length > 1) {
        issues.push({
          path: poolsPath,
          message: `${mt} (a TPU VM) runs as a single worker pool; remove the other pools`,
        });
      }
      if ((pool.replica_count ?? 1) !== 1) {
        issues.push({
          path: at("replica_count"),
          message: `${mt} (a TPU VM) needs replica_count 1`,
        });
      }
    }

    if (accelerator !== undefined) {
      const regions = COMPUTE_FACTS.gpu_regions.by_accelerator_for_training[accelerator];
      if (regions && !regions.includes(ctx.region)) {
        warnings.push(
          `${at("machine_spec", "accelerator_type")}: ${accelerator} is not listed for training in ${ctx.region} (listed: ${regions.join(", ")})`,
        );
      }
    }

    const disk = pool.disk_spec;
    if (disk?.boot_disk_type !== undefined && !LIMITS.bootDiskTypes.includes(disk.boot_disk_type)) {
      issues.push({
        path: at("disk_spec", "boot_disk_type"),
        message: unknownValueMessage("boot disk type", disk.boot_disk_type, LIMITS.bootDiskTypes),
      });
    }
    const size = disk?.boot_disk_size_gb;
    if (size !== undefined && (size < LIMITS.bootDiskMinGb || size > LIMITS.bootDiskMaxGb)) {
      issues.push({
        path: at("disk_spec", "boot_disk_size_gb"),
        message: `boot disks are ${LIMITS.bootDiskMinGb}-${LIMITS.bootDiskMaxGb} GB, got ${size}`,
      });
    }
    const uris = pool.python_package_spec?.package_uris.length ?? 0;
    if (uris > LIMITS.packageUrisMax) {
      issues.push({
        path: at("python_package_spec", "package_uris"),
        message: `at most ${LIMITS.packageUrisMax} package URIs, got ${uris}`,
      });
    }
  });

  if (ctx.strategy === "FLEX_START") {
    const implied = COMPUTE_FACTS.scheduling.FLEX_START.accelerator_types_implied;
    const first = pools[0]?.machine_spec;
    pools.forEach((pool) => {
      const i = indexOf(pool);
      const ms = pool.machine_spec;
      const acc = ms.accelerator_type;
      if (acc === undefined || acc === "ACCELERATOR_TYPE_UNSPECIFIED" || !implied.includes(acc)) {
        warnings.push(
          `spec.worker_pool_specs[${i}].machine_spec: FLEX_START is documented for ${implied.join(", ")}; ${acc ?? "no accelerator"} may be rejected`,
        );
      }
      if (
        first &&
        (ms.machine_type !== first.machine_type ||
          ms.accelerator_type !== first.accelerator_type ||
          ms.accelerator_count !== first.accelerator_count)
      ) {
        issues.push({
          path: formatPath(["spec", "worker_pool_specs", i, "machine_spec"]),
          message: "FLEX_START needs the same machine configuration in every worker pool",
        });
      }
    });
    if (
      ctx.timeoutSeconds !== undefined &&
      ctx.timeoutSeconds > LIMITS.flexStartMaxTimeoutSeconds
    ) {
      issues.push({
        path: "run.timeout",
        message: `FLEX_START jobs may run at most 7 days (${LIMITS.flexStartMaxTimeoutSeconds} s), got ${ctx.timeoutSeconds}`,
      });
    }
  }
  return { issues, warnings };
}

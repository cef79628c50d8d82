// Compute facts from shared/data/vertex-compute.json (sources in vertex-compute.SOURCES.md):
// Vertex training regions, machine types and families, accelerator compatibility, disk
// and request limits, and lookups over them. The checks that use them are compute.ts.
import data from "../data/vertex-compute.json" with { type: "json" };
import type { Issue } from "../errors.js";

export interface Family {
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
export function familyOf(machineType: string): { name: string; family: Family } | undefined {
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

export const TPU_MACHINES_HINT = "TPU machine types (cloud-tpu, ct5lp-*, ct6e-*, tpu7x-*)";

/** Which machine types an accelerator goes with, for error messages. */
export function machinesFor(accelerator: string): string {
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

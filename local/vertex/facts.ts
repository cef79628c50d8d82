// Compute facts the emulator validates against, read from the vendored data file
// shared/data/vertex-compute.json (sources in vertex-compute.SOURCES.md). Only the data file
// is shared with the product; the rules below are the emulator's own reading of it.
import { readFileSync } from "node:fs";

interface FixedAccelerator {
  accelerator_type: string;
  accelerator_count: number;
}

interface Topology {
  machine_type: string;
  tpu_topology: string;
}

interface Family {
  machine_types: string[];
  accelerators?: unknown;
  requires_accelerator?: boolean;
  requires_tpu_topology?: boolean;
  single_worker_pool_only?: boolean;
  accelerator_by_machine_type?: Record<string, FixedAccelerator>;
  supported_topologies?: Topology[];
}

interface RawFacts {
  regions: { custom_training: string[] };
  machine_families: Record<string, Family | Record<string, unknown>>;
  n1_gpu_rules: { allowed_counts: Record<string, Record<string, number[]>> };
  accelerator_types: Record<string, { kind?: string }>;
  gpu_regions: { by_accelerator_for_training: Record<string, string[]> };
  limits: {
    disk_spec: {
      boot_disk_type: {
        values: string[];
        default: string;
        default_exceptions: Record<string, string>;
      };
      boot_disk_size_gb: { min: number; max: number; default: number };
    };
  };
}

export interface Facts {
  regions: Set<string>;
  /** machine type -> family name */
  familyOf: Map<string, string>;
  families: Record<string, Family>;
  n1Counts: Record<string, Record<string, number[]>>;
  acceleratorKind: Record<string, string>;
  acceleratorRegions: Record<string, string[]>;
  bootDiskTypes: string[];
  defaultBootDiskType(machineType: string): string;
  bootDiskMin: number;
  bootDiskMax: number;
  bootDiskDefault: number;
}

let cached: Facts | null = null;

export function loadFacts(): Facts {
  if (cached) return cached;
  const url = new URL("../../shared/data/vertex-compute.json", import.meta.url);
  const raw = JSON.parse(readFileSync(url, "utf8")) as RawFacts;
  const families: Record<string, Family> = {};
  const familyOf = new Map<string, string>();
  for (const [name, family] of Object.entries(raw.machine_families)) {
    if (name.startsWith("_") || !Array.isArray((family as Family).machine_types)) continue;
    families[name] = family as Family;
    for (const type of (family as Family).machine_types) familyOf.set(type, name);
  }
  const acceleratorKind: Record<string, string> = {};
  for (const [name, info] of Object.entries(raw.accelerator_types)) {
    if (!name.startsWith("_")) acceleratorKind[name] = info.kind ?? "none";
  }
  const disk = raw.limits.disk_spec;
  cached = {
    regions: new Set(raw.regions.custom_training),
    familyOf,
    families,
    n1Counts: raw.n1_gpu_rules.allowed_counts,
    acceleratorKind,
    acceleratorRegions: raw.gpu_regions.by_accelerator_for_training,
    bootDiskTypes: disk.boot_disk_type.values,
    defaultBootDiskType: (machineType) =>
      disk.boot_disk_type.default_exceptions[machineType] ?? disk.boot_disk_type.default,
    bootDiskMin: disk.boot_disk_size_gb.min,
    bootDiskMax: disk.boot_disk_size_gb.max,
    bootDiskDefault: disk.boot_disk_size_gb.default,
  };
  return cached;
}

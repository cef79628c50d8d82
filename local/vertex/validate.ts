// Validation of a CreateCustomJob request, as Vertex AI does it, on the canonical proto3 JSON
// form of the CustomJob. Returns the job spec with the defaults Vertex fills in (replica count,
// disk spec); throws ApiError with Vertex's status code and, where known, its wording.
// docs/vertex-emulator.md lists every rule with the source of its message.
import { ApiError } from "./errors.js";
import type { Facts } from "./facts.js";
import { isObject, type Json, type JsonObject, parseDuration } from "./json.js";

const MAX_DISPLAY_NAME = 128;
const MAX_ENV = 100;
const MAX_PACKAGE_URIS = 100;
const MAX_LABELS = 64;
const MAX_LABEL_LENGTH = 64;
const FLEX_START_MAX_TIMEOUT_S = 7 * 24 * 3600;
const FLEX_START_GPUS = new Set([
  "NVIDIA_L4",
  "NVIDIA_TESLA_A100",
  "NVIDIA_A100_80GB",
  "NVIDIA_H100_80GB",
  "NVIDIA_H100_MEGA_80GB",
  "NVIDIA_H200_141GB",
  "NVIDIA_B200",
]);
const TPU_FAMILY_OFFERING: Record<string, string> = {
  ct5lp: "TPU_V5E",
  ct6e: "TPU_V6E",
  tpu7x: "TPU7X",
};

/** Vertex's aggregated field-violation message ("List of found errors: ..."). */
export function fieldViolations(violations: Array<[string, string]>): ApiError {
  const lines = violations.map(
    ([field, message], i) => `${i + 1}.Field: ${field}; Message: ${message}`,
  );
  return new ApiError("INVALID_ARGUMENT", `List of found errors:\t${lines.join("\t")}\t`);
}

function obj(value: Json | undefined): JsonObject {
  return isObject(value) ? value : {};
}

function str(value: Json | undefined): string {
  return typeof value === "string" ? value : "";
}

function int(value: Json | undefined): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value !== "") return Number(value);
  return 0;
}

function isEmptyPool(pool: JsonObject): boolean {
  return Object.keys(pool).length === 0;
}

// Google Cloud label rules: lowercase letters (international ones too), digits, '_' and '-';
// keys start with a lowercase letter; the CustomJob proto allows 64 characters.
const LABEL_CHARS = /^[\p{Ll}\p{Lo}0-9_-]*$/u;
const LABEL_KEY_START = /^[\p{Ll}\p{Lo}]/u;

function checkLabels(labels: JsonObject): void {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) {
    throw new ApiError(
      "INVALID_ARGUMENT",
      `A resource can have at most ${MAX_LABELS} labels, but ${entries.length} were given.`,
    );
  }
  for (const [key, value] of entries) {
    const v = str(value);
    if (key.length === 0 || [...key].length > MAX_LABEL_LENGTH) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        `Label key "${key}" is invalid: label keys must be between 1 and ${MAX_LABEL_LENGTH} characters long.`,
      );
    }
    if (!LABEL_KEY_START.test(key) || !LABEL_CHARS.test(key)) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        `Label key "${key}" is invalid: label keys must start with a lowercase letter and can only contain lowercase letters, numeric characters, underscores and dashes.`,
      );
    }
    if ([...v].length > MAX_LABEL_LENGTH) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        `Label value "${v}" of key "${key}" is invalid: label values can be no longer than ${MAX_LABEL_LENGTH} characters.`,
      );
    }
    if (!LABEL_CHARS.test(v)) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        `Label value "${v}" of key "${key}" is invalid: label values can only contain lowercase letters, numeric characters, underscores and dashes.`,
      );
    }
  }
}

const C_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkEnv(env: Json | undefined, path: string, violations: Array<[string, string]>): void {
  const list = Array.isArray(env) ? env : [];
  if (list.length > MAX_ENV) {
    throw new ApiError(
      "INVALID_ARGUMENT",
      `Too many environment variables in ${path}: ${list.length} given, at most ${MAX_ENV} are allowed.`,
    );
  }
  list.forEach((entry, i) => {
    const name = str(obj(entry).name);
    if (name === "") violations.push([`${path}[${i}].name`, "Required field is not set."]);
    else if (!C_IDENTIFIER.test(name)) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        `Environment variable name "${name}" in ${path}[${i}] is invalid: it must be a valid C identifier.`,
      );
    }
  });
}

interface PoolMachine {
  machineType: string;
  acceleratorType: string;
  acceleratorCount: number;
  tpuTopology: string;
}

function machineOf(pool: JsonObject): PoolMachine {
  const spec = obj(pool.machineSpec);
  const acceleratorType = str(spec.acceleratorType);
  return {
    machineType: str(spec.machineType),
    acceleratorType: acceleratorType === "ACCELERATOR_TYPE_UNSPECIFIED" ? "" : acceleratorType,
    acceleratorCount: int(spec.acceleratorCount),
    tpuTopology: str(spec.tpuTopology),
  };
}

function unsupportedAccelerator(m: PoolMachine): ApiError {
  return new ApiError(
    "INVALID_ARGUMENT",
    `Accelerator "${m.acceleratorType}" is not supported for machine type "${m.machineType}".`,
  );
}

function badAcceleratorCount(m: PoolMachine): ApiError {
  return new ApiError(
    "INVALID_ARGUMENT",
    `Accelerator count ${m.acceleratorCount} is not supported for machine type "${m.machineType}" with accelerator "${m.acceleratorType}".`,
  );
}

type Family = Facts["families"][string];

/**
 * How a machine family takes accelerators: the first rule whose `applies` holds checks the
 * pool's accelerator and returns the offering whose training regions are then checked ("" for
 * none). Sources as in docs/vertex-emulator.md (the "accelerator fits the family" row).
 */
interface FamilyRule {
  name: string;
  source: string;
  applies: (familyName: string, family: Family) => boolean;
  check: (m: PoolMachine, f: { name: string; family: Family; facts: Facts }) => string;
}

const FAMILY_RULES: readonly FamilyRule[] = [
  {
    name: "N1 takes P4/P100/T4/V100 in the counts of n1_gpu_rules.allowed_counts",
    source:
      "real message for a wrong accelerator (a W&B Launch user's log parser); counts composed",
    applies: (familyName) => familyName === "n1",
    check: (m, { facts }) => {
      if (m.acceleratorType) {
        const counts = facts.n1Counts[m.machineType]?.[m.acceleratorType];
        if (!counts || counts.length === 0) throw unsupportedAccelerator(m);
        if (m.acceleratorCount !== 0 && !counts.includes(m.acceleratorCount)) {
          throw badAcceleratorCount(m);
        }
      }
      return m.acceleratorType;
    },
  },
  {
    name: "A2/A3/A4/A4X/G2/G4 need their one GPU type and count",
    source: "composed",
    applies: (_name, family) => Boolean(family.accelerator_by_machine_type),
    check: (m, { family }) => {
      const fixed = family.accelerator_by_machine_type?.[m.machineType];
      if (!m.acceleratorType) {
        throw new ApiError(
          "INVALID_ARGUMENT",
          `Machine type "${m.machineType}" must be used with accelerator "${fixed?.accelerator_type}" (count ${fixed?.accelerator_count}).`,
        );
      }
      if (!fixed || fixed.accelerator_type !== m.acceleratorType) throw unsupportedAccelerator(m);
      if (m.acceleratorCount !== 0 && m.acceleratorCount !== fixed.accelerator_count) {
        throw badAcceleratorCount(m);
      }
      return m.acceleratorType;
    },
  },
  {
    name: "cloud-tpu takes TPU_V2/V3 x 8, or pods (v2: multiples of 32, v3: >= 32)",
    source: "composed",
    applies: (familyName) => familyName === "cloud-tpu",
    check: (m) => {
      if (m.acceleratorType !== "TPU_V2" && m.acceleratorType !== "TPU_V3") {
        if (!m.acceleratorType) {
          throw new ApiError(
            "INVALID_ARGUMENT",
            `Machine type "cloud-tpu" must be used with accelerator "TPU_V2" or "TPU_V3".`,
          );
        }
        throw unsupportedAccelerator(m);
      }
      const n = m.acceleratorCount;
      const single = n === 8;
      const pod = m.acceleratorType === "TPU_V2" ? n >= 32 && n % 32 === 0 : n >= 32;
      if (!single && !pod) throw badAcceleratorCount(m);
      return pod ? `${m.acceleratorType}_POD` : m.acceleratorType;
    },
  },
  {
    name: "TPU VMs (ct5lp/ct6e/tpu7x) need a supported tpu_topology",
    source: "composed",
    applies: (_name, family) => Boolean(family.requires_tpu_topology),
    check: checkTpuVm,
  },
];

/** Families no rule covers take no accelerator. */
const NO_ACCELERATOR: FamilyRule = {
  name: "other families take no accelerator",
  source: "composed",
  applies: () => true,
  check: (m) => {
    if (m.acceleratorType) throw unsupportedAccelerator(m);
    return m.acceleratorType;
  },
};

function checkTpuVm(
  m: PoolMachine,
  { name: familyName, family }: { name: string; family: Family },
): string {
  if (m.acceleratorType && !(familyName === "ct5lp" && m.acceleratorType === "TPU_V5_LITEPOD")) {
    throw unsupportedAccelerator(m);
  }
  if (!m.tpuTopology) {
    throw fieldViolations([
      ["job_spec.worker_pool_specs[0].machine_spec.tpu_topology", "Required field is not set."],
    ]);
  }
  const ok = (family.supported_topologies ?? []).some(
    (t) => t.machine_type === m.machineType && t.tpu_topology === m.tpuTopology,
  );
  if (!ok) {
    throw new ApiError(
      "INVALID_ARGUMENT",
      `TPU topology "${m.tpuTopology}" is not supported for machine type "${m.machineType}".`,
    );
  }
  return TPU_FAMILY_OFFERING[familyName] ?? "";
}

function checkMachine(m: PoolMachine, region: string, facts: Facts): void {
  const familyName = facts.familyOf.get(m.machineType);
  const family = familyName ? facts.families[familyName] : undefined;
  if (!familyName || !family) {
    throw new ApiError("INVALID_ARGUMENT", `Machine type "${m.machineType}" is not supported.`);
  }
  const rule = FAMILY_RULES.find((r) => r.applies(familyName, family)) ?? NO_ACCELERATOR;
  const offering = rule.check(m, { name: familyName, family, facts });
  if (offering) {
    const regions = facts.acceleratorRegions[offering] ?? [];
    if (!regions.includes(region)) {
      const what = m.acceleratorType || m.machineType;
      throw new ApiError(
        "INVALID_ARGUMENT",
        `Accelerator "${what}" is not supported in location "${region}".`,
      );
    }
  }
}

function checkTask(pool: JsonObject, path: string, violations: Array<[string, string]>): void {
  const container = pool.containerSpec;
  const pkg = pool.pythonPackageSpec;
  if (container === undefined && pkg === undefined) {
    violations.push([`${path}.container_spec.image_uri`, "Required field is not set."]);
    return;
  }
  if (container !== undefined) {
    const c = obj(container);
    if (str(c.imageUri) === "") {
      violations.push([`${path}.container_spec.image_uri`, "Required field is not set."]);
    }
    checkEnv(c.env, `${path}.container_spec.env`, violations);
    return;
  }
  const p = obj(pkg);
  if (str(p.executorImageUri) === "") {
    violations.push([
      `${path}.python_package_spec.executor_image_uri`,
      "Required field is not set.",
    ]);
  }
  const uris = Array.isArray(p.packageUris) ? p.packageUris : [];
  if (uris.length === 0) {
    violations.push([`${path}.python_package_spec.package_uris`, "Required field is not set."]);
  }
  if (uris.length > MAX_PACKAGE_URIS) {
    throw new ApiError(
      "INVALID_ARGUMENT",
      `Too many package URIs in ${path}.python_package_spec: ${uris.length} given, at most ${MAX_PACKAGE_URIS} are allowed.`,
    );
  }
  if (str(p.pythonModule) === "") {
    violations.push([`${path}.python_package_spec.python_module`, "Required field is not set."]);
  }
  checkEnv(p.env, `${path}.python_package_spec.env`, violations);
}

function resolveDiskSpec(
  pool: JsonObject,
  machineType: string,
  path: string,
  facts: Facts,
): JsonObject {
  const disk = obj(pool.diskSpec);
  const type = str(disk.bootDiskType) || facts.defaultBootDiskType(machineType);
  if (!facts.bootDiskTypes.includes(type)) {
    throw new ApiError(
      "INVALID_ARGUMENT",
      `Boot disk type "${type}" in ${path}.disk_spec is not supported. Supported types: ${facts.bootDiskTypes.join(", ")}.`,
    );
  }
  const size = int(disk.bootDiskSizeGb) || facts.bootDiskDefault;
  if (size < facts.bootDiskMin || size > facts.bootDiskMax) {
    throw new ApiError(
      "INVALID_ARGUMENT",
      `Boot disk size ${size} GB in ${path}.disk_spec is out of range: it must be between ${facts.bootDiskMin} and ${facts.bootDiskMax} GB.`,
    );
  }
  return { ...disk, bootDiskType: type, bootDiskSizeGb: size };
}

function checkScheduling(spec: JsonObject, pools: JsonObject[]): void {
  const scheduling = obj(spec.scheduling);
  if (str(scheduling.strategy) !== "FLEX_START") return;
  const timeout = parseDuration(str(scheduling.timeout) || "0s");
  if (timeout && timeout.seconds > FLEX_START_MAX_TIMEOUT_S) {
    throw new ApiError(
      "INVALID_ARGUMENT",
      "Scheduling strategy FLEX_START requires a timeout of 7 days or less.",
    );
  }
  const machines = pools.filter((p) => !isEmptyPool(p)).map(machineOf);
  const first = machines[0];
  for (const m of machines) {
    if (!FLEX_START_GPUS.has(m.acceleratorType)) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        `Scheduling strategy FLEX_START is not supported for accelerator "${m.acceleratorType || "none"}" (it needs L4, A100, H100, H200 or B200 GPUs).`,
      );
    }
    if (
      first &&
      (m.machineType !== first.machineType ||
        m.acceleratorType !== first.acceleratorType ||
        m.acceleratorCount !== first.acceleratorCount)
    ) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        "Scheduling strategy FLEX_START requires the same machine configuration in every worker pool.",
      );
    }
  }
}

/**
 * Validates a CustomJob for `region`; returns the job spec as Vertex stores it (defaults
 * filled in). Throws ApiError. The order of the checks is Vertex's: required fields (all
 * reported at once), display name and labels, each pool, scheduling, network, output.
 */
export function validateCustomJob(job: JsonObject, region: string, facts: Facts): JsonObject {
  const displayName = str(job.displayName);
  const spec = obj(job.jobSpec);
  const pools = (Array.isArray(spec.workerPoolSpecs) ? spec.workerPoolSpecs : []).map(obj);
  const violations = requiredFields(job, displayName, pools);
  if (violations.length > 0) throw fieldViolations(violations);

  if ([...displayName].length > MAX_DISPLAY_NAME) {
    throw fieldViolations([
      [
        "display_name",
        `The display name is too long: it can have at most ${MAX_DISPLAY_NAME} characters.`,
      ],
    ]);
  }
  checkLabels(obj(job.labels));
  const resolvedPools = pools.map((pool, i) => resolvePool(pool, i, pools, region, facts));
  checkScheduling(spec, pools);
  checkNetwork(spec);
  checkOutputDirectory(spec);
  return { ...spec, workerPoolSpecs: resolvedPools };
}

/** The "Required field is not set." violations (and the empty first pool), in Vertex's order. */
function requiredFields(
  job: JsonObject,
  displayName: string,
  pools: JsonObject[],
): Array<[string, string]> {
  const violations: Array<[string, string]> = [];
  if (displayName === "") violations.push(["display_name", "Required field is not set."]);
  if (job.jobSpec === undefined) violations.push(["job_spec", "Required field is not set."]);
  if (job.jobSpec !== undefined && pools.length === 0) {
    violations.push(["job_spec.worker_pool_specs", "Required field is not set."]);
  }
  const firstPool = pools[0];
  if (firstPool && isEmptyPool(firstPool)) {
    violations.push([
      "job_spec.worker_pool_specs[0]",
      "The first worker pool spec must not be empty.",
    ]);
  }
  pools.forEach((pool, i) => {
    if (isEmptyPool(pool)) return;
    const path = `job_spec.worker_pool_specs[${i}]`;
    if (str(obj(pool.machineSpec).machineType) === "") {
      violations.push([`${path}.machine_spec.machine_type`, "Required field is not set."]);
    }
    checkTask(pool, path, violations);
  });
  return violations;
}

/** One pool's machine and replicas checked, with replicaCount and diskSpec filled in. */
function resolvePool(
  pool: JsonObject,
  i: number,
  pools: JsonObject[],
  region: string,
  facts: Facts,
): JsonObject {
  if (isEmptyPool(pool)) return pool;
  const path = `job_spec.worker_pool_specs[${i}]`;
  const machine = machineOf(pool);
  checkMachine(machine, region, facts);
  const replicas = pool.replicaCount === undefined ? 1 : int(pool.replicaCount);
  if (replicas < 0) {
    throw fieldViolations([[`${path}.replica_count`, "The replica count must not be negative."]]);
  }
  if (i === 0 && replicas > 1) {
    throw fieldViolations([
      [
        `${path}.replica_count`,
        "The replica count of the first worker pool (the chief) cannot be greater than 1.",
      ],
    ]);
  }
  const family = facts.families[facts.familyOf.get(machine.machineType) ?? ""];
  if (family?.single_worker_pool_only) {
    const nonEmpty = pools.filter((p) => !isEmptyPool(p)).length;
    if (nonEmpty > 1 || replicas > 1) {
      throw new ApiError(
        "INVALID_ARGUMENT",
        `Machine type "${machine.machineType}" (TPU VM) supports a single worker pool with one replica.`,
      );
    }
  }
  return {
    ...pool,
    replicaCount: String(Math.max(replicas, 1)),
    diskSpec: resolveDiskSpec(pool, machine.machineType, path, facts),
  };
}

function checkNetwork(spec: JsonObject): void {
  const network = str(spec.network);
  if (network && !/^projects\/[^/]+\/global\/networks\/[^/]+$/.test(network)) {
    throw new ApiError(
      "INVALID_ARGUMENT",
      `Invalid network "${network}": the format is projects/{project_number}/global/networks/{network}.`,
    );
  }
}

function checkOutputDirectory(spec: JsonObject): void {
  if (spec.baseOutputDirectory === undefined) return;
  const prefix = str(obj(spec.baseOutputDirectory).outputUriPrefix);
  if (!/^gs:\/\/[a-z0-9][a-z0-9._-]{1,221}[a-z0-9](\/.*)?$/.test(prefix)) {
    throw new ApiError(
      "INVALID_ARGUMENT",
      `Invalid base_output_directory.output_uri_prefix "${prefix}": it must be a Cloud Storage URI (gs://bucket/path).`,
    );
  }
}

/** A service account e-mail; anything else cannot exist, which Vertex reports as act-as. */
export function isServiceAccountEmail(account: string): boolean {
  return /^[a-z0-9][a-z0-9._-]*@[a-z0-9][a-z0-9.-]*\.[a-z]{2,}$/i.test(account);
}

export function actAsDenied(account: string): ApiError {
  return new ApiError(
    "INVALID_ARGUMENT",
    `You do not have permission to act as service_account: ${account}. (or it may not exist).`,
  );
}

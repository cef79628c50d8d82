// Step "compute": the region, and every worker pool's machine, accelerators, TPU
// topology, disk and scheduling strategy, checked against the compute facts
// (compute_facts.ts, from shared/data/vertex-compute.json). The checks themselves are the
// rule tables of compute_rules.ts, each rule with its source; this file runs them.

import { formatPath } from "../errors.js";
import { isEmptyPool, type PoolSlot, type WorkerPoolSpec } from "../schemas/queue_config.js";
import { ACCELERATOR_TYPES } from "../schemas/vertex_enums.js";
import { COMPUTE_FACTS, type Findings, familyOf } from "./compute_facts.js";
import {
  FLEX_START_RULES,
  JOB_RULES,
  type JobCheck,
  type JobContext,
  POOL_RULES,
  type PoolCheck,
  type Rule,
} from "./compute_rules.js";
import { didYouMean } from "./keys.js";

export { COMPUTE_FACTS, type Findings, LIMITS, machineTypes } from "./compute_facts.js";

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
function run<C>(
  rules: readonly Rule<C>[],
  c: C,
  out: Findings,
  skip?: (r: Rule<C>) => boolean,
): void {
  for (const rule of rules) if (!skip?.(rule)) rule.check(c, out);
}

function poolCheck(
  pool: WorkerPoolSpec,
  i: number,
  pools: readonly WorkerPoolSpec[],
  job: JobContext,
): PoolCheck {
  const type = pool.machine_spec.accelerator_type;
  const named = type !== undefined && (ACCELERATOR_TYPES as readonly string[]).includes(type);
  return {
    pool,
    at: (...rest) => formatPath(["spec", "worker_pool_specs", i, ...rest]),
    accelerator: named && type !== "ACCELERATOR_TYPE_UNSPECIFIED" ? type : undefined,
    count: pool.machine_spec.accelerator_count ?? 0,
    machine: familyOf(pool.machine_spec.machine_type),
    pools,
    job,
  };
}

/** Every rule on every real pool ({} placeholders run nothing), at the pool's own index. */
export function checkWorkerPools(slots: readonly PoolSlot[], job: JobContext): Findings {
  const out: Findings = { issues: [], warnings: [] };
  const real = slots.flatMap((pool, i) => (isEmptyPool(pool) ? [] : [{ pool, i }]));
  const pools = real.map((p) => p.pool);
  const jobCheck: JobCheck = { pools: real, slots: slots.length, job };
  run(JOB_RULES, jobCheck, out);
  for (const { pool, i } of real) {
    const c = poolCheck(pool, i, pools, job);
    run(POOL_RULES, c, out, (rule) => rule.knownMachine === true && c.machine === undefined);
  }
  if (job.strategy === "FLEX_START") run(FLEX_START_RULES, jobCheck, out);
  return out;
}

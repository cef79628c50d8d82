// Step "env": every real pool's container env (the queue's env, the W&B variables, the
// message's env; env.ts) and image; a `{}` placeholder gets neither. Also checks that
// the message's entry_point has a command to replace in every pool.
import { formatPath } from "../errors.js";
import { isEmptyPool, type Spec, type WorkerPoolSpec } from "../schemas/queue_config.js";
import { LIMITS } from "./compute_facts.js";
import { buildEnv, type EnvVar, wandbEnv } from "./env.js";
import type { LaunchIds } from "./ids.js";
import type { IssueCollector } from "./issues.js";
import type { ResolveInput } from "./types.js";

export interface PoolEnvs {
  /** Final env by pool index ([] for a placeholder). */
  env: EnvVar[][];
  /** Every container/executor image, once each. */
  images: string[];
}

export function checkEntryPoint(input: ResolveInput, spec: Spec, issues: IssueCollector): void {
  if (input.message.entry_point === undefined) return;
  spec.worker_pool_specs.forEach((pool, i) => {
    if (isEmptyPool(pool) || !pool.python_package_spec) return;
    issues.fromMessage([
      {
        path: "message.entry_point",
        message: `spec.worker_pool_specs[${i}] runs a python_package_spec, which has no command: remove entry_point from the message`,
      },
    ]);
  });
}

export function poolEnvs(
  input: ResolveInput,
  spec: Spec,
  ids: LaunchIds,
  issues: IssueCollector,
): PoolEnvs {
  const out: PoolEnvs = { env: [], images: [] };
  spec.worker_pool_specs.forEach((slot, i) => {
    if (isEmptyPool(slot)) {
      out.env.push([]);
      return;
    }
    const image =
      slot.container_spec?.image_uri ?? slot.python_package_spec?.executor_image_uri ?? "";
    out.images.push(image);
    out.env.push(poolEnv(input, slot, i, image, ids, issues));
  });
  out.images = [...new Set(out.images)];
  return out;
}

function poolEnv(
  input: ResolveInput,
  pool: WorkerPoolSpec,
  i: number,
  image: string,
  ids: LaunchIds,
  issues: IssueCollector,
): EnvVar[] {
  const { message, defaults } = input;
  const section = pool.container_spec ? "container_spec" : "python_package_spec";
  const queueEnv = pool.container_spec?.env ?? pool.python_package_spec?.env ?? [];
  const every = {
    baseUrl: defaults.wandbBaseUrl,
    apiKey: defaults.wandbApiKey,
    entity: ids.entity,
    project: ids.wandbProject,
    runId: ids.runId,
    queueName: ids.queueName,
    image,
  };
  const wandb = wandbEnv({
    ...every,
    name: message.name,
    author: message.author,
    runConfig: message.run_config,
    job: message.job,
  });
  const path = formatPath(["spec", "worker_pool_specs", i, section, "env"]);
  const built = buildEnv(queueEnv, wandb, message.env, path);
  // Too many variables is the message's doing when the queue's env and the W&B variables
  // every launch gets fit: the message's env, name, author, job or run_config pushed it over.
  const queueFits = queueEnv.length + wandbEnv(every).length <= LIMITS.envMax;
  for (const issue of built.issues) {
    if (issue.path.startsWith("message.")) issues.fromMessage([issue]);
    else if (issue.path === path && built.env.length > LIMITS.envMax && queueFits) {
      issues.fromMessage([
        {
          ...issue,
          message: `${issue.message}: the launch message's env and W&B variables push it over`,
        },
      ]);
    } else issues.fromResolved([issue]);
  }
  return built.env;
}

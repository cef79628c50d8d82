// The resolver (SPEC §3, §4): queue config + launch message (+ project/region defaults)
// → the v1 CreateCustomJobRequest for the Node client. Pure: no network, no environment
// reads, no clock. A pipeline of named steps, each in its own file, sharing one issue
// collector (issues.ts) that knows whether the queue or the message caused each problem:
//
//   1. overrides           overrides.ts          resource_args merged over spec/run (if allowed)
//   2. template variables  substitute.ts         "{{name}}" from the message, else the default
//   3. macros              substitute.ts         ${image_uri}, ${project_name}, ...
//   4. validation          validate_sections.ts  the final spec/run; stops on any problem so far
//   5. placement           placement.ts          project, region, service account
//   6. compute             compute.ts            machines, accelerators, disks, scheduling
//   7. run checks          run_checks.ts         combinations of run keys
//   8. experiment context  experiment.ts         bare names → metadata context resource names
//   9. display name        display_name.ts
//  10. labels              labels.ts
//  11. env                 pool_env.ts, env.ts   every container's env and image
//  12. translation         translate.ts          snake_case spec/run → camelCase proto fields
//
// Steps 1-4 stop on any problem; every problem of steps 5-11 is then reported together,
// as one DispatchError, before anything is translated.
import { issuesError } from "../errors.js";
import { GCS_URI_RE, withGcsScheme } from "../schemas/queue_config.js";
import { checkWorkerPools } from "./compute.js";
import { displayNameFor } from "./display_name.js";
import { experimentContext } from "./experiment.js";
import { type LaunchIds, launchIdsFor } from "./ids.js";
import { IssueCollector } from "./issues.js";
import { labelsFor } from "./labels.js";
import { applyOverrides } from "./overrides.js";
import { resolvePlacement } from "./placement.js";
import { checkEntryPoint, poolEnvs } from "./pool_env.js";
import { checkRunOptions } from "./run_checks.js";
import { applyMacros, applyTemplateVariables } from "./substitute.js";
import { type TranslateInput, translateCustomJob } from "./translate.js";
import type { ResolvedLaunch, ResolveInput } from "./types.js";
import { type Checked, validateSections } from "./validate_sections.js";

export { deepMerge } from "./overrides.js";
export type { ResolveDefaults, ResolvedLaunch, ResolveInput } from "./types.js";

/** Resolves one launch; throws invalid_config / invalid_message listing all issues. */
export function resolveLaunch(input: ResolveInput): ResolvedLaunch {
  const { queueName, config, message, idempotencyKey } = input;
  if (message.action !== "launch") {
    throw issuesError("invalid_message", `a "${message.action}" message has no job to resolve`, [
      { path: "message.action", message: 'only "launch" messages are resolved into a CustomJob' },
    ]);
  }
  const issues = new IssueCollector(queueName);
  const ids = launchIdsFor(queueName, message, idempotencyKey);
  const sections = applyOverrides(config, message, queueName, issues);
  const templates = applyTemplateVariables(input, sections, issues);
  applyMacros(input, ids, sections, templates.unresolved, issues);
  const checked = validateSections(sections, templates.unresolved, issues);
  const job = buildJob(input, ids, checked, issues);
  issues.throwIfAny();

  const { project, region } = job.placement;
  return {
    launchId: ids.launchId,
    runId: ids.runId,
    idempotencyKey,
    queueName,
    config,
    project,
    region,
    parent: `projects/${project}/locations/${region}`,
    customJob: translateCustomJob(job.translate),
    stagingBucket: bucketOf(job.stagingUri),
    outputBucket: bucketOf(job.translate.baseOutputDirectory),
    imageUris: job.images,
    warnings: [...new Set(issues.warnings)],
  };
}

/** Steps 5-11 on the validated spec/run: everything translation needs, problems collected. */
function buildJob(input: ResolveInput, ids: LaunchIds, c: Checked, issues: IssueCollector) {
  const { spec, run } = c;
  const { message } = input;
  const placement = resolvePlacement(input, c, issues);
  const compute = checkWorkerPools(spec.worker_pool_specs, {
    region: placement.region,
    strategy: run.scheduling_strategy,
    timeoutSeconds: run.timeout,
  });
  issues.fromResolved(compute.issues);
  issues.warn(...compute.warnings);
  checkRunOptions(run, issues);
  const experiment = experimentContext(run, placement, issues);
  const displayName = displayNameFor(spec, message.name, ids.runId, issues);
  const labels = labelsFor(input.config.spec.labels, spec, ids, issues);
  checkEntryPoint(input, spec, issues);
  const pools = poolEnvs(input, spec, ids, issues);
  const stagingUri = withGcsScheme(spec.staging_bucket);
  const translate: TranslateInput = {
    spec,
    run,
    displayName,
    labels,
    serviceAccount: placement.serviceAccount,
    baseOutputDirectory: spec.base_output_dir ?? `${stagingUri.replace(/\/+$/, "")}/${ids.runId}`,
    env: pools.env,
    command: message.entry_point,
    args: message.args,
    ...experiment,
  };
  return { placement, stagingUri, images: pools.images, translate };
}

function bucketOf(uri: string): string {
  return GCS_URI_RE.exec(uri)?.[1] ?? "";
}

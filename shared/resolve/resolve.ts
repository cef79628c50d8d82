// The resolver (SPEC §3, §4): queue config + launch message (+ project/region defaults)
// → the v1 CreateCustomJobRequest for the Node client. Pure: no network, no environment
// reads, no clock. Order: queue file → resource_args overrides (if allowed) → template
// variables → macros → validation → translation. Every problem is collected and thrown
// at once as one DispatchError whose issues carry paths.
import { type DispatchError, formatPath, type Issue, issuesError } from "../errors.js";
import type { LaunchMessage } from "../schemas/message.js";
import {
  GCS_URI_RE,
  isEmptyPool,
  PROJECT_ID_RE,
  type QueueConfig,
  type Run,
  RunSchema,
  SERVICE_ACCOUNT_RE,
  type Spec,
  SpecSchema,
  type WorkerPoolSpec,
  withGcsScheme,
} from "../schemas/queue_config.js";
import { safeParseWithIssues, unknownKeyIssues } from "../schemas/zod_issues.js";
import { checkRegion, checkWorkerPools, LIMITS } from "./compute.js";
import { buildEnv, type EnvVar, wandbEnv } from "./env.js";
import { launchIdFor, runIdFor } from "./ids.js";
import { buildLabels, DISPATCHER_LABEL_KEYS, dispatcherLabels } from "./labels.js";
import { type MacroName, type MacroValue, substituteMacros } from "./macros.js";
import { substituteTemplates, templateNote, templateValues } from "./template.js";
import { translateCustomJob } from "./translate.js";

export interface ResolveDefaults {
  /** `$GOOGLE_CLOUD_PROJECT`: used when the queue sets no `project`. */
  project?: string;
  /** `$VERTEX_REGION`: used when the queue sets no `region`. */
  region?: string;
  /** `$DEFAULT_JOB_SERVICE_ACCOUNT`: used when neither run, spec nor queue sets one. */
  defaultServiceAccount?: string;
  /** `$WANDB_BASE_URL` (default https://api.wandb.ai). */
  wandbBaseUrl?: string;
  /** `$WANDB_API_KEY`, the dispatcher's own secret; injected as WANDB_API_KEY, never printed in errors. */
  wandbApiKey?: string;
  /**
   * Where each default came from, for error messages: the dispatcher's variable names
   * unless given (`vertex-dispatch render` passes e.g. "--project" for a flag).
   */
  sources?: { project?: string; region?: string; defaultServiceAccount?: string };
}

export interface ResolvedLaunch {
  launchId: string;
  runId: string;
  idempotencyKey: string;
  queueName: string;
  config: QueueConfig;
  project: string;
  region: string;
  /** `projects/{project}/locations/{region}` */
  parent: string;
  /** For `JobServiceClient.createCustomJob({parent, customJob})`: camelCase, Durations as {seconds}, enums by name. */
  customJob: Record<string, unknown>;
  /** Bucket names (no gs://), for the preflight. */
  stagingBucket: string;
  outputBucket: string;
  /** Every container/executor image, for the image preflight. */
  imageUris: string[];
  warnings: string[];
}

export interface ResolveInput {
  queueName: string;
  config: QueueConfig;
  message: LaunchMessage;
  idempotencyKey: string;
  defaults: ResolveDefaults;
}

/** An issue plus whether the launch message (rather than the queue config) caused it. */
interface Found extends Issue {
  fromMessage: boolean;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** JSON-merge-patch style: objects merge key by key, `null` removes a key, anything else (lists too) replaces. */
export function deepMerge(base: Plain, patch: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isPlain(value) && isPlain(out[key])) out[key] = deepMerge(out[key] as Plain, value);
    else out[key] = structuredClone(value);
  }
  return out;
}

/**
 * Paths of the leaves (non-object values) of a patch. An empty object overrides nothing
 * (merged, it changes no value), so it has no leaves.
 */
function leafPaths(value: unknown, path: string[] = []): string[][] {
  if (!isPlain(value)) return [path];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]));
}

function bucketOf(uri: string): string {
  return GCS_URI_RE.exec(uri)?.[1] ?? "";
}

const SET_BY_MESSAGE = " (set by the message's resource_args)";

/** Vertex ML Metadata context ids (experiments and experiment runs are contexts). */
const CONTEXT_ID_RE = /^[a-z0-9][a-z0-9-]{0,127}$/;
const CONTEXT_ID_RULE =
  "lowercase letters, digits and hyphens, starting with a letter or digit, at most 128 characters ([a-z0-9][a-z0-9-]{0,127})";

const EXPERIMENT_RE = /^projects\/[^/]+\/locations\/[^/]+\/metadataStores\/[^/]+\/contexts\/[^/]+$/;

/** Resolves one launch; throws invalid_config / invalid_message listing all issues. */
export function resolveLaunch(input: ResolveInput): ResolvedLaunch {
  const { queueName, config, message, idempotencyKey, defaults } = input;
  if (message.action !== "launch") {
    throw issuesError("invalid_message", `a "${message.action}" message has no job to resolve`, [
      { path: "message.action", message: 'only "launch" messages are resolved into a CustomJob' },
    ]);
  }
  const found: Found[] = [];
  const warnings: string[] = [];
  const fromConfig = (issues: Issue[]) =>
    found.push(...issues.map((i) => ({ ...i, fromMessage: false })));
  const fromMessage = (issues: Issue[]) =>
    found.push(...issues.map((i) => ({ ...i, fromMessage: true })));
  const entity = message.entity ?? "";
  // W&B lower-cases the project (LaunchProject): in ${project_name}, WANDB_PROJECT, labels, paths.
  const wandbProject = (message.project ?? "").toLowerCase();
  const runId = runIdFor(message, idempotencyKey);
  const launchId = launchIdFor(idempotencyKey);

  // 1. resource_args overrides, only when the queue allows them.
  let spec: Plain = structuredClone(config.spec);
  let run: Plain = structuredClone(config.run);
  const overrideKey = message.resource_args?.["gcp-vertex"] !== undefined ? "gcp-vertex" : "vertex";
  const override = message.resource_args?.[overrideKey];
  const overridden: string[] = [];
  // Config paths of unknown keys already reported at their message path (not again at the config path).
  const unknownInOverride = new Set<string>();
  const overrideLeaves = override
    ? leafPaths(Object.fromEntries(Object.entries(override).filter(([, v]) => v !== undefined)))
    : [];
  if (override && (override.spec !== undefined || override.run !== undefined)) {
    const base = ["message", "resource_args", overrideKey];
    const messagePrefix = `${formatPath(base)}.`;
    if (!config.allow_resource_overrides) {
      // Only what would change a value is refused: empty objects override nothing.
      fromMessage(
        overrideLeaves.map((leaf) => ({
          path: formatPath([...base, ...leaf]),
          message: `queue "${queueName}" does not allow resource overrides: remove this field from resource_args, or set allow_resource_overrides: true in the queue config`,
        })),
      );
    } else {
      const unknown = [
        ...unknownKeyIssues(SpecSchema, override.spec ?? {}, [...base, "spec"]),
        ...unknownKeyIssues(RunSchema, override.run ?? {}, [...base, "run"]),
      ];
      fromMessage(unknown);
      for (const issue of unknown) unknownInOverride.add(issue.path.slice(messagePrefix.length));
      spec = deepMerge(spec, override.spec ?? {});
      run = deepMerge(run, override.run ?? {});
      overridden.push(...overrideLeaves.map((leaf) => formatPath(leaf)));
    }
  }

  // Issues found on the resolved spec/run at a path the message's resource_args set (or
  // at a related path that decides the same check) are the message's.
  const overriddenAt = (path: string) =>
    overridden.some((p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`));
  // Issues at a path a template variable filled name the variable.
  const fromResolved = (issues: Issue[], related: string[] = []) => {
    for (const issue of issues) {
      const byMessage = [issue.path, ...related].some(overriddenAt);
      const note = `${templateNote(tv.context, issue.path)}${byMessage ? SET_BY_MESSAGE : ""}`;
      found.push({ ...issue, message: `${issue.message}${note}`, fromMessage: byMessage });
    }
  };

  // 2. Template variables: the message's values, else the defaults.
  const tv = templateValues(config.template_variables, message.template_variables, [
    "message",
    "template_variables",
  ]);
  fromMessage(tv.issues);
  const tvIssues: Issue[] = [];
  spec = substituteTemplates(spec, SpecSchema, ["spec"], tv.context, tvIssues) as Plain;
  run = substituteTemplates(run, RunSchema, ["run"], tv.context, tvIssues) as Plain;
  for (const issue of tvIssues) {
    (issue.path.startsWith("message.") ? fromMessage : fromConfig)([issue]);
  }

  // 3. Macros, in every string of spec and run.
  const macros: Record<MacroName, MacroValue> = {
    image_uri: message.image_uri ?? {
      missing: "the launch message has no image_uri: add it",
      required: true,
    },
    project_name: wandbProject,
    entity_name: entity,
    run_id: runId,
    run_name: message.name ?? runId,
    author: message.author ?? { missing: "the launch message has no author", required: false },
    queue_name: queueName,
  };
  const macroIssues: Issue[] = [];
  // Paths already reported as unresolved: their validation errors would only repeat them.
  const unresolved = tv.context.unresolved;
  spec = substituteMacros(spec, ["spec"], macros, macroIssues, warnings, unresolved) as Plain;
  run = substituteMacros(run, ["run"], macros, macroIssues, warnings, unresolved) as Plain;
  fromMessage(macroIssues);

  // 4. Validation of the final spec/run.
  const checkedSpec = safeParseWithIssues(SpecSchema, spec, ["spec"]);
  const checkedRun = safeParseWithIssues(RunSchema, run, ["run"]);
  for (const checked of [checkedSpec, checkedRun]) {
    if (checked.ok) continue;
    fromResolved(
      checked.issues.filter(
        (issue) => !unresolved.has(issue.path) && !unknownInOverride.has(issue.path),
      ),
    );
  }
  // Later checks read the typed values; on a half-resolved config they would only add noise.
  if (!checkedSpec.ok || !checkedRun.ok || found.length > 0) throw failure(queueName, found);
  const s: Spec = checkedSpec.data;
  const r: Run = checkedRun.data;

  // 5. Where the job runs, as whom, and on what.
  const project = config.project ?? defaults.project;
  if (project === undefined || project === "") {
    fromConfig([
      {
        path: "project",
        message:
          "no GCP project: set project in the queue config, or GOOGLE_CLOUD_PROJECT for the dispatcher (render: --project)",
      },
    ]);
  } else if (config.project === undefined && !PROJECT_ID_RE.test(project)) {
    fromConfig([
      {
        path: "project",
        message: `the default project "${project}" (${defaults.sources?.project ?? "GOOGLE_CLOUD_PROJECT"}) is not a GCP project id`,
      },
    ]);
  }
  const region = config.region ?? defaults.region;
  if (region === undefined || region === "") {
    fromConfig([
      {
        path: "region",
        message:
          "no Vertex region: set region in the queue config, or VERTEX_REGION for the dispatcher (render: --region)",
      },
    ]);
  } else {
    const rc = checkRegion(region, "region");
    const from = ` (from ${defaults.sources?.region ?? "VERTEX_REGION"})`;
    fromConfig(
      config.region === undefined
        ? rc.issues.map((i) => ({ ...i, message: `${i.message}${from}` }))
        : rc.issues,
    );
    warnings.push(...rc.warnings);
  }

  if (
    s.service_account !== undefined &&
    r.service_account !== undefined &&
    s.service_account !== r.service_account
  ) {
    fromResolved(
      [
        {
          path: "run.service_account",
          message: `differs from spec.service_account (${s.service_account}): set the service account in one place`,
        },
      ],
      ["spec.service_account"],
    );
  }
  const serviceAccount =
    r.service_account ??
    s.service_account ??
    config.service_account ??
    defaults.defaultServiceAccount;
  if (serviceAccount === undefined || serviceAccount === "") {
    fromResolved(
      [
        {
          path: "run.service_account",
          message:
            "no service account: set run.service_account (or spec.service_account, or the queue's service_account), or DEFAULT_JOB_SERVICE_ACCOUNT for the dispatcher",
        },
      ],
      ["spec.service_account"],
    );
  } else if (!SERVICE_ACCOUNT_RE.test(serviceAccount)) {
    fromConfig([
      {
        path: "run.service_account",
        message: `the default service account "${serviceAccount}" (${defaults.sources?.defaultServiceAccount ?? "DEFAULT_JOB_SERVICE_ACCOUNT"}) is not a service-account email`,
      },
    ]);
  }

  const compute = checkWorkerPools(s.worker_pool_specs, {
    region: region ?? "",
    strategy: r.scheduling_strategy,
    timeoutSeconds: r.timeout,
  });
  fromResolved(compute.issues);
  warnings.push(...compute.warnings);

  if (r.max_wait_duration !== undefined && r.scheduling_strategy !== "FLEX_START") {
    warnings.push(
      "run.max_wait_duration: applies to scheduling_strategy FLEX_START only; it has no effect here",
    );
  }
  if (r.disable_retries && r.restart_job_on_worker_restart) {
    warnings.push(
      "run.disable_retries: true overrides restart_job_on_worker_restart: true (Vertex will not restart workers)",
    );
  }
  if (r.reserved_ip_ranges?.length && r.network === undefined) {
    fromResolved(
      [
        {
          path: "run.reserved_ip_ranges",
          message: "reserved IP ranges need a VPC network: set run.network too",
        },
      ],
      ["run.network"],
    );
  }

  // Experiment and run: bare names become context resource names in the job's region.
  let experiment: string | undefined;
  let experimentRun: string | undefined;
  const contexts = `projects/${project ?? ""}/locations/${region ?? ""}/metadataStores/default/contexts`;
  if (r.experiment !== undefined) {
    if (r.experiment.includes("/")) {
      if (!EXPERIMENT_RE.test(r.experiment)) {
        fromResolved([
          {
            path: "run.experiment",
            message:
              "expected an experiment name, or projects/P/locations/L/metadataStores/default/contexts/NAME",
          },
        ]);
      }
      experiment = r.experiment;
    } else {
      if (!CONTEXT_ID_RE.test(r.experiment)) {
        fromResolved([
          {
            path: "run.experiment",
            message: `expected an experiment name that Vertex accepts as a metadata context id: ${CONTEXT_ID_RULE}, got ${JSON.stringify(r.experiment)}; or a full projects/P/locations/L/metadataStores/default/contexts/NAME`,
          },
        ]);
      }
      experiment = `${contexts}/${r.experiment}`;
    }
  }
  if (r.experiment_run !== undefined) {
    if (r.experiment === undefined) {
      fromResolved(
        [{ path: "run.experiment_run", message: "an experiment run needs run.experiment too" }],
        ["run.experiment"],
      );
    } else if (r.experiment_run.includes("/")) {
      if (!EXPERIMENT_RE.test(r.experiment_run)) {
        fromResolved([
          {
            path: "run.experiment_run",
            message:
              "expected a run name, or projects/P/locations/L/metadataStores/default/contexts/NAME",
          },
        ]);
      }
      experimentRun = r.experiment_run;
    } else {
      const experimentName = experiment?.split("/").pop() ?? r.experiment;
      const id = `${experimentName}-${r.experiment_run}`;
      if (!CONTEXT_ID_RE.test(r.experiment_run) || !CONTEXT_ID_RE.test(id)) {
        fromResolved(
          [
            {
              path: "run.experiment_run",
              message: `expected a run name that Vertex accepts in the metadata context id "EXPERIMENT-RUN": ${CONTEXT_ID_RULE} for the whole id, got ${JSON.stringify(id)}; or a full projects/P/locations/L/metadataStores/default/contexts/NAME`,
            },
          ],
          ["run.experiment"],
        );
      }
      experimentRun = `${contexts}/${id}`;
    }
  }

  // Display name (≤128 characters).
  let displayName: string;
  if (s.display_name !== undefined) {
    if ([...s.display_name].length > LIMITS.displayNameMax) {
      fromResolved([
        {
          path: "spec.display_name",
          message: `at most ${LIMITS.displayNameMax} characters, got ${[...s.display_name].length}`,
        },
      ]);
    }
    displayName = s.display_name;
  } else if (message.name !== undefined) {
    displayName = [...message.name].slice(0, LIMITS.displayNameMax).join("");
    if (displayName !== message.name) {
      warnings.push(
        `display name: the run name is longer than ${LIMITS.displayNameMax} characters; it was cut to fit`,
      );
    }
  } else {
    displayName = `wandb-${runId}`;
  }

  // Labels.
  const labels = buildLabels(
    s.labels,
    dispatcherLabels({ runId, queueName, entity, project: wandbProject, launchId }),
  );
  // Too many labels is the message's doing when the queue's own labels fit.
  const queueLabelCount = isPlain(config.spec.labels) ? Object.keys(config.spec.labels).length : 0;
  const labelsFit = queueLabelCount + DISPATCHER_LABEL_KEYS.length <= LIMITS.labelsMax;
  const messageAddsLabels = overridden.some((p) => p.startsWith("spec.labels."));
  for (const issue of labels.issues) {
    if (issue.path === "spec.labels" && labelsFit && messageAddsLabels) {
      fromMessage([{ ...issue, message: `${issue.message}${SET_BY_MESSAGE}` }]);
    } else {
      fromResolved([issue]);
    }
  }

  // The message's entry point and args replace every pool's command and args.
  if (message.entry_point !== undefined) {
    s.worker_pool_specs.forEach((pool, i) => {
      if (pool.python_package_spec) {
        fromMessage([
          {
            path: "message.entry_point",
            message: `spec.worker_pool_specs[${i}] runs a python_package_spec, which has no command: remove entry_point from the message`,
          },
        ]);
      }
    });
  }

  // Env of every pool: queue env, W&B env, message env.
  const envs: EnvVar[][] = [];
  const images: string[] = [];
  s.worker_pool_specs.forEach((slot, i) => {
    if (isEmptyPool(slot)) {
      envs.push([]);
      return;
    }
    const pool: WorkerPoolSpec = slot;
    const image =
      pool.container_spec?.image_uri ?? pool.python_package_spec?.executor_image_uri ?? "";
    images.push(image);
    const section = pool.container_spec ? "container_spec" : "python_package_spec";
    const queueEnv = pool.container_spec?.env ?? pool.python_package_spec?.env ?? [];
    const wandb = wandbEnv({
      baseUrl: defaults.wandbBaseUrl,
      apiKey: defaults.wandbApiKey,
      entity,
      project: wandbProject,
      runId,
      queueName,
      name: message.name,
      author: message.author,
      image,
      runConfig: message.run_config,
      job: message.job,
    });
    const envPath = formatPath(["spec", "worker_pool_specs", i, section, "env"]);
    const built = buildEnv(queueEnv, wandb, message.env, envPath);
    // Too many variables is the message's doing when the queue's env and the W&B variables
    // every launch gets fit: the message's env, name, author, job or run_config pushed it over.
    const everyLaunch = wandbEnv({
      baseUrl: defaults.wandbBaseUrl,
      apiKey: defaults.wandbApiKey,
      entity,
      project: wandbProject,
      runId,
      queueName,
      image,
    }).length;
    const queueEnvFits = queueEnv.length + everyLaunch <= LIMITS.envMax;
    for (const issue of built.issues) {
      if (issue.path.startsWith("message.")) fromMessage([issue]);
      else if (issue.path === envPath && built.env.length > LIMITS.envMax && queueEnvFits) {
        fromMessage([
          {
            ...issue,
            message: `${issue.message}: the launch message's env and W&B variables push it over`,
          },
        ]);
      } else fromResolved([issue]);
    }
    envs.push(built.env);
  });

  const stagingUri = withGcsScheme(s.staging_bucket);
  const baseOutputDirectory = s.base_output_dir ?? `${stagingUri.replace(/\/+$/, "")}/${runId}`;

  if (found.length > 0) throw failure(queueName, found);

  const customJob = translateCustomJob({
    spec: s,
    run: r,
    displayName,
    labels: labels.labels,
    serviceAccount: serviceAccount ?? "",
    baseOutputDirectory,
    env: envs,
    command: message.entry_point,
    args: message.args,
    experiment,
    experimentRun,
  });
  const p = project ?? "";
  const rg = region ?? "";
  return {
    launchId,
    runId,
    idempotencyKey,
    queueName,
    config,
    project: p,
    region: rg,
    parent: `projects/${p}/locations/${rg}`,
    customJob,
    stagingBucket: bucketOf(stagingUri),
    outputBucket: bucketOf(baseOutputDirectory),
    imageUris: [...new Set(images)],
    warnings: [...new Set(warnings)],
  };
}

/** One error for all issues: invalid_config when the queue config caused any of them, else invalid_message. */
function failure(queueName: string, found: Found[]): DispatchError {
  const seen = new Set<string>();
  const issues: Issue[] = [];
  for (const f of found) {
    const key = `${f.path}\u0000${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path: f.path, message: f.message });
  }
  const byConfig = found.some((f) => !f.fromMessage);
  return issuesError(
    byConfig ? "invalid_config" : "invalid_message",
    `cannot resolve the launch for queue "${queueName}"`,
    issues,
  );
}

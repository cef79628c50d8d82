// A popped run-queue item's runSpec → a launch message (SPEC §2, §13). Pure.
//
// The runSpec is what `wandb launch` / the W&B UI pushed (wandb SDK construct_launch_spec),
// with the W&B queue's config already merged in by W&B under resource_args[resource]:
//   {entity, project, job?, docker: {docker_image?}, name?, author?, run_id?,
//    overrides: {entry_point?, args?, run_config?}, resource, resource_args, ...}
// Keys the dispatcher has no use for (uri, git, builder, sweep_id, ...) are ignored; the
// user's `_wandb_api_key`, if W&B sent one, is never copied, logged or echoed.
import { z } from "zod";
import { DispatchError, formatPath, type Issue } from "../errors.js";
import { runIdFor } from "../resolve/ids.js";
import { type LaunchMessage, parseLaunchMessage } from "../schemas/message.js";

/** The resources a Vertex queue may have in W&B (the agent accepts both names). */
const VERTEX_RESOURCES = ["gcp-vertex", "vertex"] as const;

const RunSpecSchema = z.looseObject({
  entity: z.string({ error: "expected the W&B entity (a string)" }).min(1),
  project: z.string({ error: "expected the W&B project (a string)" }).min(1),
  job: z.string().min(1).nullish(),
  name: z.string().nullish(),
  author: z.string().nullish(),
  run_id: z.string().nullish(),
  docker: z.looseObject({ docker_image: z.string().min(1).nullish() }).nullish(),
  overrides: z
    .looseObject({
      entry_point: z.array(z.string()).nullish(),
      args: z.array(z.string()).nullish(),
      run_config: z.record(z.string(), z.unknown()).nullish(),
    })
    .nullish(),
  resource: z.string().nullish(),
  resource_args: z.record(z.string(), z.unknown()).nullish(),
});
type RunSpec = z.infer<typeof RunSpecSchema>;

function specIssues(error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({
    path: formatPath(["runSpec", ...i.path.map((p) => (typeof p === "symbol" ? String(p) : p))]),
    message: i.message,
  }));
}

function fail(issues: Issue[]): never {
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join("\n");
  throw new DispatchError("invalid_message", `the run-queue item cannot be launched:\n${lines}`, {
    issues,
  });
}

/** A job without an alias means its latest version, as in W&B. */
function jobName(job: string): string {
  const last = job.split("/").pop() ?? "";
  return last.includes(":") ? job : `${job}:latest`;
}

/** The W&B-merged resource args of a Vertex item, as the message's `resource_args`. */
function resourceArgs(spec: RunSpec): LaunchMessage["resource_args"] | undefined {
  const resource = spec.resource ?? "gcp-vertex";
  if (!(VERTEX_RESOURCES as readonly string[]).includes(resource)) {
    fail([
      {
        path: "runSpec.resource",
        message: `the item is for resource "${resource}"; this bridge launches only W&B queues of resource gcp-vertex (map a Vertex queue in WANDB_QUEUES)`,
      },
    ]);
  }
  const section = spec.resource_args?.[resource];
  if (section === undefined || section === null) return undefined;
  const { spec: s, run: r } = section as {
    spec?: Record<string, unknown>;
    run?: Record<string, unknown>;
  };
  return { [resource]: { ...(s ? { spec: s } : {}), ...(r ? { run: r } : {}) } };
}

function optional<K extends string, V>(key: K, value: V | null | undefined) {
  return value === undefined || value === null ? {} : ({ [key]: value } as Record<K, V>);
}

/** The launch message for a run-queue item; its idempotency key is the item id. Throws invalid_message naming the runSpec path. */
export function runSpecToMessage(itemId: string, queue: string, runSpec: unknown): LaunchMessage {
  const parsed = RunSpecSchema.safeParse(runSpec);
  if (!parsed.success) fail(specIssues(parsed.error));
  const spec = parsed.data;
  const message: Record<string, unknown> = {
    queue,
    entity: spec.entity,
    project: spec.project,
    ...optional("run_id", spec.run_id || undefined),
    ...optional("name", spec.name || undefined),
    ...optional("author", spec.author || undefined),
    ...optional("job", spec.job ? jobName(spec.job) : undefined),
    ...optional("image_uri", spec.docker?.docker_image),
    ...optional(
      "entry_point",
      spec.overrides?.entry_point?.length ? spec.overrides.entry_point : undefined,
    ),
    ...optional("args", spec.overrides?.args),
    ...optional("run_config", spec.overrides?.run_config),
    ...optional("resource_args", resourceArgs(spec)),
    env: { WANDB_LAUNCH_TRACE_ID: itemId },
  };
  let checked: LaunchMessage;
  try {
    checked = parseLaunchMessage(message);
  } catch (err) {
    const issues = err instanceof DispatchError ? err.issues : [];
    fail(issues.map((i) => ({ path: `launch message ${i.path}`, message: i.message })));
  }
  // The run id the dispatcher would derive from the item id, made explicit so the bridge
  // knows where the launch record will be (launches/{queue}/{run_id}.json).
  return { ...checked, run_id: runIdFor(checked, itemId) };
}

// The run-queue bridge's own settings (SPEC §13), parsed once from an env passed in.
//
// WANDB_QUEUES lists the W&B run queues to pop and the queue config each launches with:
//   entity/project/queue-name=queue-config-name[,entity/project/queue-name=...]
// `=queue-config-name` may be left out when the config has the W&B queue's name. W&B's
// UI keeps run queues in the project `model-registry`: acme/model-registry/vertex=gpu.
// An empty or unset WANDB_QUEUES turns the bridge off.
import { z } from "zod";
import { DispatchError, type Issue } from "../errors.js";
import { QUEUE_NAME_RE } from "../schemas/message.js";

export interface WandbQueue {
  entity: string;
  project: string;
  /** The W&B run queue's name. */
  name: string;
  /** The queue config (`<queue>.yaml`) its items launch with. */
  queue: string;
}

export interface BridgeOptions {
  queues: WandbQueue[];
  baseUrl: string;
  apiKey: string;
  launchTopic: string;
  stateBucket: string;
  /** Items popped per tick, over every queue (bounded work per tick). */
  maxItemsPerTick: number;
  /** Bridge objects read per tick to report launches back to W&B. */
  maxReportsPerTick: number;
  requestTimeoutMs: number;
  /** A bridged item with no launch record after this long is reported failed. */
  orphanSeconds: number;
}

const W_AND_B_NAME = /^[A-Za-z0-9_.-]+$/;
const ENTRY_HELP =
  "expected entity/project/queue-name=queue-config-name, e.g. acme/model-registry/vertex=gpu-template";

/** Parses one WANDB_QUEUES entry; returns the problem as text when it is malformed. */
export function parseQueueEntry(entry: string): WandbQueue | string {
  const [path = "", config, extra] = entry.split("=").map((s) => s.trim());
  if (extra !== undefined) return `"${entry}" has more than one "=": ${ENTRY_HELP}`;
  const parts = path.split("/");
  if (parts.length !== 3 || parts.some((p) => !W_AND_B_NAME.test(p))) {
    return `"${entry}": ${ENTRY_HELP}`;
  }
  const [entity = "", project = "", name = ""] = parts;
  const queue = config === undefined || config === "" ? name : config;
  if (!QUEUE_NAME_RE.test(queue)) {
    return `"${entry}": the queue config name "${queue}" must be letters, digits, '.', '_' or '-' (it names <queue>.yaml); add =queue-config-name`;
  }
  return { entity, project, name, queue };
}

const count = (max: number) => z.coerce.number().int().min(1).max(max);

const BridgeEnvSchema = z.object({
  WANDB_QUEUES: z.string().optional(),
  WANDB_API_KEY: z.string().min(1).optional(),
  WANDB_BASE_URL: z
    .string()
    .url("expected a URL such as https://api.wandb.ai")
    .default("https://api.wandb.ai"),
  LAUNCH_TOPIC: z.string().min(1).default("launch-jobs"),
  STATE_BUCKET: z.string().min(1).optional(),
  BRIDGE_MAX_ITEMS_PER_TICK: count(1000).default(10),
  BRIDGE_MAX_REPORTS_PER_TICK: count(10000).default(100),
  BRIDGE_REQUEST_TIMEOUT_SECONDS: count(300).default(10),
  BRIDGE_ORPHAN_SECONDS: count(7 * 86400).default(3600),
});

function queuesOf(raw: string, issues: Issue[]): WandbQueue[] {
  const out: WandbQueue[] = [];
  const entries = raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const [i, entry] of entries.entries()) {
    const parsed = parseQueueEntry(entry);
    if (typeof parsed === "string") issues.push({ path: `WANDB_QUEUES[${i}]`, message: parsed });
    else out.push(parsed);
  }
  const seen = new Set<string>();
  for (const q of out) {
    const key = `${q.entity}/${q.project}/${q.name}`;
    if (seen.has(key)) issues.push({ path: "WANDB_QUEUES", message: `${key} is listed twice` });
    seen.add(key);
  }
  return out;
}

/** The bridge's options, or null when WANDB_QUEUES is empty (no bridge). Throws bad_environment naming each bad variable, never echoing a value. */
export function parseBridgeOptions(env: Record<string, string | undefined>): BridgeOptions | null {
  const picked = Object.fromEntries(
    Object.keys(BridgeEnvSchema.shape)
      .map((k) => [k, env[k]])
      .filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = BridgeEnvSchema.safeParse(picked);
  const issues: Issue[] = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: String(i.path[0] ?? ""), message: i.message }));
  const raw = parsed.success ? (parsed.data.WANDB_QUEUES ?? "") : (env.WANDB_QUEUES ?? "");
  const queues = queuesOf(raw, issues);
  if (parsed.success && queues.length > 0) {
    if (!parsed.data.WANDB_API_KEY) {
      issues.push({
        path: "WANDB_API_KEY",
        message:
          "required when WANDB_QUEUES is set: the bridge calls W&B's API with it (mount it from Secret Manager)",
      });
    }
    if (!parsed.data.STATE_BUCKET) {
      issues.push({ path: "STATE_BUCKET", message: "required: the bridge keeps its state there" });
    }
  }
  if (issues.length > 0) {
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join("\n");
    throw new DispatchError("bad_environment", `the bridge's environment is invalid:\n${lines}`, {
      issues,
    });
  }
  if (!parsed.success || queues.length === 0) return null;
  const d = parsed.data;
  return {
    queues,
    baseUrl: d.WANDB_BASE_URL.replace(/\/+$/, ""),
    apiKey: d.WANDB_API_KEY ?? "",
    launchTopic: d.LAUNCH_TOPIC,
    stateBucket: d.STATE_BUCKET ?? "",
    maxItemsPerTick: d.BRIDGE_MAX_ITEMS_PER_TICK,
    maxReportsPerTick: d.BRIDGE_MAX_REPORTS_PER_TICK,
    requestTimeoutMs: d.BRIDGE_REQUEST_TIMEOUT_SECONDS * 1000,
    orphanSeconds: d.BRIDGE_ORPHAN_SECONDS,
  };
}

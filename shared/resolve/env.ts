// Container environment (SPEC §4): the queue's own env, then the W&B variables, then the
// message's env. A name set twice is an error (never a silent duplicate); at most 100
// variables per container. WANDB_CONFIG is split into WANDB_CONFIG_0..N when it is longer
// than one environment value may be. Error messages name variables, never their values.
import type { Issue } from "../errors.js";
import { LIMITS } from "./compute_facts.js";

export interface EnvVar {
  name: string;
  value: string;
}

/** Longest WANDB_CONFIG value before it is split into WANDB_CONFIG_0..N (as the W&B agent does). */
export const WANDB_CONFIG_CHUNK = 32_670;
export const DEFAULT_WANDB_BASE_URL = "https://api.wandb.ai";

export interface WandbEnvInput {
  baseUrl?: string | undefined;
  /** The dispatcher's own secret (never from a message). */
  apiKey?: string | undefined;
  entity: string;
  project: string;
  runId: string;
  queueName: string;
  name?: string | undefined;
  author?: string | undefined;
  image: string;
  runConfig?: Record<string, unknown> | undefined;
  job?: string | undefined;
}

/**
 * JSON with every non-ASCII UTF-16 unit escaped as `\uXXXX` (astral characters as their
 * surrogate pair), as Python's `json.dumps` writes it by default. The text is pure ASCII,
 * so it can be cut anywhere into chunks that are each valid UTF-8 and join back exactly.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** `WANDB_CONFIG` (or `WANDB_CONFIG_0..N` past WANDB_CONFIG_CHUNK characters), as ASCII JSON. */
export function wandbConfigEnv(runConfig: Record<string, unknown> | undefined): EnvVar[] {
  const json = asciiJson(runConfig ?? {});
  if (json.length <= WANDB_CONFIG_CHUNK) return [{ name: "WANDB_CONFIG", value: json }];
  const out: EnvVar[] = [];
  for (let i = 0; i * WANDB_CONFIG_CHUNK < json.length; i++) {
    out.push({
      name: `WANDB_CONFIG_${i}`,
      value: json.slice(i * WANDB_CONFIG_CHUNK, (i + 1) * WANDB_CONFIG_CHUNK),
    });
  }
  return out;
}

/** The W&B variables, in SPEC §4's order. */
export function wandbEnv(input: WandbEnvInput): EnvVar[] {
  const env: EnvVar[] = [
    { name: "WANDB_BASE_URL", value: input.baseUrl || DEFAULT_WANDB_BASE_URL },
  ];
  if (input.apiKey) env.push({ name: "WANDB_API_KEY", value: input.apiKey });
  env.push(
    { name: "WANDB_ENTITY", value: input.entity },
    { name: "WANDB_PROJECT", value: input.project },
    { name: "WANDB_RUN_ID", value: input.runId },
    { name: "WANDB_LAUNCH", value: "True" },
    { name: "WANDB_LAUNCH_QUEUE_NAME", value: input.queueName },
    { name: "WANDB_LAUNCH_QUEUE_ENTITY", value: input.entity },
  );
  if (input.name !== undefined) env.push({ name: "WANDB_NAME", value: input.name });
  if (input.author !== undefined) env.push({ name: "WANDB_USERNAME", value: input.author });
  env.push({ name: "WANDB_DOCKER", value: input.image });
  env.push(...wandbConfigEnv(input.runConfig));
  if (input.job !== undefined) {
    env.push({ name: "WANDB_ARTIFACTS", value: JSON.stringify({ _wandb_job: input.job }) });
  }
  return env;
}

/**
 * Injected names whose value is only a default: the queue's container env may set them
 * (a dedicated W&B server sets WANDB_BASE_URL there), and then the queue's value is kept
 * and the dispatcher's is not added (SPEC §4). Every other injected name is the
 * dispatcher's alone.
 */
export const QUEUE_OVERRIDABLE_ENV = [
  "WANDB_BASE_URL",
  "WANDB_DOCKER",
  "WANDB_NAME",
  "WANDB_USERNAME",
] as const;

const DISPATCHER = "vertex-dispatch's W&B variables";

function setTwice(name: string, first: string, second: string): string {
  const base = `environment variable ${name} is set twice (${first} and ${second})`;
  if (first !== DISPATCHER && second !== DISPATCHER) return `${base}; remove one`;
  const other = first === DISPATCHER ? second : first;
  return `${base}: vertex-dispatch injects ${name} itself, so remove it from ${other} (the queue's container env may set only ${QUEUE_OVERRIDABLE_ENV.join(", ")})`;
}

/**
 * Queue env + W&B env + message env for one container. `path` is the container's env
 * path in the config (e.g. `spec.worker_pool_specs[0].container_spec.env`).
 */
export function buildEnv(
  queueEnv: readonly EnvVar[],
  wandb: readonly EnvVar[],
  messageEnv: Record<string, string> | undefined,
  path: string,
): { env: EnvVar[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const env: EnvVar[] = [];
  const origin = new Map<string, string>();
  const add = (v: EnvVar, from: string, where: string) => {
    const first = origin.get(v.name);
    if (first !== undefined) {
      issues.push({ path: where, message: setTwice(v.name, first, from) });
      return;
    }
    origin.set(v.name, from);
    env.push(v);
  };
  queueEnv.forEach((v, i) => {
    add(v, "the queue config", `${path}[${i}]`);
  });
  const queueNames = new Set(queueEnv.map((v) => v.name));
  for (const v of wandb) {
    const queueDefault = (QUEUE_OVERRIDABLE_ENV as readonly string[]).includes(v.name);
    if (queueDefault && queueNames.has(v.name)) continue;
    add(v, DISPATCHER, path);
  }
  for (const [name, value] of Object.entries(messageEnv ?? {})) {
    add({ name, value }, "the launch message", `message.env.${name}`);
  }
  if (env.length > LIMITS.envMax) {
    issues.push({
      path,
      message: `at most ${LIMITS.envMax} environment variables per container, got ${env.length} (queue ${queueEnv.length}, W&B ${wandb.length}, message ${Object.keys(messageEnv ?? {}).length})`,
    });
  }
  return { env, issues };
}

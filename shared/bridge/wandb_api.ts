// A thin client of W&B's GraphQL API: the calls the launch agent makes (SPEC §13), over
// `POST {WANDB_BASE_URL}/graphql` with `Authorization: Basic base64("api:" + key)`.
//
// Invariants: the key is only ever in the Authorization header (never in an error, a log
// line or a URL); every failure is a DispatchError, `wandb_unavailable` (retryable: the
// connection, a timeout, 429, 5xx) or `wandb_rejected` (401/403, GraphQL errors).
import { DispatchError } from "../errors.js";

export interface PoppedItem {
  id: string;
  /** As W&B sent it (a JSON object); checked by runSpecToMessage. */
  runSpec: unknown;
}

export interface Report {
  itemId: string;
  message: string;
  /** W&B's stage names: `agent` (before the run), `build`, `run`. */
  stage: "agent" | "build" | "run";
}

export interface WandbApi {
  queueIds(entity: string, project: string): Promise<Array<{ id: string; name: string }>>;
  createAgent(entity: string, project: string, queueIds: string[]): Promise<string>;
  heartbeat(agentId: string, status: "POLLING" | "RUNNING" | "KILLED"): Promise<void>;
  pop(entity: string, project: string, queue: string, agentId: string): Promise<PoppedItem | null>;
  /** True when W&B took the ack; false when the item was no longer leased to us. */
  ack(itemId: string, runName: string): Promise<boolean>;
  /** True when W&B marked the item failed; false when it already was. */
  fail(report: Report): Promise<boolean>;
  warn(report: Report): Promise<boolean>;
}

export interface WandbApiConfig {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  version: string;
  hostname: string;
  fetch?: typeof fetch;
}

type Data = Record<string, unknown>;

const KEY_REFUSED = "refused the API key";

/** Whether W&B refused the key itself (401/403): every call fails alike until the secret is fixed. */
export function keyRefused(err: unknown): boolean {
  return (
    err instanceof DispatchError &&
    err.kind === "wandb_rejected" &&
    err.message.includes(KEY_REFUSED)
  );
}

function firstError(body: unknown): string | null {
  const errors = (body as { errors?: Array<{ message?: unknown }> } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return null;
  return errors.map((e) => String(e.message ?? "")).join("; ");
}

async function post(config: WandbApiConfig, op: string, query: string, variables: Data) {
  const auth = Buffer.from(`api:${config.apiKey}`).toString("base64");
  const where = `${config.baseUrl}/graphql`;
  let res: Response;
  try {
    res = await (config.fetch ?? fetch)(where, {
      method: "POST",
      headers: {
        authorization: `Basic ${auth}`,
        "content-type": "application/json",
        "user-agent": `vertex-dispatch-bridge/${config.version}`,
      },
      body: JSON.stringify({ query, variables, operationName: op }),
      signal: AbortSignal.timeout(config.timeoutMs),
    });
  } catch (err) {
    const why =
      (err as Error).name === "TimeoutError"
        ? `no answer in ${config.timeoutMs} ms`
        : (err as Error).message;
    throw new DispatchError(
      "wandb_unavailable",
      `W&B API ${op} at ${where} failed: ${why}; the bridge tries again next tick`,
      { cause: err },
    );
  }
  const body = (await res.json().catch(() => null)) as { data?: unknown; errors?: unknown } | null;
  return { res, where, body };
}

/** Sends one operation; returns its `data`, or throws wandb_unavailable / wandb_rejected. */
export async function graphql(
  config: WandbApiConfig,
  op: string,
  query: string,
  variables: Data,
): Promise<Data> {
  const { res, where, body } = await post(config, op, query, variables);
  const detail = firstError(body);
  if (res.status === 401 || res.status === 403) {
    throw new DispatchError(
      "wandb_rejected",
      `W&B API ${op} at ${where} ${KEY_REFUSED} (HTTP ${res.status}): set WANDB_API_KEY (the bridge's secret) to a valid key of a user who can use the W&B queues`,
    );
  }
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    throw new DispatchError(
      "wandb_unavailable",
      `W&B API ${op} at ${where} answered HTTP ${res.status}; the bridge tries again next tick`,
    );
  }
  if (
    res.status !== 200 ||
    detail !== null ||
    typeof body?.data !== "object" ||
    body.data === null
  ) {
    throw new DispatchError(
      "wandb_rejected",
      `W&B API ${op} at ${where} failed (HTTP ${res.status}): ${detail ?? "no data in the answer"}`,
    );
  }
  return body.data as Data;
}

const Q = {
  queues: `query BridgeRunQueues($entity: String!, $project: String!) {
  project(entityName: $entity, name: $project) { runQueues { id name } } }`,
  createAgent: `mutation createLaunchAgent($entity: String!, $project: String!, $queues: [ID!]!, $hostname: String!, $agentConfig: JSONString, $version: String) {
  createLaunchAgent(input: {entityName: $entity, projectName: $project, runQueues: $queues, hostname: $hostname, agentConfig: $agentConfig, version: $version}) { launchAgentId } }`,
  heartbeat: `mutation updateLaunchAgent($agentId: ID!, $agentStatus: String) {
  updateLaunchAgent(input: {launchAgentId: $agentId, agentStatus: $agentStatus}) { success } }`,
  pop: `mutation popFromRunQueue($entity: String!, $project: String!, $queueName: String!, $launchAgentId: ID) {
  popFromRunQueue(input: {entityName: $entity, projectName: $project, queueName: $queueName, launchAgentId: $launchAgentId}) { runQueueItemId runSpec } }`,
  ack: `mutation ackRunQueueItem($itemId: ID!, $runName: String!) {
  ackRunQueueItem(input: {runQueueItemId: $itemId, runName: $runName}) { success } }`,
  fail: `mutation failRunQueueItem($runQueueItemId: ID!, $message: String!, $stage: String!, $filePaths: [String!]) {
  failRunQueueItem(input: {runQueueItemId: $runQueueItemId, message: $message, stage: $stage, filePaths: $filePaths}) { success } }`,
  warn: `mutation updateRunQueueItemWarning($runQueueItemId: ID!, $message: String!, $stage: String!, $filePaths: [String!]) {
  updateRunQueueItemWarning(input: {runQueueItemId: $runQueueItemId, message: $message, stage: $stage, filePaths: $filePaths}) { success } }`,
};

function field(data: Data, name: string): Data | null {
  const v = data[name];
  return typeof v === "object" && v !== null ? (v as Data) : null;
}

/** W&B sends a popped runSpec as a JSON object; a JSON string is accepted too. */
function runSpecOf(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Sends one of the queries in Q; the operation name sent is the one in its text (W&B, like graphql-js, matches on it). */
function callQuery(config: WandbApiConfig, key: keyof typeof Q, variables: Data) {
  const text = Q[key];
  const op = /^(?:query|mutation)\s+(\w+)/.exec(text)?.[1] ?? key;
  return graphql(config, op, text, variables);
}

export function wandbApi(config: WandbApiConfig): WandbApi {
  const call = (key: keyof typeof Q, variables: Data) => callQuery(config, key, variables);
  const report = async (op: "fail" | "warn", name: string, r: Report) => {
    const data = await call(op, {
      runQueueItemId: r.itemId,
      message: r.message,
      stage: r.stage,
      filePaths: null,
    });
    return field(data, name)?.success === true;
  };
  return {
    async queueIds(entity, project) {
      const project_ = field(await call("queues", { entity, project }), "project");
      if (!project_)
        throw new DispatchError(
          "wandb_rejected",
          `W&B project ${entity}/${project} was not found, or the API key's user cannot see it`,
        );
      return (project_.runQueues as Array<{ id: string; name: string }>) ?? [];
    },
    async createAgent(entity, project, queueIds) {
      const data = await call("createAgent", {
        entity,
        project,
        queues: queueIds,
        hostname: config.hostname,
        agentConfig: JSON.stringify({ bridge: "vertex-dispatch" }),
        version: config.version,
      });
      const id = field(data, "createLaunchAgent")?.launchAgentId;
      if (typeof id !== "string")
        throw new DispatchError(
          "wandb_rejected",
          "W&B API createLaunchAgent answered no launchAgentId",
        );
      return id;
    },
    async heartbeat(agentId, status) {
      await call("heartbeat", { agentId, agentStatus: status });
    },
    async pop(entity, project, queueName, launchAgentId) {
      const got = field(
        await call("pop", { entity, project, queueName, launchAgentId }),
        "popFromRunQueue",
      );
      if (!got) return null;
      return { id: String(got.runQueueItemId), runSpec: runSpecOf(got.runSpec) };
    },
    async ack(itemId, runName) {
      return field(await call("ack", { itemId, runName }), "ackRunQueueItem")?.success === true;
    },
    fail: (r) => report("fail", "failRunQueueItem", r),
    warn: (r) => report("warn", "updateRunQueueItemWarning", r),
  };
}

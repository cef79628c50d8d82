// Root resolvers of the emulated W&B GraphQL API. A resolver that throws becomes a
// GraphQL error (HTTP 200 with `errors`), as W&B answers a bad request.
import { PushError, runSpecForPush } from "./push.js";
import type { Agent, Item, Queue, Store } from "./store.js";

export interface Viewer {
  username: string;
  entity: string;
}

type Args = Record<string, unknown>;
type Input = { input: Record<string, unknown> };

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function parseJson(what: string, v: unknown): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(str(v));
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${what} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function itemView(i: Item) {
  return {
    id: i.id,
    state: i.state,
    runSpec: i.runSpec,
    associatedRunId: i.runName,
    priority: i.priority,
    error: i.error,
    warnings: i.warnings,
    createdAt: i.createdAt,
  };
}

function queueView(store: Store, q: Queue) {
  return {
    id: q.id,
    name: q.name,
    createdBy: q.createdBy,
    access: q.access,
    runQueueItems: () => ({ edges: store.itemsOf(q).map((i) => ({ node: itemView(i) })) }),
  };
}

function agentView(a: Agent) {
  return {
    id: a.id,
    name: a.name,
    runQueues: a.queueIds,
    hostname: a.hostname,
    agentStatus: a.status,
    stopPolling: false,
    heartbeatAt: a.heartbeatAt,
    version: a.version,
  };
}

function queueNamed(store: Store, input: Record<string, unknown>): Queue {
  const [e, p, n] = [str(input.entityName), str(input.projectName), str(input.queueName)];
  const queue = store.findQueue(e, p, n);
  if (!queue) throw new Error(`run queue ${n} not found in ${e}/${p}`);
  return queue;
}

function itemWithId(store: Store, id: unknown): Item {
  const item = store.items.get(str(id));
  if (!item) throw new Error(`run queue item ${str(id)} not found`);
  return item;
}

function push(store: Store, queue: Queue, input: Record<string, unknown>) {
  const runSpec = parseJson("runSpec", input.runSpec);
  const values = parseJson("templateVariableValues", input.templateVariableValues);
  let stored: Record<string, unknown>;
  try {
    stored = runSpecForPush(queue, runSpec, values);
  } catch (err) {
    if (err instanceof PushError) throw new Error(`invalid template variables: ${err.message}`);
    throw err;
  }
  const priority = typeof input.priority === "number" ? input.priority : 2;
  const item = store.addItem(queue, stored, priority);
  return { runQueueItemId: item.id, runSpec: JSON.stringify(stored) };
}

function report(input: Record<string, unknown>) {
  return {
    message: str(input.message),
    stage: str(input.stage),
    filePaths: Array.isArray(input.filePaths) ? input.filePaths.map(str) : null,
  };
}

function queryRoot(store: Store, viewer: Viewer) {
  const projectView = (entity: string, name: string) => {
    const queues = [...store.queues.values()].filter(
      (q) => q.entity === entity && q.project === name,
    );
    if (queues.length === 0 && entity !== viewer.entity) return null;
    return {
      id: Buffer.from(`Project:${entity}/${name}`).toString("base64"),
      name,
      entityName: entity,
      runQueues: queues.map((q) => queueView(store, q)),
      runQueue: ({ name: qn }: Args) => {
        const q = queues.find((x) => x.name === qn);
        return q ? queueView(store, q) : null;
      },
    };
  };
  return {
    viewer: () => ({
      id: Buffer.from(`User:${viewer.username}`).toString("base64"),
      entity: viewer.entity,
      username: viewer.username,
      email: `${viewer.username}@example.com`,
      admin: false,
      flags: "{}",
      teams: { edges: [] },
    }),
    entity: ({ name }: Args) => {
      const known =
        name === viewer.entity || [...store.queues.values()].some((q) => q.entity === name);
      if (!known) return null;
      return { id: Buffer.from(`Entity:${str(name)}`).toString("base64"), name, isTeam: false };
    },
    project: ({ name, entityName }: Args) =>
      projectView(str(entityName) || viewer.entity, str(name)),
    launchAgent: ({ id }: Args) => {
      const agent = store.agents.get(str(id));
      return agent ? agentView(agent) : null;
    },
  };
}

function queueMutations(store: Store, viewer: Viewer) {
  return {
    createRunQueue: ({ input }: Input) => {
      const queue = store.addQueue({
        entity: str(input.entityName),
        project: str(input.projectName),
        name: str(input.queueName),
        access: str(input.access) || "PROJECT",
        createdBy: viewer.username,
        resource: null,
        config: {},
        templateVariables: {},
      });
      return { success: true, queueID: queue.id };
    },
    pushToRunQueueByName: ({ input }: Input) => push(store, queueNamed(store, input), input),
    pushToRunQueue: ({ input }: Input) => {
      const queue = store.queues.get(str(input.queueID));
      if (!queue) throw new Error(`run queue ${str(input.queueID)} not found`);
      return push(store, queue, input);
    },
    popFromRunQueue: ({ input }: Input) => {
      const item = store.pop(queueNamed(store, input), str(input.launchAgentId) || null);
      return item ? { runQueueItemId: item.id, runSpec: item.runSpec } : null;
    },
  };
}

function itemMutations(store: Store) {
  return {
    ackRunQueueItem: ({ input }: Input) => {
      store.expireLeases();
      const item = itemWithId(store, input.runQueueItemId);
      // Only a leased item can be claimed: a lapsed lease went back to the queue.
      if (item.state !== "LEASED") return { success: false };
      item.state = "CLAIMED";
      item.runName = str(input.runName);
      item.leasedUntil = null;
      item.acks += 1;
      return { success: true };
    },
    failRunQueueItem: ({ input }: Input) => {
      const item = itemWithId(store, input.runQueueItemId);
      if (item.state === "FAILED") return { success: false };
      item.state = "FAILED";
      item.leasedUntil = null;
      item.error = report(input);
      return { success: true };
    },
    updateRunQueueItemWarning: ({ input }: Input) => {
      itemWithId(store, input.runQueueItemId).warnings.push(report(input));
      return { success: true };
    },
  };
}

function agentMutations(store: Store) {
  return {
    createLaunchAgent: ({ input }: Input) => {
      const queueIds = Array.isArray(input.runQueues) ? input.runQueues.map(str) : [];
      for (const id of queueIds) {
        const q = store.queues.get(id);
        if (!q || q.entity !== str(input.entityName)) throw new Error(`run queue ${id} not found`);
      }
      const id = store.nextId("LaunchAgent");
      const now = new Date(store.now()).toISOString();
      store.agents.set(id, {
        id,
        name: `launch-agent-${store.agents.size + 1}`,
        entity: str(input.entityName),
        project: str(input.projectName),
        queueIds,
        hostname: str(input.hostname),
        version: typeof input.version === "string" ? input.version : null,
        config:
          input.agentConfig === undefined ? null : parseJson("agentConfig", input.agentConfig),
        status: "POLLING",
        heartbeatAt: now,
        heartbeats: 0,
      });
      return { success: true, launchAgentId: id };
    },
    updateLaunchAgent: ({ input }: Input) => {
      const agent = store.agents.get(str(input.launchAgentId));
      if (!agent) throw new Error(`launch agent ${str(input.launchAgentId)} not found`);
      if (typeof input.agentStatus === "string") agent.status = input.agentStatus;
      agent.heartbeatAt = new Date(store.now()).toISOString();
      agent.heartbeats += 1;
      return { success: true };
    },
  };
}

/** The rootValue for one request: queries and mutations see the caller as `viewer`. */
export function rootValue(store: Store, viewer: Viewer): Record<string, unknown> {
  return {
    ...queryRoot(store, viewer),
    ...queueMutations(store, viewer),
    ...itemMutations(store),
    ...agentMutations(store),
  };
}

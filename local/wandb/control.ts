// The control API under /emulator/v1/ (no auth): seed queues, push items without an
// SDK, read item states, expire leases, inject faults, read the request log, reset.
// Answers JSON; errors are {"error": {"code": <http status>, "message": ...}}.
import type { Faults } from "./faults.js";
import { runSpecForPush } from "./push.js";
import type { Item, Queue, Store, TemplateVariable } from "./store.js";

export const CONTROL_PREFIX = "/emulator/v1";

export interface LoggedRequest {
  operation: string;
  status: number;
  fault: string | null;
  at: string;
}

export interface ControlContext {
  store: Store;
  faults: Faults;
  requests: LoggedRequest[];
}

export class ControlError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

function obj(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ControlError(400, "the request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function need(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== "string" || v === "") throw new ControlError(400, `${key}: expected a string`);
  return v;
}

/** An item as tests read it: its queue as entity/project/name, state, runSpec, reports. */
export function itemJson(store: Store, item: Item): Record<string, unknown> {
  const q = store.queues.get(item.queueId);
  return {
    id: item.id,
    queue: q ? `${q.entity}/${q.project}/${q.name}` : null,
    state: item.state,
    priority: item.priority,
    run_name: item.runName,
    run_spec: item.runSpec,
    error: item.error,
    warnings: item.warnings,
    pops: item.pops,
    acks: item.acks,
    created_at: item.createdAt,
  };
}

function addQueue(ctx: ControlContext, body: Record<string, unknown>): Queue {
  try {
    return ctx.store.addQueue({
      entity: need(body, "entity"),
      project: need(body, "project"),
      name: need(body, "name"),
      access: typeof body.access === "string" ? body.access : "PROJECT",
      createdBy: "emulator",
      resource: typeof body.resource === "string" ? body.resource : null,
      config: body.config === undefined ? {} : obj(body.config),
      templateVariables: (body.template_variables ?? {}) as Record<string, TemplateVariable>,
    });
  } catch (err) {
    if (err instanceof ControlError) throw err;
    throw new ControlError(409, (err as Error).message);
  }
}

function pushItem(ctx: ControlContext, body: Record<string, unknown>): Record<string, unknown> {
  const queue = ctx.store.findQueue(
    need(body, "entity"),
    need(body, "project"),
    need(body, "queue"),
  );
  if (!queue) throw new ControlError(404, "no such queue");
  const values = (body.template_variables ?? {}) as Record<string, unknown>;
  let spec: Record<string, unknown>;
  try {
    spec = runSpecForPush(queue, obj(body.run_spec), values);
  } catch (err) {
    throw new ControlError(400, (err as Error).message);
  }
  const priority = typeof body.priority === "number" ? body.priority : 2;
  return itemJson(ctx.store, ctx.store.addItem(queue, spec, priority));
}

function counts(requests: LoggedRequest[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) out[r.operation] = (out[r.operation] ?? 0) + 1;
  return out;
}

/** Handles one control request; `path` is the part after /emulator/v1, `query` its search params. */
export function handleControl(
  ctx: ControlContext,
  method: string,
  path: string,
  query: URLSearchParams,
  body: unknown,
): { status: number; body: unknown } {
  try {
    return { status: 200, body: route(ctx, method, path, query, body) };
  } catch (err) {
    const status = err instanceof ControlError ? err.httpStatus : 500;
    return { status, body: { error: { code: status, message: (err as Error).message } } };
  }
}

function route(
  ctx: ControlContext,
  method: string,
  path: string,
  query: URLSearchParams,
  body: unknown,
): unknown {
  const { store } = ctx;
  const itemMatch = /^\/items\/(.+)$/.exec(path);
  if (method === "GET" && itemMatch?.[1]) {
    const item = store.items.get(decodeURIComponent(itemMatch[1]));
    if (!item) throw new ControlError(404, "no such item");
    store.expireLeases();
    return itemJson(store, item);
  }
  switch (`${method} ${path}`) {
    case "POST /queues":
      return addQueue(ctx, obj(body));
    case "GET /queues":
      return { queues: [...store.queues.values()] };
    case "POST /items":
      return pushItem(ctx, obj(body));
    case "GET /items": {
      store.expireLeases();
      const want = query.get("queue");
      const items = [...store.items.values()].map((i) => itemJson(store, i));
      return { items: want ? items.filter((i) => i.queue === want) : items };
    }
    case "GET /agents":
      return { agents: [...store.agents.values()] };
    case "POST /leases/expire":
      store.expireLeases(true);
      return {};
    case "POST /faults":
      try {
        return ctx.faults.add(obj(body));
      } catch (err) {
        throw err instanceof ControlError ? err : new ControlError(400, (err as Error).message);
      }
    case "DELETE /faults":
      ctx.faults.clear();
      return {};
    case "GET /requests":
      return { requests: ctx.requests, counts: counts(ctx.requests) };
    case "POST /reset":
      store.reset();
      ctx.faults.clear();
      ctx.requests.length = 0;
      return {};
    default:
      throw new ControlError(404, `no control route ${method} ${path}`);
  }
}

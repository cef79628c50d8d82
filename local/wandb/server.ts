// The HTTP side of the W&B emulator: `POST /graphql` behind W&B's API-key auth
// (`Authorization: Basic base64("api:" + key)`), the control API, and a sink for the
// OpenTelemetry metrics the SDK's wandb-core process posts to `/sdk/otel/...`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  type DocumentNode,
  execute,
  GraphQLError,
  type GraphQLSchema,
  parse,
  validate,
} from "graphql";
import { CONTROL_PREFIX, type ControlContext, handleControl } from "./control.js";
import { rootValue, type Viewer } from "./resolvers.js";

export interface ServerConfig {
  schema: GraphQLSchema;
  ctx: ControlContext;
  /** API key → the user it belongs to. */
  keys: Map<string, Viewer>;
  log: (line: string) => void;
}

const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new Error("request body too large"));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** The viewer of a request's Basic credentials, or null (missing, malformed, unknown key). */
export function viewerFor(header: string | undefined, keys: Map<string, Viewer>): Viewer | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/.exec(header ?? "");
  if (!m?.[1]) return null;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0 || decoded.slice(0, colon) !== "api") return null;
  return keys.get(decoded.slice(colon + 1)) ?? null;
}

/** The first top-level field of the request's operation: what faults and the log name. */
function operationOf(doc: DocumentNode, name: unknown): string {
  for (const def of doc.definitions) {
    if (def.kind !== "OperationDefinition") continue;
    if (typeof name === "string" && name !== "" && def.name?.value !== name) continue;
    const first = def.selectionSet.selections[0];
    if (first?.kind === "Field") return first.name.value;
  }
  return "unknown";
}

async function graphqlRequest(cfg: ServerConfig, req: IncomingMessage, res: ServerResponse) {
  const { ctx } = cfg;
  const logged = (operation: string, status: number, fault: string | null) =>
    ctx.requests.push({ operation, status, fault, at: new Date(ctx.store.now()).toISOString() });
  let body: { query?: unknown; variables?: unknown; operationName?: unknown };
  let doc: DocumentNode;
  try {
    body = JSON.parse(await readBody(req));
    doc = parse(String(body.query ?? ""));
  } catch (err) {
    const message =
      err instanceof GraphQLError ? err.message : "the body must be JSON with a query";
    logged("unparsed", 400, null);
    return send(res, 400, { errors: [{ message }] });
  }
  const operation = operationOf(doc, body.operationName);
  const fault = ctx.faults.take(operation);
  if (fault?.kind === "status") {
    logged(operation, fault.status, `status ${fault.status}`);
    const message = fault.status === 401 ? "user is not logged in" : "service unavailable";
    return send(res, fault.status, { errors: [{ message }] });
  }
  const viewer = viewerFor(req.headers.authorization, cfg.keys);
  if (!viewer) {
    logged(operation, 401, null);
    return send(res, 401, { errors: [{ message: "user is not logged in" }] });
  }
  const status = runOperation(cfg, doc, body, viewer, res, fault !== undefined);
  logged(operation, status, fault ? "drop" : null);
}

function runOperation(
  cfg: ServerConfig,
  doc: DocumentNode,
  body: { variables?: unknown; operationName?: unknown },
  viewer: Viewer,
  res: ServerResponse,
  drop: boolean,
): number {
  const errors = validate(cfg.schema, doc);
  if (errors.length > 0) {
    send(res, 400, { errors: errors.map((e) => ({ message: e.message })) });
    return 400;
  }
  const result = execute({
    schema: cfg.schema,
    document: doc,
    rootValue: rootValue(cfg.ctx.store, viewer),
    variableValues: (body.variables ?? {}) as Record<string, unknown>,
    operationName:
      typeof body.operationName === "string" && body.operationName !== ""
        ? body.operationName
        : undefined,
  });
  if (result instanceof Promise) throw new Error("resolvers are synchronous");
  // A dropped answer: the operation happened, the client hears nothing.
  if (drop) {
    res.socket?.destroy();
    return 0;
  }
  send(res, 200, result);
  return 200;
}

async function handle(cfg: ServerConfig, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://emulator");
  if (url.pathname.startsWith(CONTROL_PREFIX)) {
    const raw = req.method === "GET" ? "" : await readBody(req);
    let parsed: unknown;
    try {
      parsed = raw === "" ? undefined : JSON.parse(raw);
    } catch {
      return send(res, 400, { error: { code: 400, message: "the body must be JSON" } });
    }
    const path = url.pathname.slice(CONTROL_PREFIX.length);
    const answer = handleControl(cfg.ctx, req.method ?? "GET", path, url.searchParams, parsed);
    return send(res, answer.status, answer.body);
  }
  if (req.method === "POST" && url.pathname === "/graphql") return graphqlRequest(cfg, req, res);
  if (req.method === "POST" && url.pathname.startsWith("/sdk/otel/")) {
    await readBody(req);
    return send(res, 200, {});
  }
  send(res, 404, { errors: [{ message: `no route ${req.method} ${url.pathname}` }] });
}

export function startServer(cfg: ServerConfig, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    handle(cfg, req, res).catch((err: Error) => {
      cfg.log(`wandb emulator: ${err.message}`);
      if (!res.headersSent) send(res, 500, { errors: [{ message: "internal error" }] });
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

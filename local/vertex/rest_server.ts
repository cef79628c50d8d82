// REST front end: the JobService CustomJob resources and their operations, as Vertex serves
// them over HTTP/JSON (proto3 JSON mapping), plus the control API under /emulator/v1/.
//
//   POST   /v1/projects/*/locations/*/customJobs             CreateCustomJob (body: CustomJob)
//   GET    /v1/projects/*/locations/*/customJobs             ListCustomJobs (?filter&pageSize&pageToken&readMask)
//   GET    /v1/projects/*/locations/*/customJobs/*           GetCustomJob
//   POST   /v1/projects/*/locations/*/customJobs/*:cancel    CancelCustomJob
//   DELETE /v1/projects/*/locations/*/customJobs/*           DeleteCustomJob (an Operation)
//   GET    /v1/projects/*/locations/*/operations/*           google.longrunning.Operations.GetOperation
// Every path is also served under /ui/ instead of /v1/: the SDK's REST operations client polls
// GetOperation at /ui/{name=projects/*/locations/*/operations/*}, its first HTTP binding.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { VertexControl } from "./control.js";
import { CONTROL_PREFIX, handleControl } from "./control_http.js";
import { ApiError } from "./errors.js";
import { canonicalJson, type Json, type JsonObject } from "./json.js";
import { PACKAGE, type Protos } from "./protos.js";
import type { JobService } from "./service.js";

const MAX_BODY = 10 * 1024 * 1024;
const SEG = "([^/:?]+)";

interface Route {
  method: string;
  pattern: RegExp;
  rpc: string;
  /** Full name of the response message, to write the answer in canonical proto3 JSON. */
  response: string;
  build(m: RegExpExecArray, query: URLSearchParams, body: Json): JsonObject;
}

function queryInt(query: URLSearchParams, ...names: string[]): number | undefined {
  for (const name of names) {
    const v = query.get(name);
    if (v !== null && v !== "") {
      if (!/^-?\d+$/.test(v)) {
        throw new ApiError("INVALID_ARGUMENT", `Invalid value at '${name}' (TYPE_INT32), "${v}"`);
      }
      return Number(v);
    }
  }
  return undefined;
}

function queryString(query: URLSearchParams, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = query.get(name);
    if (v !== null) return v;
  }
  return undefined;
}

function buildRoutes(protos: Protos): Route[] {
  const customJob = protos.type(`${PACKAGE}.CustomJob`);
  const location = `projects/${SEG}/locations/${SEG}`;
  const parent = (m: RegExpExecArray) => `projects/${m[1]}/locations/${m[2]}`;
  const name = (m: RegExpExecArray, kind: string) => `${parent(m)}/${kind}/${m[3]}`;
  return [
    {
      method: "POST",
      pattern: new RegExp(`^/(?:v1|ui)/${location}/customJobs$`),
      rpc: "CreateCustomJob",
      response: `${PACKAGE}.CustomJob`,
      build: (m, _q, body) => ({
        parent: parent(m),
        customJob: canonicalJson(customJob, body ?? {}, "custom_job"),
      }),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/(?:v1|ui)/${location}/customJobs$`),
      rpc: "ListCustomJobs",
      response: `${PACKAGE}.ListCustomJobsResponse`,
      build: (m, q) => listRequest(parent(m), q),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/(?:v1|ui)/${location}/customJobs/${SEG}$`),
      rpc: "GetCustomJob",
      response: `${PACKAGE}.CustomJob`,
      build: (m) => ({ name: name(m, "customJobs") }),
    },
    {
      method: "POST",
      pattern: new RegExp(`^/(?:v1|ui)/${location}/customJobs/${SEG}:cancel$`),
      rpc: "CancelCustomJob",
      response: "google.protobuf.Empty",
      build: (m) => ({ name: name(m, "customJobs") }),
    },
    {
      method: "DELETE",
      pattern: new RegExp(`^/(?:v1|ui)/${location}/customJobs/${SEG}$`),
      rpc: "DeleteCustomJob",
      response: "google.longrunning.Operation",
      build: (m) => ({ name: name(m, "customJobs") }),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/(?:v1|ui)/${location}/operations/${SEG}$`),
      rpc: "GetOperation",
      response: "google.longrunning.Operation",
      build: (m) => ({ name: name(m, "operations") }),
    },
  ];
}

/** ListCustomJobsRequest from the query (camelCase or snake_case parameter names). */
function listRequest(parent: string, q: URLSearchParams): JsonObject {
  const request: JsonObject = { parent };
  const filter = queryString(q, "filter");
  if (filter !== undefined) request.filter = filter;
  const pageSize = queryInt(q, "pageSize", "page_size");
  if (pageSize !== undefined) request.pageSize = pageSize;
  const pageToken = queryString(q, "pageToken", "page_token");
  if (pageToken !== undefined) request.pageToken = pageToken;
  return request;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new ApiError("INVALID_ARGUMENT", "Request payload size exceeds the limit."));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseBody(text: string): Json {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new ApiError(
      "INVALID_ARGUMENT",
      `Invalid JSON payload received. ${(err as Error).message}`,
    );
  }
}

export interface RestFrontEnd {
  port: number;
  close(): Promise<void>;
}

export async function startRest(
  protos: Protos,
  service: JobService,
  control: VertexControl,
  host: string,
  port: number,
): Promise<RestFrontEnd> {
  const front: Front = { routes: buildRoutes(protos), protos, service, control };
  const server: Server = createServer((req, res) => {
    handle(front, req, res).catch((err: unknown) => {
      const e = err instanceof ApiError ? err : new ApiError("INTERNAL", String(err));
      if (!res.headersSent) send(res, e.httpStatus, e.toRestBody());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a request needs: the routes, the protos to write answers, the service, the control. */
interface Front {
  routes: Route[];
  protos: Protos;
  service: JobService;
  control: VertexControl;
}

/** One request: the control API under CONTROL_PREFIX, else a JobService route; throws ApiError. */
async function handle(front: Front, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://emulator");
  const path = decodeURIComponent(url.pathname);
  const method = (req.method ?? "GET").toUpperCase();
  const text = await readBody(req);

  if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) {
    controlRequest(front.control, res, method, path, text);
    return;
  }

  const override = req.headers["x-http-method-override"];
  const effective = typeof override === "string" ? override.toUpperCase() : method;
  for (const route of front.routes) {
    if (route.method !== effective) continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    const request = route.build(m, url.searchParams, parseBody(text));
    const response = await front.service.invoke(route.rpc, "rest", request);
    send(res, 200, canonicalJson(front.protos.type(route.response), response));
    return;
  }
  const known = front.routes.some((r) => r.pattern.test(path));
  if (known) {
    throw new ApiError("UNIMPLEMENTED", `Method ${effective} is not supported for ${path}.`);
  }
  throw new ApiError("NOT_FOUND", `The requested URL ${path} was not found on this server.`);
}

function controlRequest(
  control: VertexControl,
  res: ServerResponse,
  method: string,
  path: string,
  text: string,
): void {
  let body: unknown = null;
  try {
    body = text.trim() ? JSON.parse(text) : null;
  } catch {
    send(res, 400, { error: { code: 400, message: "the request body is not valid JSON" } });
    return;
  }
  const answer = handleControl(control, method, path.slice(CONTROL_PREFIX.length), body);
  send(res, answer.status, answer.body);
}

// The HTTP front of the GCS emulator: reads a request, logs it, applies the deny list
// and injected faults, runs the operation against the store and writes GCS's answer.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Control, Fault } from "./control.js";
import { handleControl } from "./control_http.js";
import { forbidden, GcsError } from "./errors.js";
import { type Reply, runOperation } from "./operations.js";
import { type Route, route } from "./routes.js";
import type { GcsStore } from "./store.js";
import { ResumableUploads } from "./uploads.js";

export class GcsServer {
  private readonly uploads = new ResumableUploads();

  constructor(
    private readonly store: GcsStore,
    private readonly control: Control,
    private readonly log: (line: string) => void,
  ) {}

  resetUploads(): void {
    this.uploads.reset();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const body = await readBody(req);
    if (url.pathname.startsWith("/emulator/v1/")) {
      const answer = handleControl(this.control, method, url, body);
      send(res, { status: answer.status, json: answer.json });
      return;
    }
    const found = route(method, url.pathname, url.searchParams);
    const operation = found?.operation ?? "unknown";
    const entry = {
      time: new Date().toISOString(),
      method,
      path: url.pathname + url.search,
      operation,
    };
    let reply: Reply;
    let fault: Fault | undefined;
    try {
      if (!found) throw new GcsError(404, "Not Found", "notFound");
      fault = this.control.takeFault(found.operation, found.bucket);
      if (fault?.delayMs) await sleep(fault.delayMs);
      if (fault?.when === "after" && fault.status !== undefined) {
        // The request takes effect; only its answer is lost or replaced.
        runOperation(this.store, this.uploads, found, url.searchParams, req, body, baseUrl(req));
        if (fault.status === 0) {
          this.control.record({ ...entry, ...names(found), status: 0, fault: fault.id });
          req.socket.destroy();
          return;
        }
        throw faultError(fault.status, fault.message);
      }
      if (fault?.status === 0) {
        this.control.record({ ...entry, ...names(found), status: 0, fault: fault.id });
        req.socket.destroy();
        return;
      }
      if (fault?.status !== undefined) throw faultError(fault.status, fault.message);
      fault = undefined;
      if (this.control.isDenied(found.bucket))
        throw denied(this.control.denyList().principal, found);
      reply = runOperation(
        this.store,
        this.uploads,
        found,
        url.searchParams,
        req,
        body,
        baseUrl(req),
      );
    } catch (err) {
      reply = errorReply(err);
    }
    const record = { ...entry, ...(found ? names(found) : {}), status: reply.status };
    this.control.record(fault ? { ...record, fault: fault.id } : record);
    this.log(`${method} ${url.pathname} ${operation} -> ${reply.status}`);
    send(res, reply, method === "HEAD");
  }
}

function names(r: Route): { bucket?: string; object?: string } {
  const out: { bucket?: string; object?: string } = {};
  if (r.bucket !== undefined) out.bucket = r.bucket;
  if (r.object !== undefined) out.object = r.object;
  return out;
}

const PERMISSIONS: Record<string, string> = {
  "buckets.insert": "storage.buckets.create",
  "buckets.get": "storage.buckets.get",
  "buckets.getStorageLayout": "storage.buckets.get",
  "buckets.list": "storage.buckets.list",
  "buckets.patch": "storage.buckets.update",
  "buckets.delete": "storage.buckets.delete",
  "objects.insert": "storage.objects.create",
  "uploads.resumable": "storage.objects.create",
  "managedFolders.list": "storage.managedfolders.list",
  "objects.get": "storage.objects.get",
  "objects.list": "storage.objects.list",
  "objects.patch": "storage.objects.update",
  "objects.update": "storage.objects.update",
  "objects.delete": "storage.objects.delete",
  "objects.rewrite": "storage.objects.get",
  "objects.copy": "storage.objects.get",
};

function denied(principal: string, r: Route): GcsError {
  const permission = PERMISSIONS[r.operation] ?? "storage.objects.get";
  const kind = r.object !== undefined ? "object" : "bucket";
  return forbidden(principal, permission, kind);
}

const STATUS_ERRORS: Record<number, [string, string]> = {
  400: ["invalid", "Invalid argument."],
  401: ["required", "Anonymous caller does not have storage access."],
  403: ["forbidden", "Access denied."],
  404: ["notFound", "Not Found"],
  408: ["requestTimeout", "Request timed out."],
  409: ["conflict", "Conflict."],
  412: ["conditionNotMet", "At least one of the pre-conditions you specified did not hold."],
  429: [
    "rateLimitExceeded",
    "The rate of change requests to the object exceeds the rate limit. Please reduce the rate of create, update, and delete requests.",
  ],
  500: ["backendError", "We encountered an internal error. Please try again."],
  502: ["badGateway", "Bad Gateway"],
  503: ["backendError", "We encountered an internal error. Please try again."],
  504: ["gatewayTimeout", "Gateway Timeout"],
};

function faultError(status: number, message: string | undefined): GcsError {
  const [reason, text] = STATUS_ERRORS[status] ?? ["backendError", `Injected error ${status}.`];
  return new GcsError(status, message ?? text, reason);
}

function errorReply(err: unknown): Reply {
  if (err instanceof GcsError)
    return { status: err.code, json: err.code === 304 ? undefined : err.body() };
  const internal = new GcsError(
    500,
    `Internal error in the GCS emulator: ${String(err)}`,
    "backendError",
  );
  return { status: 500, json: internal.body() };
}

function send(res: ServerResponse, reply: Reply, headOnly = false): void {
  if ("media" in reply) {
    const o = reply.media;
    const [start, end] = reply.range ?? [0, o.data.length - 1];
    const data = o.data.subarray(start, end + 1);
    const headers: Record<string, string> = {
      "content-type": o.fields.contentType ?? "application/octet-stream",
      "content-length": String(data.length),
      "x-goog-hash": `crc32c=${o.crc32c},md5=${o.md5Hash}`,
      "x-goog-generation": String(o.generation),
      "x-goog-metageneration": String(o.metageneration),
      "x-goog-stored-content-encoding": o.fields.contentEncoding ?? "identity",
      "x-goog-stored-content-length": String(o.data.length),
      "x-goog-storage-class": "STANDARD",
      etag: Buffer.from(`${o.generation}/${o.metageneration}`).toString("base64"),
      "last-modified": new Date(o.updated).toUTCString(),
    };
    if (reply.range) headers["content-range"] = `bytes ${start}-${end}/${o.data.length}`;
    if (o.fields.contentEncoding) headers["content-encoding"] = o.fields.contentEncoding;
    res.writeHead(reply.status, headers);
    res.end(headOnly ? undefined : data);
    return;
  }
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  if (reply.json === undefined) {
    headers["content-length"] = "0";
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(reply.json);
  headers["content-type"] = "application/json; charset=UTF-8";
  headers["content-length"] = String(Buffer.byteLength(text));
  res.writeHead(reply.status, headers);
  res.end(headOnly ? undefined : text);
}

function baseUrl(req: IncomingMessage): string {
  return `http://${req.headers.host ?? "127.0.0.1"}`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// The HTTP front of the GCS emulator: reads a request, logs it, applies the deny list
// and injected faults, runs the operation against the store and writes GCS's answer.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Control, Fault } from "./control.js";
import { handleControl } from "./control_http.js";
import { forbidden, GcsError, invalid } from "./errors.js";
import { bucketResource, objectResource, storageLayout } from "./resources.js";
import { type Route, route } from "./routes.js";
import type { GcsStore, Preconditions, StoredObject } from "./store.js";
import { parseJson, parseMultipart, ResumableUploads, verifyHashes } from "./uploads.js";

type Reply =
  | { status: number; json?: unknown; headers?: Record<string, string> }
  | { status: number; media: StoredObject; range?: [number, number] };

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
        this.run(found, url.searchParams, req, body, baseUrl(req));
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
      reply = this.run(found, url.searchParams, req, body, baseUrl(req));
    } catch (err) {
      reply = errorReply(err);
    }
    const record = { ...entry, ...(found ? names(found) : {}), status: reply.status };
    this.control.record(fault ? { ...record, fault: fault.id } : record);
    this.log(`${method} ${url.pathname} ${operation} -> ${reply.status}`);
    send(res, reply, method === "HEAD");
  }

  private run(
    r: Route,
    q: URLSearchParams,
    req: IncomingMessage,
    body: Buffer,
    base: string,
  ): Reply {
    const pre = preconditions(q);
    const bucket = r.bucket ?? "";
    const object = r.object ?? "";
    switch (r.operation) {
      case "buckets.insert":
        return ok(
          bucketResource(
            this.store.insertBucket(q.get("project") ?? undefined, parseJson(body)),
            base,
          ),
        );
      case "buckets.get":
        return ok(bucketResource(this.store.getBucket(bucket, pre), base));
      case "buckets.getStorageLayout":
        return ok(storageLayout(this.store.getBucket(bucket, pre)));
      case "managedFolders.list":
        this.store.getBucket(bucket);
        return ok({ kind: "storage#managedFolders" });
      case "buckets.list": {
        const page = this.store.listBuckets(q.get("project") ?? undefined, {
          prefix: q.get("prefix") ?? undefined,
          maxResults: intParam(q, "maxResults"),
          pageToken: q.get("pageToken") ?? undefined,
        });
        const json: Record<string, unknown> = { kind: "storage#buckets" };
        if (page.items.length > 0) json.items = page.items.map((b) => bucketResource(b, base));
        if (page.nextPageToken) json.nextPageToken = page.nextPageToken;
        return ok(json);
      }
      case "buckets.patch":
        return ok(bucketResource(this.store.patchBucket(bucket, parseJson(body), pre), base));
      case "buckets.delete":
        this.store.deleteBucket(bucket, pre);
        return { status: 204 };
      case "objects.insert":
        return this.insert(bucket, q, req, body, pre, base);
      case "uploads.resumable":
        return this.resumablePut(q, req, body, base);
      case "objects.get": {
        const found = this.store.getObject(bucket, object, intParam(q, "generation"), pre);
        if (!r.media) return ok(objectResource(found, base));
        return mediaReply(found, req.headers.range);
      }
      case "objects.list": {
        const page = this.store.listObjects(bucket, {
          prefix: q.get("prefix") ?? undefined,
          delimiter: q.get("delimiter") ?? undefined,
          maxResults: intParam(q, "maxResults"),
          pageToken: q.get("pageToken") ?? undefined,
          startOffset: q.get("startOffset") ?? undefined,
          endOffset: q.get("endOffset") ?? undefined,
        });
        const json: Record<string, unknown> = { kind: "storage#objects" };
        if (page.prefixes.length > 0) json.prefixes = page.prefixes;
        if (page.items.length > 0) json.items = page.items.map((o) => objectResource(o, base));
        if (page.nextPageToken) json.nextPageToken = page.nextPageToken;
        return ok(json);
      }
      case "objects.patch":
      case "objects.update": {
        const replace = r.operation === "objects.update";
        return ok(
          objectResource(
            this.store.updateObject(bucket, object, parseJson(body), pre, replace),
            base,
          ),
        );
      }
      case "objects.delete":
        this.store.deleteObject(bucket, object, intParam(q, "generation"), pre);
        return { status: 204 };
      case "objects.rewrite":
      case "objects.copy": {
        const destination = r.destination ?? { bucket: "", object: "" };
        const source = { bucket, name: object, generation: intParam(q, "sourceGeneration") };
        const copied = this.store.copyObject(
          source,
          { bucket: destination.bucket, name: destination.object },
          parseJson(body),
          pre,
        );
        if (r.operation === "objects.copy") return ok(objectResource(copied, base));
        const size = String(copied.data.length);
        return ok({
          kind: "storage#rewriteResponse",
          totalBytesRewritten: size,
          objectSize: size,
          done: true,
          resource: objectResource(copied, base),
        });
      }
    }
    throw new GcsError(404, "Not Found", "notFound");
  }

  private insert(
    bucket: string,
    q: URLSearchParams,
    req: IncomingMessage,
    body: Buffer,
    pre: Preconditions,
    base: string,
  ): Reply {
    const uploadType = q.get("uploadType");
    const contentType = header(req, "content-type");
    if (uploadType === "resumable") {
      this.store.checkWrite(bucket, nameOf(q, parseJson(body)), pre);
      const resource = { ...parseJson(body), name: nameOf(q, parseJson(body)) };
      const mediaType = header(req, "x-upload-content-type");
      const session = this.uploads.start(bucket, resource, mediaType, pre);
      const location = `${base}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${session.id}`;
      return { status: 200, headers: { location } };
    }
    let write: ReturnType<typeof parseMultipart>;
    if (uploadType === "multipart") write = parseMultipart(body, contentType);
    else if (uploadType === "media")
      write = { data: body, resource: {}, ...(contentType ? { mediaType: contentType } : {}) };
    else if (uploadType === null && !q.has("upload_id"))
      write = { data: Buffer.alloc(0), resource: parseJson(body) };
    else throw invalid(`Invalid upload type: ${uploadType}`);
    write.resource = { ...write.resource, name: nameOf(q, write.resource) };
    verifyHashes(write.data, write.resource, header(req, "x-goog-hash"));
    return ok(objectResource(this.store.insertObject(bucket, write, pre), base));
  }

  private resumablePut(
    q: URLSearchParams,
    req: IncomingMessage,
    body: Buffer,
    base: string,
  ): Reply {
    const session = this.uploads.get(q.get("upload_id") ?? "");
    if (session.done) return ok(objectResource(session.done, base));
    const outcome = this.uploads.put(session, header(req, "content-range"), body);
    if (outcome.kind === "incomplete") {
      const headers: Record<string, string> = {};
      if (outcome.received > 0) headers.range = `bytes=0-${outcome.received - 1}`;
      return { status: 308, headers };
    }
    try {
      verifyHashes(outcome.data, session.resource, header(req, "x-goog-hash"));
      const write = {
        data: outcome.data,
        resource: session.resource,
        ...(session.mediaType ? { mediaType: session.mediaType } : {}),
      };
      const stored = this.store.insertObject(session.bucket, write, session.pre);
      this.uploads.finish(session, stored);
      return ok(objectResource(stored, base));
    } catch (err) {
      this.uploads.drop(session);
      throw err;
    }
  }
}

function ok(json: unknown): Reply {
  return { status: 200, json };
}

function nameOf(q: URLSearchParams, resource: Record<string, unknown>): string {
  const name = q.get("name") ?? resource.name;
  if (typeof name !== "string" || name === "")
    throw new GcsError(400, "Required parameter: name", "required");
  return name;
}

function preconditions(q: URLSearchParams): Preconditions {
  const pre: Preconditions = {};
  for (const key of [
    "ifGenerationMatch",
    "ifGenerationNotMatch",
    "ifMetagenerationMatch",
    "ifMetagenerationNotMatch",
  ] as const) {
    const value = intParam(q, key);
    if (value !== undefined) pre[key] = value;
  }
  return pre;
}

function intParam(q: URLSearchParams, key: string): number | undefined {
  const raw = q.get(key);
  if (raw === null || raw === "") return undefined;
  if (!/^-?\d+$/.test(raw)) throw invalid(`Invalid value for ${key}: ${raw}`);
  return Number(raw);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
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

function mediaReply(object: StoredObject, rangeHeader: string | undefined): Reply {
  if (!rangeHeader) return { status: 200, media: object };
  const size = object.data.length;
  const match = /^bytes=(\d*)-(\d*)$/.exec(rangeHeader.trim());
  if (!match || (match[1] === "" && match[2] === "")) return { status: 200, media: object };
  let start: number;
  let end: number;
  if (match[1] === "") {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size && size > 0) {
    throw new GcsError(416, "Request range not satisfiable", "requestedRangeNotSatisfiable");
  }
  if (size === 0) return { status: 200, media: object };
  return { status: 206, media: object, range: [start, end] };
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

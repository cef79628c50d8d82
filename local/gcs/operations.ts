// The JSON API operations as a table: each routed operation is one handler from the request
// (its route, query, body and preconditions) to GCS's reply, run against the store. The
// server (server.ts) applies faults and the deny list before it runs one.
import type { IncomingMessage } from "node:http";
import type { Operation } from "./control.js";
import { GcsError, invalid } from "./errors.js";
import { bucketResource, objectResource, storageLayout } from "./resources.js";
import type { Route } from "./routes.js";
import type { GcsStore, Preconditions, StoredObject } from "./store.js";
import { parseJson, parseMultipart, type ResumableUploads, verifyHashes } from "./uploads.js";

export type Reply =
  | { status: number; json?: unknown; headers?: Record<string, string> }
  | { status: number; media: StoredObject; range?: [number, number] };

/** One routed request, with what every handler reads. */
interface Call {
  store: GcsStore;
  uploads: ResumableUploads;
  r: Route;
  q: URLSearchParams;
  req: IncomingMessage;
  body: Buffer;
  /** The emulator's own URL, for selfLink and mediaLink. */
  base: string;
  pre: Preconditions;
  /** The route's bucket and object ("" when absent). */
  bucket: string;
  object: string;
}

type Handler = (c: Call) => Reply;

const HANDLERS: Record<Operation, Handler> = {
  "buckets.insert": (c) =>
    ok(
      bucketResource(
        c.store.insertBucket(c.q.get("project") ?? undefined, parseJson(c.body)),
        c.base,
      ),
    ),
  "buckets.get": (c) => ok(bucketResource(c.store.getBucket(c.bucket, c.pre), c.base)),
  "buckets.getStorageLayout": (c) => ok(storageLayout(c.store.getBucket(c.bucket, c.pre))),
  "managedFolders.list": (c) => {
    c.store.getBucket(c.bucket);
    return ok({ kind: "storage#managedFolders" });
  },
  "buckets.list": listBuckets,
  "buckets.patch": (c) =>
    ok(bucketResource(c.store.patchBucket(c.bucket, parseJson(c.body), c.pre), c.base)),
  "buckets.delete": (c) => {
    c.store.deleteBucket(c.bucket, c.pre);
    return { status: 204 };
  },
  "objects.insert": insert,
  "uploads.resumable": resumablePut,
  "objects.get": (c) => {
    const found = c.store.getObject(c.bucket, c.object, intParam(c.q, "generation"), c.pre);
    if (!c.r.media) return ok(objectResource(found, c.base));
    return mediaReply(found, c.req.headers.range);
  },
  "objects.list": listObjects,
  "objects.patch": (c) => updateObject(c, false),
  "objects.update": (c) => updateObject(c, true),
  "objects.delete": (c) => {
    c.store.deleteObject(c.bucket, c.object, intParam(c.q, "generation"), c.pre);
    return { status: 204 };
  },
  "objects.rewrite": copyObject,
  "objects.copy": copyObject,
};

/** Runs the routed operation against the store; preconditions are parsed first, for every one. */
export function runOperation(
  store: GcsStore,
  uploads: ResumableUploads,
  r: Route,
  q: URLSearchParams,
  req: IncomingMessage,
  body: Buffer,
  base: string,
): Reply {
  const pre = preconditions(q);
  const handler = Object.hasOwn(HANDLERS, r.operation) ? HANDLERS[r.operation] : undefined;
  if (!handler) throw new GcsError(404, "Not Found", "notFound");
  const call = { store, uploads, r, q, req, body, base, pre };
  return handler({ ...call, bucket: r.bucket ?? "", object: r.object ?? "" });
}

function listBuckets(c: Call): Reply {
  const page = c.store.listBuckets(c.q.get("project") ?? undefined, {
    prefix: c.q.get("prefix") ?? undefined,
    maxResults: intParam(c.q, "maxResults"),
    pageToken: c.q.get("pageToken") ?? undefined,
  });
  const json: Record<string, unknown> = { kind: "storage#buckets" };
  if (page.items.length > 0) json.items = page.items.map((b) => bucketResource(b, c.base));
  if (page.nextPageToken) json.nextPageToken = page.nextPageToken;
  return ok(json);
}

function listObjects(c: Call): Reply {
  const q = c.q;
  const page = c.store.listObjects(c.bucket, {
    prefix: q.get("prefix") ?? undefined,
    delimiter: q.get("delimiter") ?? undefined,
    maxResults: intParam(q, "maxResults"),
    pageToken: q.get("pageToken") ?? undefined,
    startOffset: q.get("startOffset") ?? undefined,
    endOffset: q.get("endOffset") ?? undefined,
  });
  const json: Record<string, unknown> = { kind: "storage#objects" };
  if (page.prefixes.length > 0) json.prefixes = page.prefixes;
  if (page.items.length > 0) json.items = page.items.map((o) => objectResource(o, c.base));
  if (page.nextPageToken) json.nextPageToken = page.nextPageToken;
  return ok(json);
}

/** objects.patch (merge) and objects.update (replace). */
function updateObject(c: Call, replace: boolean): Reply {
  const updated = c.store.updateObject(c.bucket, c.object, parseJson(c.body), c.pre, replace);
  return ok(objectResource(updated, c.base));
}

/** objects.copy answers the object; objects.rewrite a finished rewriteResponse. */
function copyObject(c: Call): Reply {
  const destination = c.r.destination ?? { bucket: "", object: "" };
  const source = {
    bucket: c.bucket,
    name: c.object,
    generation: intParam(c.q, "sourceGeneration"),
  };
  const copied = c.store.copyObject(
    source,
    { bucket: destination.bucket, name: destination.object },
    parseJson(c.body),
    c.pre,
  );
  if (c.r.operation === "objects.copy") return ok(objectResource(copied, c.base));
  const size = String(copied.data.length);
  return ok({
    kind: "storage#rewriteResponse",
    totalBytesRewritten: size,
    objectSize: size,
    done: true,
    resource: objectResource(copied, c.base),
  });
}

function insert(c: Call): Reply {
  const { store, uploads, bucket, q, req, body, pre, base } = c;
  const uploadType = q.get("uploadType");
  const contentType = header(req, "content-type");
  if (uploadType === "resumable") {
    store.checkWrite(bucket, nameOf(q, parseJson(body)), pre);
    const resource = { ...parseJson(body), name: nameOf(q, parseJson(body)) };
    const mediaType = header(req, "x-upload-content-type");
    const session = uploads.start(bucket, resource, mediaType, pre);
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
  return ok(objectResource(store.insertObject(bucket, write, pre), base));
}

function resumablePut(c: Call): Reply {
  const { store, uploads, q, req, body, base } = c;
  const session = uploads.get(q.get("upload_id") ?? "");
  if (session.done) return ok(objectResource(session.done, base));
  const outcome = uploads.put(session, header(req, "content-range"), body);
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
    const stored = store.insertObject(session.bucket, write, session.pre);
    uploads.finish(session, stored);
    return ok(objectResource(stored, base));
  } catch (err) {
    uploads.drop(session);
    throw err;
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

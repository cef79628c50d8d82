// The in-memory state of the GCS emulator: buckets, their live objects, generations
// and metagenerations, and the precondition rules. No HTTP here.
import {
  bucketNotFound,
  conditionNotMet,
  GcsError,
  invalid,
  objectNotFound,
  required,
} from "./errors.js";
import { crc32cBase64, md5Base64 } from "./hashes.js";
import { type Placement, placement } from "./location.js";

export interface Preconditions {
  ifGenerationMatch?: number;
  ifGenerationNotMatch?: number;
  ifMetagenerationMatch?: number;
  ifMetagenerationNotMatch?: number;
}

/** Bucket fields a client may set and gets back as given. */
const BUCKET_ECHO_FIELDS = [
  "labels",
  "versioning",
  "iamConfiguration",
  "hierarchicalNamespace",
  "softDeletePolicy",
  "lifecycle",
  "cors",
  "website",
  "logging",
  "autoclass",
  "rpo",
  "retentionPolicy",
  "defaultEventBasedHold",
  "encryption",
] as const;

/** Object fields a client may set on upload or patch, all strings. */
export const OBJECT_STRING_FIELDS = [
  "contentType",
  "contentEncoding",
  "contentDisposition",
  "contentLanguage",
  "cacheControl",
  "customTime",
] as const;

export interface StoredBucket {
  name: string;
  project: string;
  placement: Placement;
  storageClass: string;
  generation: number;
  metageneration: number;
  timeCreated: string;
  updated: string;
  echo: Record<string, unknown>;
  objects: Map<string, StoredObject>;
}

export interface StoredObject {
  bucket: string;
  name: string;
  data: Buffer;
  generation: number;
  metageneration: number;
  md5Hash: string;
  crc32c: string;
  timeCreated: string;
  updated: string;
  fields: Record<string, string>;
  metadata?: Record<string, string>;
}

export interface ObjectWrite {
  data: Buffer;
  /** The object resource the client sent (name, contentType, metadata, ...). */
  resource: Record<string, unknown>;
  /** Content type from the upload itself, used when the resource names none. */
  mediaType?: string;
}

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  maxResults?: number;
  pageToken?: string;
  startOffset?: string;
  endOffset?: string;
}

export interface ObjectPage {
  items: StoredObject[];
  prefixes: string[];
  nextPageToken?: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
const DEFAULT_PAGE = 1000;

export class GcsStore {
  private readonly buckets = new Map<string, StoredBucket>();
  private lastGeneration = 0;

  /** `onWrite` hears of every object write that took effect (the write-rate counter). */
  constructor(private readonly onWrite: (bucket: string, name: string) => void = () => {}) {}

  reset(): void {
    this.buckets.clear();
  }

  /** GCS generations are microsecond timestamps; strictly increasing here. */
  private nextGeneration(): number {
    this.lastGeneration = Math.max(this.lastGeneration + 1, Date.now() * 1000);
    return this.lastGeneration;
  }

  // ---- buckets ----

  insertBucket(project: string | undefined, body: Record<string, unknown>): StoredBucket {
    if (!project) throw required("project");
    const name = body.name;
    if (typeof name !== "string" || name === "") throw required("resource.name");
    if (!validBucketName(name)) throw invalid(`Invalid bucket name: '${name}'`);
    if (this.buckets.has(name)) {
      throw new GcsError(
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
        "conflict",
      );
    }
    const custom = body.customPlacementConfig as { dataLocations?: unknown } | undefined;
    const where = placement(
      typeof body.location === "string" ? body.location : undefined,
      custom?.dataLocations,
    );
    const now = new Date().toISOString();
    const echo: Record<string, unknown> = {};
    for (const field of BUCKET_ECHO_FIELDS)
      if (body[field] !== undefined) echo[field] = body[field];
    const bucket: StoredBucket = {
      name,
      project,
      placement: where,
      storageClass:
        typeof body.storageClass === "string" ? body.storageClass.toUpperCase() : "STANDARD",
      generation: this.nextGeneration(),
      metageneration: 1,
      timeCreated: now,
      updated: now,
      echo,
      objects: new Map(),
    };
    this.buckets.set(name, bucket);
    return bucket;
  }

  getBucket(name: string, pre: Preconditions = {}): StoredBucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw bucketNotFound();
    checkMetageneration(bucket.metageneration, pre, "read");
    return bucket;
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  listBuckets(
    project: string | undefined,
    opts: { prefix?: string; maxResults?: number; pageToken?: string },
  ): { items: StoredBucket[]; nextPageToken?: string } {
    if (!project) throw required("project");
    const after = opts.pageToken ? decodeToken(opts.pageToken).after : "";
    const all = [...this.buckets.values()]
      .filter((b) => b.project === project && b.name.startsWith(opts.prefix ?? ""))
      .filter((b) => b.name > after)
      .sort((a, b) => compare(a.name, b.name));
    const limit = pageSize(opts.maxResults);
    const items = all.slice(0, limit);
    const last = items[items.length - 1];
    if (all.length > limit && last) {
      return { items, nextPageToken: encodeToken({ after: last.name }) };
    }
    return { items };
  }

  patchBucket(name: string, body: Record<string, unknown>, pre: Preconditions): StoredBucket {
    const bucket = this.getBucket(name);
    checkMetageneration(bucket.metageneration, pre, "write");
    for (const field of BUCKET_ECHO_FIELDS) {
      if (body[field] === null) delete bucket.echo[field];
      else if (field === "labels" && isRecord(body.labels)) {
        bucket.echo.labels = mergeMap(bucket.echo.labels as Record<string, string>, body.labels);
      } else if (body[field] !== undefined) bucket.echo[field] = body[field];
    }
    if (typeof body.storageClass === "string")
      bucket.storageClass = body.storageClass.toUpperCase();
    bucket.metageneration++;
    bucket.updated = new Date().toISOString();
    return bucket;
  }

  deleteBucket(name: string, pre: Preconditions): void {
    const bucket = this.getBucket(name);
    checkMetageneration(bucket.metageneration, pre, "write");
    if (bucket.objects.size > 0) {
      throw new GcsError(409, "The bucket you tried to delete is not empty.", "conflict");
    }
    this.buckets.delete(name);
  }

  // ---- objects ----

  /** Checks a write's preconditions without writing (resumable uploads check at start and end). */
  checkWrite(bucketName: string, name: string, pre: Preconditions): void {
    const bucket = this.getBucket(bucketName);
    checkObject(bucket.objects.get(name), pre, "write");
  }

  insertObject(bucketName: string, write: ObjectWrite, pre: Preconditions): StoredObject {
    const bucket = this.getBucket(bucketName);
    const name = write.resource.name;
    if (typeof name !== "string" || name === "") throw required("name");
    if (!validObjectName(name)) throw invalid("The specified object name is not valid.");
    checkObject(bucket.objects.get(name), pre, "write");
    const now = new Date().toISOString();
    const fields = stringFields(write.resource);
    if (!fields.contentType) fields.contentType = write.mediaType || "application/octet-stream";
    const object: StoredObject = {
      bucket: bucketName,
      name,
      data: write.data,
      generation: this.nextGeneration(),
      metageneration: 1,
      md5Hash: md5Base64(write.data),
      crc32c: crc32cBase64(write.data),
      timeCreated: now,
      updated: now,
      fields,
    };
    const metadata = write.resource.metadata;
    if (isRecord(metadata)) object.metadata = mergeMap(undefined, metadata);
    bucket.objects.set(name, object);
    this.onWrite(bucketName, name);
    return object;
  }

  getObject(
    bucketName: string,
    name: string,
    generation: number | undefined,
    pre: Preconditions,
  ): StoredObject {
    const bucket = this.getBucket(bucketName);
    const object = bucket.objects.get(name);
    if (!object || (generation !== undefined && object.generation !== generation)) {
      throw objectNotFound(bucketName, name);
    }
    checkObject(object, pre, "read");
    return object;
  }

  listObjects(bucketName: string, opts: ListOptions): ObjectPage {
    const bucket = this.getBucket(bucketName);
    const prefix = opts.prefix ?? "";
    const delimiter = opts.delimiter || undefined;
    const token = opts.pageToken ? decodeToken(opts.pageToken) : undefined;
    const names = [...bucket.objects.keys()].sort(compare);
    const limit = pageSize(opts.maxResults);
    const items: StoredObject[] = [];
    const prefixes: string[] = [];
    let lastKey: string | undefined;
    for (const name of names) {
      if (!name.startsWith(prefix)) continue;
      if (opts.startOffset && compare(name, opts.startOffset) < 0) continue;
      if (opts.endOffset && compare(name, opts.endOffset) >= 0) continue;
      if (
        token &&
        (compare(name, token.after) <= 0 || (token.prefix && name.startsWith(token.after)))
      ) {
        continue;
      }
      const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
      const key = cut >= 0 && delimiter ? name.slice(0, cut + delimiter.length) : name;
      if (key === lastKey) continue; // a prefix already listed on this page
      if (items.length + prefixes.length === limit && lastKey !== undefined) {
        const isPrefix = prefixes[prefixes.length - 1] === lastKey;
        return {
          items,
          prefixes,
          nextPageToken: encodeToken({ after: lastKey, prefix: isPrefix }),
        };
      }
      if (key === name) {
        const object = bucket.objects.get(name);
        if (object) items.push(object);
      } else prefixes.push(key);
      lastKey = key;
    }
    return { items, prefixes };
  }

  deleteObject(
    bucketName: string,
    name: string,
    generation: number | undefined,
    pre: Preconditions,
  ): void {
    const bucket = this.getBucket(bucketName);
    const object = bucket.objects.get(name);
    if (!object || (generation !== undefined && object.generation !== generation)) {
      throw objectNotFound(bucketName, name);
    }
    checkObject(object, pre, "write");
    bucket.objects.delete(name);
    this.onWrite(bucketName, name);
  }

  /** PATCH merges (metadata keys set to null are removed); PUT replaces the writable fields. */
  updateObject(
    bucketName: string,
    name: string,
    body: Record<string, unknown>,
    pre: Preconditions,
    replace: boolean,
  ): StoredObject {
    const object = this.getObject(bucketName, name, undefined, {});
    checkObject(object, pre, "write");
    if (replace) {
      const fields = stringFields(body);
      object.fields = { ...fields, contentType: fields.contentType ?? "application/octet-stream" };
      object.metadata = isRecord(body.metadata) ? mergeMap(undefined, body.metadata) : undefined;
    } else {
      for (const field of OBJECT_STRING_FIELDS) {
        const value = body[field];
        if (value === null) delete object.fields[field];
        else if (typeof value === "string") object.fields[field] = value;
      }
      if (body.metadata === null) object.metadata = undefined;
      else if (isRecord(body.metadata)) object.metadata = mergeMap(object.metadata, body.metadata);
    }
    object.metageneration++;
    this.onWrite(bucketName, name);
    object.updated = new Date().toISOString();
    return object;
  }

  /** objects.rewrite / objects.copy: a new generation of the destination with the source's bytes. */
  copyObject(
    source: { bucket: string; name: string; generation?: number },
    destination: { bucket: string; name: string },
    body: Record<string, unknown>,
    pre: Preconditions,
  ): StoredObject {
    const from = this.getObject(source.bucket, source.name, source.generation, {});
    const overrides = Object.keys(stringFields(body)).length > 0 || isRecord(body.metadata);
    const resource: Record<string, unknown> = overrides
      ? { ...body }
      : { ...from.fields, metadata: from.metadata };
    resource.name = destination.name;
    return this.insertObject(destination.bucket, { data: from.data, resource }, pre);
  }
}

function checkMetageneration(
  metageneration: number,
  pre: Preconditions,
  mode: "read" | "write",
): void {
  if (pre.ifMetagenerationMatch !== undefined && metageneration !== pre.ifMetagenerationMatch) {
    throw conditionNotMet("If-Metageneration-Match");
  }
  if (
    pre.ifMetagenerationNotMatch !== undefined &&
    metageneration === pre.ifMetagenerationNotMatch
  ) {
    throw notModifiedOr412(mode, "If-Metageneration-Not-Match");
  }
}

/**
 * GCS's rules: ifGenerationMatch=0 means "must not exist"; a failed *Match is 412; a failed
 * *NotMatch is 304 on a read and 412 on a write.
 */
function checkObject(
  object: StoredObject | undefined,
  pre: Preconditions,
  mode: "read" | "write",
): void {
  const generation = object?.generation ?? 0;
  if (pre.ifGenerationMatch !== undefined && generation !== pre.ifGenerationMatch) {
    throw conditionNotMet("If-Generation-Match");
  }
  if (pre.ifGenerationNotMatch !== undefined && generation === pre.ifGenerationNotMatch) {
    throw notModifiedOr412(mode, "If-Generation-Not-Match");
  }
  if (
    pre.ifMetagenerationMatch !== undefined &&
    object?.metageneration !== pre.ifMetagenerationMatch
  ) {
    throw conditionNotMet("If-Metageneration-Match");
  }
  if (
    pre.ifMetagenerationNotMatch !== undefined &&
    object !== undefined &&
    object.metageneration === pre.ifMetagenerationNotMatch
  ) {
    throw notModifiedOr412(mode, "If-Metageneration-Not-Match");
  }
}

function notModifiedOr412(mode: "read" | "write", header: string): GcsError {
  return mode === "read"
    ? new GcsError(304, "Not Modified", "notModified")
    : conditionNotMet(header);
}

function validBucketName(name: string): boolean {
  if (!BUCKET_NAME.test(name) || name.startsWith("goog") || name.includes("..")) return false;
  return name.includes(".") ? name.split(".").every((p) => p.length <= 63) : name.length <= 63;
}

function validObjectName(name: string): boolean {
  return Buffer.byteLength(name) <= 1024 && name !== "." && name !== ".." && !/[\r\n]/.test(name);
}

function stringFields(resource: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of OBJECT_STRING_FIELDS) {
    const value = resource[field];
    if (typeof value === "string" && value !== "") out[field] = value;
  }
  return out;
}

function mergeMap(
  base: Record<string, string> | undefined,
  patch: Record<string, unknown>,
): Record<string, string> | undefined {
  const out: Record<string, string> = { ...(base ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = String(value);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pageSize(maxResults: number | undefined): number {
  return maxResults !== undefined && maxResults > 0
    ? Math.min(maxResults, DEFAULT_PAGE)
    : DEFAULT_PAGE;
}

/** Byte-order comparison, as GCS lists. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

interface PageToken {
  after: string;
  prefix?: boolean;
}

function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodeToken(raw: string): PageToken {
  try {
    const token = JSON.parse(Buffer.from(raw, "base64url").toString()) as PageToken;
    if (typeof token.after === "string") return token;
  } catch {}
  throw invalid("Invalid page token.");
}

// Upload bodies: multipart/related parsing, resumable sessions (Content-Range
// bookkeeping) and the checksum checks GCS makes on what a client says it sent.
import { randomUUID } from "node:crypto";
import { GcsError, invalid } from "./errors.js";
import { crc32cBase64, md5Base64 } from "./hashes.js";
import type { ObjectWrite, Preconditions, StoredObject } from "./store.js";

/** Splits an `uploadType=multipart` body into the JSON resource and the media part. */
export function parseMultipart(body: Buffer, contentType: string | undefined): ObjectWrite {
  const boundary = /boundary=(?:"([^"]+)"|'([^']+)'|([^;\s]+))/i
    .exec(contentType ?? "")
    ?.slice(1)
    .find((b) => b !== undefined);
  if (!boundary) throw invalid("Missing boundary in multipart upload.");
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: Record<string, string>; data: Buffer }> = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break; // closing delimiter
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(skipNewline(body, start), trimNewline(body, next));
    const [head, data] = splitHead(part);
    const headers: Record<string, string> = {};
    for (const line of head.split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon > 0)
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, data });
    at = next;
  }
  const [meta, media] = parts;
  if (!meta || !media)
    throw invalid("Multipart upload must have a metadata part and a media part.");
  const resource = parseJson(meta.data);
  const mediaType = media.headers["content-type"];
  return mediaType ? { data: media.data, resource, mediaType } : { data: media.data, resource };
}

// Clients differ on line ends: the Node SDK writes CRLF, gcloud (Python's email package) LF.
function skipNewline(body: Buffer, at: number): number {
  if (body[at] === 0x0d && body[at + 1] === 0x0a) return at + 2;
  return body[at] === 0x0a ? at + 1 : at;
}

function trimNewline(body: Buffer, end: number): number {
  if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) return end - 2;
  return body[end - 1] === 0x0a ? end - 1 : end;
}

/** A part's headers and its data, split at the first blank line. */
function splitHead(part: Buffer): [string, Buffer] {
  const crlf = part.indexOf("\r\n\r\n");
  const lf = part.indexOf("\n\n");
  if (crlf >= 0 && (lf < 0 || crlf <= lf))
    return [part.subarray(0, crlf).toString(), part.subarray(crlf + 4)];
  if (lf >= 0) return [part.subarray(0, lf).toString(), part.subarray(lf + 2)];
  return ["", part];
}

export function parseJson(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {}
  throw new GcsError(400, "Parse Error", "parseError");
}

/** GCS rejects an upload whose declared md5Hash/crc32c (resource or X-Goog-Hash) disagrees. */
export function verifyHashes(
  data: Buffer,
  resource: Record<string, unknown>,
  googHash: string | undefined,
): void {
  const declared: Record<string, string> = {};
  if (typeof resource.md5Hash === "string") declared.md5 = resource.md5Hash;
  if (typeof resource.crc32c === "string") declared.crc32c = resource.crc32c;
  for (const pair of (googHash ?? "").split(",")) {
    const eq = pair.indexOf("=");
    if (eq > 0) declared[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  const md5 = declared.md5;
  if (md5 !== undefined && md5 !== md5Base64(data)) {
    throw invalid(
      `Provided MD5 hash "${md5}" doesn't match calculated MD5 hash "${md5Base64(data)}".`,
    );
  }
  const crc = declared.crc32c;
  if (crc !== undefined && crc !== crc32cBase64(data)) {
    throw invalid(
      `Provided CRC32C "${crc}" doesn't match calculated CRC32C "${crc32cBase64(data)}".`,
    );
  }
}

export interface Session {
  id: string;
  bucket: string;
  resource: Record<string, unknown>;
  mediaType?: string;
  pre: Preconditions;
  chunks: Buffer[];
  received: number;
  done?: StoredObject;
}

export type PutOutcome =
  | { kind: "incomplete"; received: number }
  | { kind: "complete"; data: Buffer };

/**
 * A resumable upload session. A PUT carries `Content-Range: bytes A-B/TOTAL`, `bytes A-B/*`
 * (more to come), `bytes A-* /TOTAL|*` (this body is the rest), `bytes * /TOTAL` (finalize),
 * `bytes * /*` (status query), or nothing (this body is the whole object).
 */
export class ResumableUploads {
  private readonly sessions = new Map<string, Session>();

  start(
    bucket: string,
    resource: Record<string, unknown>,
    mediaType: string | undefined,
    pre: Preconditions,
  ): Session {
    const session: Session = { id: randomUUID(), bucket, resource, pre, chunks: [], received: 0 };
    if (mediaType) session.mediaType = mediaType;
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string): Session {
    const session = this.sessions.get(id);
    if (!session) throw new GcsError(404, "No such upload session.", "notFound");
    return session;
  }

  reset(): void {
    this.sessions.clear();
  }

  put(session: Session, contentRange: string | undefined, body: Buffer): PutOutcome {
    const range = parseContentRange(contentRange);
    if (range.start !== undefined) {
      if (range.start > session.received) {
        throw invalid(
          `Invalid request. The upload offset ${range.start} is past the ${session.received} bytes received.`,
        );
      }
      const overlap = session.received - range.start;
      const fresh = body.subarray(Math.min(overlap, body.length));
      if (fresh.length > 0) session.chunks.push(fresh);
      session.received += fresh.length;
    }
    const total = range.total ?? (range.rest ? session.received : undefined);
    if (total === undefined) return { kind: "incomplete", received: session.received };
    if (session.received < total) return { kind: "incomplete", received: session.received };
    if (session.received > total) {
      throw invalid(
        `Invalid request. The upload received ${session.received} bytes, more than the declared ${total}.`,
      );
    }
    return { kind: "complete", data: Buffer.concat(session.chunks) };
  }

  finish(session: Session, object: StoredObject): void {
    session.done = object;
    session.chunks = [];
  }

  drop(session: Session): void {
    this.sessions.delete(session.id);
  }
}

interface ContentRange {
  start?: number;
  total?: number;
  /** True when the body runs to the end of the object (`A-*`, or no header). */
  rest: boolean;
}

function parseContentRange(header: string | undefined): ContentRange {
  if (header === undefined || header.trim() === "") return { start: 0, rest: true };
  const match = /^bytes (\*|(\d+)-(\d+|\*))\/(\*|\d+)$/.exec(header.trim());
  if (!match) throw invalid(`Invalid Content-Range: ${header}`);
  const total = match[4] === "*" ? undefined : Number(match[4]);
  if (match[1] === "*") return total === undefined ? { rest: false } : { total, rest: false };
  const range: ContentRange = { start: Number(match[2]), rest: match[3] === "*" };
  if (total !== undefined) range.total = total;
  return range;
}

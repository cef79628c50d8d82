// Reading a request body within a byte limit, from the stream itself.
//
// Invariant: at most `limit` bytes (plus the one chunk that crosses it) are ever held in
// memory; a declared Content-Length over the limit is refused before a byte is read, and
// a body without one (chunked) is refused at the first chunk that crosses the limit. The
// caller answers 413 and closes the connection, so the rest is never read.
import type { Readable } from "node:stream";

export type BodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; problem: "too_large"; bytes: number }
  | { ok: false; problem: "aborted" };

/** A Content-Length header as a number; null when absent or not a plain decimal. */
export function declaredLength(header: string | undefined): number | null {
  return header !== undefined && /^\d+$/.test(header.trim()) ? Number(header.trim()) : null;
}

export function readLimited(
  stream: Readable,
  limit: number,
  contentLength: number | null,
): Promise<BodyResult> {
  if (contentLength !== null && contentLength > limit) {
    return Promise.resolve({ ok: false, problem: "too_large", bytes: contentLength });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const finish = (result: BodyResult) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onAbort);
      stream.off("close", onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit) {
        stream.pause();
        finish({ ok: false, problem: "too_large", bytes });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, body: Buffer.concat(chunks, bytes) });
    const onAbort = () => finish({ ok: false, problem: "aborted" });
    // 'close' before 'end': the client went away mid-body.
    const onClose = () => {
      if (!stream.readableEnded) onAbort();
    };
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onAbort);
    stream.on("close", onClose);
  });
}

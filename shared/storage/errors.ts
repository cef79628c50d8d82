// Cloud Storage failures → our error kinds (a table, like the Vertex one).
import { DispatchError, type ThrowableKind } from "../errors.js";

/** HTTP status → kind for calls on the dispatcher's own buckets (state, config). */
export function storageKind(status: number | undefined): ThrowableKind {
  if (status === undefined) return "storage_unavailable"; // connection reset, DNS, timeout
  if (status === 408 || status === 429 || status >= 500) return "storage_unavailable";
  return "storage_rejected";
}

export function httpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

export function storageError(err: unknown, doing: string): DispatchError {
  if (err instanceof DispatchError) return err;
  const status = httpStatus(err);
  const text = err instanceof Error ? err.message : String(err);
  return new DispatchError(
    storageKind(status),
    `Cloud Storage ${doing} failed${status ? ` (${status})` : ""}: ${text}`,
    {
      cause: err,
    },
  );
}

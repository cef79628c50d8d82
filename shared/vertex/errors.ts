// Vertex (gRPC) status codes → our error kinds. Retryability is this table, nothing else.
//
// "Ambiguous" codes are those after which a CreateCustomJob may still have created the
// job: the caller MUST look the job up by its launch-id label before creating again.
import { DispatchError, type ThrowableKind } from "../errors.js";

export const GRPC_CODES = {
  0: "OK",
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
} as const;

/** What each gRPC status means for a launch: its error kind, and whether a create may have happened anyway. */
export const VERTEX_STATUS_TABLE: Record<number, { kind: ThrowableKind; ambiguous: boolean }> = {
  1: { kind: "vertex_unavailable", ambiguous: true },
  2: { kind: "vertex_unavailable", ambiguous: true },
  3: { kind: "vertex_rejected", ambiguous: false },
  4: { kind: "vertex_unavailable", ambiguous: true },
  5: { kind: "vertex_rejected", ambiguous: false },
  6: { kind: "vertex_rejected", ambiguous: false },
  7: { kind: "vertex_rejected", ambiguous: false },
  8: { kind: "vertex_unavailable", ambiguous: false },
  9: { kind: "vertex_rejected", ambiguous: false },
  10: { kind: "vertex_unavailable", ambiguous: false },
  11: { kind: "vertex_rejected", ambiguous: false },
  12: { kind: "vertex_rejected", ambiguous: false },
  13: { kind: "vertex_unavailable", ambiguous: true },
  14: { kind: "vertex_unavailable", ambiguous: true },
  15: { kind: "vertex_unavailable", ambiguous: true },
  // Our own credentials failed: retry, in case they are being refreshed; Pub/Sub's
  // dead-letter policy bounds how long.
  16: { kind: "vertex_unavailable", ambiguous: false },
};

/** Turns whatever the Vertex client threw into a DispatchError of the right kind. */
export function vertexError(err: unknown, doing: string): DispatchError {
  if (err instanceof DispatchError) return err;
  const code =
    typeof (err as { code?: unknown })?.code === "number" ? (err as { code: number }).code : 2;
  const entry = VERTEX_STATUS_TABLE[code] ?? { kind: "vertex_unavailable", ambiguous: true };
  const name = GRPC_CODES[code as keyof typeof GRPC_CODES] ?? `code ${code}`;
  const details = (err as { details?: unknown })?.details;
  const text =
    typeof details === "string" && details
      ? details
      : err instanceof Error
        ? err.message
        : String(err);
  return new DispatchError(entry.kind, `Vertex AI ${doing} failed with ${name}: ${text}`, {
    cause: err,
  });
}

/** Whether a failed call may still have taken effect on the server (see the table). */
export function isAmbiguous(err: unknown): boolean {
  // Our own error with nothing beneath it was thrown before any request went out (a create
  // not sent, a lease that changed): nothing can have taken effect.
  if (err instanceof DispatchError && err.cause === undefined) return false;
  const source = err instanceof DispatchError ? err.cause : err;
  const code = (source as { code?: unknown } | undefined)?.code;
  return typeof code === "number" ? (VERTEX_STATUS_TABLE[code]?.ambiguous ?? true) : true;
}

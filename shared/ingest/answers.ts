// What the ingest function answers: a status, a JSON body and a few headers. W&B shows
// the status (and the body) of each delivery in the automation's history, so every
// refusal says what was wrong and how to fix it. Invariant: no answer carries a token,
// a secret or a signature (they are never put into one).
import type { Issue } from "../errors.js";

/** Why a request was refused; ingest-local, not the dispatcher's error table. */
export type RefusalKind =
  | "not_configured"
  | "method_not_allowed"
  | "unauthorized"
  | "unsupported_media_type"
  | "payload_too_large"
  | "invalid_message"
  | "pubsub_unavailable"
  | "shutting_down";

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

export function refusal(
  status: number,
  kind: RefusalKind,
  message: string,
  issues: Issue[] = [],
  headers?: Record<string, string>,
): Answer {
  return {
    status,
    body: { error: { kind, message, issues } },
    ...(headers ? { headers } : {}),
  };
}

export function accepted(fields: {
  message_id: string;
  run_id: string;
  queue: string;
  launch_id: string;
}): Answer {
  return { status: 202, body: fields };
}

/** The refusal's kind, for log lines (undefined for a 2xx). */
export function kindOf(answer: Answer): string | undefined {
  const error = answer.body.error as { kind?: string } | undefined;
  return error?.kind;
}

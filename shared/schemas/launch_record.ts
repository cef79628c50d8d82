// A launch record: one JSON object per launch in the state bucket, the dispatcher's
// memory of what it did. Written only with generation preconditions.
//
// Paths: `launches/{queue}/{run_id}.json` for every launch that named a queue and got a
// run id; `rejected/{launch_id}.json` for messages too broken to name one.
import { z } from "zod";
import { LAUNCH_STATES, StatusEventSchema } from "./status_event.js";

/** The launch states of SPEC §7, plus `dispatching`: a lease holder is creating the job (never an event's state). */
export const RECORD_STATES = ["dispatching", ...LAUNCH_STATES] as const;
export type RecordState = (typeof RECORD_STATES)[number];

/** States after which nothing more happens to a launch. */
export const FINAL_STATES: ReadonlySet<RecordState> = new Set([
  "finished",
  "failed",
  "preempted",
  "stopped",
  "rejected",
]);
/** States in which a Vertex job exists and is being watched by the poll function. */
export const WATCHED_STATES: ReadonlySet<RecordState> = new Set([
  "submitted",
  "starting",
  "running",
  "unknown",
]);

export const RecordErrorSchema = z.object({
  kind: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).default([]),
});
export type RecordError = z.infer<typeof RecordErrorSchema>;

export const LaunchRecordSchema = z.object({
  version: z.literal(1),
  launch_id: z.string(),
  idempotency_key: z.string(),
  queue: z.string().nullable(),
  entity: z.string().nullable(),
  project: z.string().nullable(),
  run_id: z.string().nullable(),
  state: z.enum(RECORD_STATES),
  priority: z.number().int().min(0).max(3),
  attempt: z.number().int().min(1),
  job_name: z.string().nullable(),
  vertex_state: z.string().nullable(),
  console_url: z.string().nullable(),
  error: RecordErrorSchema.nullable(),
  warnings: z.array(z.string()),
  /** Who is dispatching this launch right now, and until when; null when nobody is. */
  lease: z.object({ holder: z.string(), expires_at: z.string() }).nullable(),
  /**
   * The Pub/Sub message id of the delivery that claimed the launch last: a redelivery of
   * the message that got a launch rejected is a duplicate, a new message tries it again.
   */
  message_id: z.string().nullable().default(null),
  /** The launch message as received (it holds no dispatcher secret), kept for the backlog and retries. */
  message: z.record(z.string(), z.unknown()).nullable(),
  /**
   * An event written with the change it reports, before it is published (poll and cancel):
   * whoever finds it after `until` publishes it and clears it, so a change is never left
   * unreported, and overlapping ticks never both publish it.
   */
  outbox: z.object({ event: StatusEventSchema, until: z.string() }).nullable().default(null),
  /** Jobs of earlier attempts (preemption retries). */
  previous_jobs: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type LaunchRecord = z.infer<typeof LaunchRecordSchema>;

/** The idempotency key of one attempt: attempt 1 is the launch's own; a resubmission gets its own label set. */
export function attemptKey(record: Pick<LaunchRecord, "idempotency_key" | "attempt">): string {
  return record.attempt === 1
    ? record.idempotency_key
    : `${record.idempotency_key}#attempt-${record.attempt}`;
}

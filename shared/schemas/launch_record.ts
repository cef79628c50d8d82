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
  kind: z.string().describe("Error kind (shared/errors.ts), e.g. invalid_config, job_failed."),
  message: z.string().describe("What went wrong, for people."),
  issues: z
    .array(
      z.object({
        path: z.string().describe("Path of the bad field; empty for the whole input."),
        message: z.string().describe("What is wrong there and how to fix it."),
      }),
    )
    .default([])
    .describe("Every problem found, each with its path."),
});
export type RecordError = z.infer<typeof RecordErrorSchema>;

export const LaunchRecordSchema = z.object({
  version: z.literal(1).describe("Record format version."),
  launch_id: z
    .string()
    .describe("20 hex characters of SHA-256 of the idempotency key; the job's launch-id label."),
  idempotency_key: z
    .string()
    .describe(
      "The key that makes the launch exactly-once (attribute, queue/entity/project/run_id, or message id).",
    ),
  queue: z
    .string()
    .nullable()
    .describe("The launch's queue; null for a message too broken to name one."),
  entity: z.string().nullable().describe("W&B entity; null when unknown."),
  project: z.string().nullable().describe("W&B project; null when unknown."),
  run_id: z.string().nullable().describe("W&B run id; null when unknown."),
  state: z
    .enum(RECORD_STATES)
    .describe("The launch's state; dispatching while a lease holder creates the job."),
  priority: z.number().int().min(0).max(3).describe("0-3, 0 highest: backlog order."),
  attempt: z
    .number()
    .int()
    .min(1)
    .describe("1 for the first submission, +1 per resubmission after preemption."),
  job_name: z
    .string()
    .nullable()
    .describe("projects/P/locations/R/customJobs/ID; null until the job exists."),
  vertex_state: z
    .string()
    .nullable()
    .describe("Last Vertex job state seen (JOB_STATE_*); null before."),
  console_url: z
    .string()
    .nullable()
    .describe("The job's page in the Google Cloud console; null until the job exists."),
  error: RecordErrorSchema.nullable().describe(
    "Why the launch was rejected or failed; null otherwise.",
  ),
  warnings: z.array(z.string()).describe("Warnings from resolution and preflight."),
  /** Who is dispatching this launch right now, and until when; null when nobody is. */
  lease: z
    .object({
      holder: z.string().describe("Unique id of the instance dispatching the launch."),
      expires_at: z.string().describe("ISO 8601 UTC time the lease ends."),
    })
    .nullable()
    .describe("Who is dispatching this launch right now, and until when; null when nobody is."),
  message_id: z
    .string()
    .nullable()
    .default(null)
    .describe(
      "Pub/Sub message id of the delivery that claimed the launch last: a redelivery of the message that got a launch rejected is a duplicate, a new message tries it again.",
    ),
  /** The launch message as received (it holds no dispatcher secret), kept for the backlog and retries. */
  message: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe(
      "The launch message as received, kept for the backlog and retries; null for an unreadable one.",
    ),
  /**
   * An event written with the change it reports, before it is published (poll and cancel):
   * whoever finds it after `until` publishes it and clears it, so a change is never left
   * unreported, and overlapping ticks never both publish it.
   */
  outbox: z
    .object({
      event: StatusEventSchema.describe("The status event to publish."),
      until: z.string().describe("ISO 8601 UTC time after which anyone who finds it publishes it."),
    })
    .nullable()
    .default(null)
    .describe(
      "An event written with the change it reports, before it is published; null when none is pending.",
    ),
  /** Jobs of earlier attempts (preemption retries). */
  previous_jobs: z
    .array(z.string())
    .describe("Job names of earlier attempts (preemption retries)."),
  created_at: z.string().describe("ISO 8601 UTC time the record was created."),
  updated_at: z.string().describe("ISO 8601 UTC time of the last change."),
});
export type LaunchRecord = z.infer<typeof LaunchRecordSchema>;

/** The idempotency key of one attempt: attempt 1 is the launch's own; a resubmission gets its own label set. */
export function attemptKey(record: Pick<LaunchRecord, "idempotency_key" | "attempt">): string {
  return record.attempt === 1
    ? record.idempotency_key
    : `${record.idempotency_key}#attempt-${record.attempt}`;
}

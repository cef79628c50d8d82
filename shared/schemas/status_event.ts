// A status event on topic `launch-status` (SPEC §7): one per state change of a launch.
// This schema is the single source of truth for its shape; the type is inferred.
import { z } from "zod";

/** Every launch state: Vertex-derived ones plus the dispatcher's own (queued, submitted, rejected). */
export const LAUNCH_STATES = [
  "queued",
  "submitted",
  "starting",
  "running",
  "finished",
  "failed",
  "preempted",
  "stopped",
  "rejected",
  "unknown",
] as const;
export const LaunchStateSchema = z.enum(LAUNCH_STATES);
export type LaunchState = z.output<typeof LaunchStateSchema>;

const IssueSchema = z.strictObject({
  path: z
    .string()
    .describe(
      "Path of the bad field, e.g. spec.worker_pool_specs[0].machine_spec; empty for the whole input.",
    ),
  message: z.string().describe("What is wrong there and how to fix it."),
});

/** The error of a rejected or failed launch (a DispatchError's `toJSON()`, or Vertex's job error). */
export const StatusErrorSchema = z.strictObject({
  kind: z
    .string()
    .min(1)
    .describe(
      "Error kind: invalid_message, invalid_config, preflight_failed, vertex_rejected, job_failed, ...",
    ),
  message: z.string().describe("What went wrong, for people."),
  retryable: z.boolean().optional().describe("Whether the dispatcher retries this kind of error."),
  issues: z
    .array(IssueSchema)
    .default([])
    .describe("Every problem found, each with its path (config or message errors)."),
});

export const StatusEventSchema = z.strictObject({
  launch_id: z
    .string()
    .min(1)
    .describe("20 hex characters of SHA-256 of the idempotency key; the job's launch-id label."),
  queue: z.string().nullable().describe("The launch's queue; null when the message named none."),
  entity: z.string().nullable().describe("W&B entity; null when unknown."),
  project: z.string().nullable().describe("W&B project; null when unknown."),
  run_id: z.string().nullable().describe("W&B run id; null when unknown."),
  state: LaunchStateSchema.describe("The launch's new state."),
  previous_state: LaunchStateSchema.nullable().describe(
    "The state before this change; null for the first event.",
  ),
  /** `JOB_STATE_*` name from Vertex, null before the job is observed. */
  vertex_state: z
    .string()
    .nullable()
    .describe("Vertex job state (JOB_STATE_*); null before the job is observed."),
  /** `projects/P/locations/R/customJobs/ID`, null until the job exists. */
  job_name: z
    .string()
    .nullable()
    .describe("projects/P/locations/R/customJobs/ID; null until the job exists."),
  console_url: z
    .string()
    .nullable()
    .describe("The job's page in the Google Cloud console; null until the job exists."),
  error: StatusErrorSchema.nullable().describe(
    "Why the launch was rejected or failed; null otherwise.",
  ),
  /** Warnings from resolution and preflight (e.g. an image outside Google's registries); empty when none. */
  warnings: z
    .array(z.string())
    .default([])
    .describe("Warnings from resolution and preflight; empty when none."),
  /** 1 for the first submission, +1 per resubmission after preemption. */
  attempt: z
    .number()
    .int()
    .min(0)
    .describe("1 for the first submission, +1 per resubmission after preemption."),
  /** ISO 8601 UTC time of the change. */
  time: z.iso.datetime().describe("ISO 8601 UTC time of the change."),
});
export type StatusEvent = z.output<typeof StatusEventSchema>;

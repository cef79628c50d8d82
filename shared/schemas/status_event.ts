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

const IssueSchema = z.strictObject({ path: z.string(), message: z.string() });

/** The error of a rejected or failed launch (a DispatchError's `toJSON()`, or Vertex's job error). */
export const StatusErrorSchema = z.strictObject({
  kind: z.string().min(1),
  message: z.string(),
  retryable: z.boolean().optional(),
  issues: z.array(IssueSchema).default([]),
});

export const StatusEventSchema = z.strictObject({
  launch_id: z.string().min(1),
  queue: z.string().nullable(),
  entity: z.string().nullable(),
  project: z.string().nullable(),
  run_id: z.string().nullable(),
  state: LaunchStateSchema,
  previous_state: LaunchStateSchema.nullable(),
  /** `JOB_STATE_*` name from Vertex, null before the job is observed. */
  vertex_state: z.string().nullable(),
  /** `projects/P/locations/R/customJobs/ID`, null until the job exists. */
  job_name: z.string().nullable(),
  console_url: z.string().nullable(),
  error: StatusErrorSchema.nullable(),
  /** Warnings from resolution and preflight (e.g. an image outside Google's registries); empty when none. */
  warnings: z.array(z.string()).default([]),
  /** 1 for the first submission, +1 per resubmission after preemption. */
  attempt: z.number().int().min(0),
  /** ISO 8601 UTC time of the change. */
  time: z.iso.datetime(),
});
export type StatusEvent = z.output<typeof StatusEventSchema>;

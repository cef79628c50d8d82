// What one tick decides for one launch, as pure functions: the job view (from
// ListCustomJobs) and the marker or record in, the next transition out.

import { withState } from "../launch/record.js";
import type { Step } from "../launch/table.js";
import type { LaunchRecord, RecordState } from "../schemas/launch_record.js";
import type { QueueConfig } from "../schemas/queue_config.js";
import type { ActiveEntry } from "../storage/active_index.js";
import type { JobSummary } from "../vertex/jobs.js";
import { CANCELLED_VERTEX_STATES, launchStateOf, NOT_STARTED_VERTEX_STATES } from "./states.js";

export const DEFAULT_START_TIMEOUT = 1800;
/** A job missing from Vertex this long after its record changed is taken as deleted. */
export const MISSING_GRACE_MS = 5 * 60 * 1000;

export type Change =
  | { kind: "state"; state: RecordState }
  | { kind: "timeout"; seconds: number }
  | { kind: "retry" }
  | { kind: "missing" };

/** What the job says happened, compared with what the marker last recorded; null: nothing. */
export function changeOf(
  entry: Pick<ActiveEntry, "state" | "attempt">,
  job: JobSummary | null,
  config: QueueConfig | null,
  now: Date,
): Change | null {
  if (!job) return { kind: "missing" };
  const state = launchStateOf(job.state, job.error);
  const startTimeout = config?.start_timeout ?? DEFAULT_START_TIMEOUT;
  const age = job.createTime ? (now.getTime() - Date.parse(job.createTime)) / 1000 : 0;
  // A job that never started and is past its start timeout: still waiting, or already
  // being cancelled by a tick whose recording of it did not finish.
  const neverStarted =
    NOT_STARTED_VERTEX_STATES.has(job.state) ||
    (CANCELLED_VERTEX_STATES.has(job.state) && job.startTime === null);
  if (neverStarted && age > startTimeout) return { kind: "timeout", seconds: startTimeout };
  if (state === "preempted" && entry.attempt - 1 < (config?.max_retries ?? 0))
    return { kind: "retry" };
  if (state !== entry.state) return { kind: "state", state };
  return null;
}

export interface Decision {
  step: Extract<Step, "observe" | "end">;
  next: LaunchRecord;
  /** A job to cancel before the change is recorded (a start timeout). */
  cancel: string | null;
}

/** The record after `change` (not a retry), as the table row that makes it. */
export function decide(
  rec: LaunchRecord,
  change: Exclude<Change, { kind: "retry" }>,
  job: JobSummary | null,
  now: Date,
): Decision | null {
  const end = (next: LaunchRecord, cancel: string | null = null): Decision => ({
    step: "end",
    next,
    cancel,
  });
  if (change.kind === "missing") {
    const message = `job ${rec.job_name} is no longer in Vertex AI (deleted?); the launch is recorded as failed`;
    return end(
      withState(rec, "failed", now, { error: { kind: "job_failed", message, issues: [] } }),
    );
  }
  if (!job) return null;
  if (change.kind === "timeout") {
    const message = `the job did not start within start_timeout (${change.seconds} s; Vertex state ${job.state}) and was cancelled: raise start_timeout in the queue config, or ask for capacity that is available (another region, machine type, or scheduling_strategy FLEX_START)`;
    const next = withState(rec, "failed", now, {
      vertex_state: job.state,
      error: { kind: "start_timeout", message, issues: [] },
    });
    return end(next, CANCELLED_VERTEX_STATES.has(job.state) ? null : job.name);
  }
  const ended = change.state === "failed" || change.state === "preempted";
  const error = ended
    ? {
        kind: change.state === "preempted" ? "job_preempted" : "job_failed",
        message: job.error?.message ?? `job ended in ${job.state}`,
        issues: [],
      }
    : rec.error;
  const next = withState(rec, change.state, now, { vertex_state: job.state, error });
  const final = ["finished", "failed", "preempted", "stopped"].includes(change.state);
  return final ? end(next) : { step: "observe", next, cancel: null };
}

/** A preempted attempt with retries left: the `preempted` record its event reports, and the next attempt's. */
export function retryOf(rec: LaunchRecord, job: JobSummary, now: Date) {
  const error = { kind: "job_preempted", message: job.error?.message ?? "preempted", issues: [] };
  const preempted = withState(rec, "preempted", now, { vertex_state: job.state, error });
  const next = withState(preempted, "dispatching", now, {
    attempt: rec.attempt + 1,
    job_name: null,
    vertex_state: null,
    console_url: null,
    previous_jobs: [...rec.previous_jobs, job.name],
    lease: null,
  });
  return { preempted, next };
}

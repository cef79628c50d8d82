// Vertex job state → launch state (SPEC §7), and how a failed job is told apart from a
// preempted one. Pure data and pure functions.
import type { RecordState } from "../schemas/launch_record.js";

export const VERTEX_TO_LAUNCH: Record<string, RecordState> = {
  JOB_STATE_QUEUED: "starting",
  JOB_STATE_PENDING: "starting",
  JOB_STATE_RUNNING: "running",
  JOB_STATE_UPDATING: "running",
  JOB_STATE_SUCCEEDED: "finished",
  JOB_STATE_FAILED: "failed",
  JOB_STATE_EXPIRED: "failed",
  JOB_STATE_PARTIALLY_SUCCEEDED: "failed",
  JOB_STATE_CANCELLING: "stopped",
  JOB_STATE_CANCELLED: "stopped",
  JOB_STATE_PAUSED: "unknown",
  JOB_STATE_UNSPECIFIED: "unknown",
};

/** Vertex states after which a job never changes again. */
export const FINAL_VERTEX_STATES = [
  "JOB_STATE_SUCCEEDED",
  "JOB_STATE_FAILED",
  "JOB_STATE_CANCELLED",
  "JOB_STATE_EXPIRED",
  "JOB_STATE_PARTIALLY_SUCCEEDED",
] as const;

/** Vertex states of a job being or having been cancelled. */
export const CANCELLED_VERTEX_STATES: ReadonlySet<string> = new Set([
  "JOB_STATE_CANCELLING",
  "JOB_STATE_CANCELLED",
]);

/** Vertex states in which a job has not started yet (start_timeout applies). */
export const NOT_STARTED_VERTEX_STATES: ReadonlySet<string> = new Set([
  "JOB_STATE_QUEUED",
  "JOB_STATE_PENDING",
]);

/**
 * Error texts that mean the VM was preempted or capacity was lost, not that the code
 * failed: Spot preemption, stockouts, exhausted zone resources.
 */
export const PREEMPTION_PATTERNS: readonly RegExp[] = [
  /preempt/i,
  /\bstockout\b/i,
  /resources are insufficient/i,
  /ZONE_RESOURCE_POOL_EXHAUSTED/,
  /does not have enough resources available/i,
];

export function launchStateOf(vertexState: string, error: { message: string } | null): RecordState {
  const state = VERTEX_TO_LAUNCH[vertexState] ?? "unknown";
  if (state === "failed" && error && PREEMPTION_PATTERNS.some((p) => p.test(error.message)))
    return "preempted";
  return state;
}

// The life of a CustomJob: QUEUED -> PENDING -> RUNNING -> SUCCEEDED (or FAILED / EXPIRED as
// the job's outcome says), and CANCELLING -> CANCELLED after a cancel. Timestamps follow
// Vertex: createTime and updateTime at creation, startTime when the job starts RUNNING,
// endTime when it reaches a final state, updateTime on every change.
//
// Clock modes:
//   manual  - jobs move only when told (`advance`), for tests;
//   instant - a job runs to its end as soon as the call that created/cancelled it answers;
//   timed   - each state lasts the configured number of seconds (the demo).
import type { JsonObject } from "./json.js";
import type { Outcome, OutcomeKind, StoredJob } from "./store.js";

export type ClockConfig =
  | { mode: "manual" }
  | { mode: "instant" }
  | {
      mode: "timed";
      queuedSeconds?: number;
      pendingSeconds?: number;
      runningSeconds?: number;
      cancellingSeconds?: number;
    };

export const DEFAULT_CLOCK: ClockConfig = {
  mode: "timed",
  queuedSeconds: 1,
  pendingSeconds: 2,
  runningSeconds: 5,
  cancellingSeconds: 1,
};

export const FINAL_STATES = new Set([
  "JOB_STATE_SUCCEEDED",
  "JOB_STATE_FAILED",
  "JOB_STATE_CANCELLED",
  "JOB_STATE_EXPIRED",
  "JOB_STATE_PARTIALLY_SUCCEEDED",
]);

export const OUTCOME_KINDS: OutcomeKind[] = ["succeed", "fail", "preempt", "stockout", "expire"];

/** The error a job ends with for each outcome, by default. */
export function defaultOutcomeError(
  job: StoredJob,
  kind: OutcomeKind,
): { code: number; message: string } {
  switch (kind) {
    case "fail":
      return {
        code: 3,
        message:
          "The replica workerpool0-0 exited with a non-zero status of 1. Termination reason: Error. " +
          "To find out more about why your job exited please check the logs: " +
          `https://console.cloud.google.com/logs/viewer?project=${job.projectNumber}` +
          `&resource=ml_job%2Fjob_id%2F${job.id}&advancedFilter=resource.type%3D%22ml_job%22%0A` +
          `resource.labels.job_id%3D%22${job.id}%22`,
      };
    case "stockout":
      return {
        code: 8,
        message:
          `Resources are insufficient in region: ${job.location}. Please try a different region. ` +
          "If you use K80, please consider using P100 or V100 instead.",
      };
    case "preempt":
      return {
        code: 14,
        message:
          "The replica workerpool0-0 was preempted: its Spot VM was reclaimed by Compute Engine " +
          "(STOCKOUT). Compute Engine tried to restart the job and gave up.",
      };
    case "expire":
      return {
        code: 4,
        message:
          "The job could not get the resources it needs within its maximum wait duration " +
          "(scheduling.max_wait_duration) and expired.",
      };
    default:
      return { code: 0, message: "" };
  }
}

export const CANCELLED_ERROR = { code: 1, message: "CANCELED" };

function isoNow(now: number): string {
  return new Date(now).toISOString();
}

function stepSeconds(clock: ClockConfig, state: string): number {
  if (clock.mode !== "timed") return 0;
  const d = DEFAULT_CLOCK as {
    queuedSeconds: number;
    pendingSeconds: number;
    runningSeconds: number;
    cancellingSeconds: number;
  };
  switch (state) {
    case "JOB_STATE_QUEUED":
      return clock.queuedSeconds ?? d.queuedSeconds;
    case "JOB_STATE_PENDING":
      return clock.pendingSeconds ?? d.pendingSeconds;
    case "JOB_STATE_RUNNING":
      return clock.runningSeconds ?? d.runningSeconds;
    case "JOB_STATE_CANCELLING":
      return clock.cancellingSeconds ?? d.cancellingSeconds;
    default:
      return 0;
  }
}

export class Lifecycle {
  private clock: ClockConfig;
  constructor(
    clock: ClockConfig,
    private readonly onChange: (job: StoredJob, from: string) => void,
  ) {
    this.clock = clock;
  }

  getClock(): ClockConfig {
    return this.clock;
  }

  /** Switches the clock; timers are rebuilt, and in instant mode every live job runs to its end. */
  setClock(clock: ClockConfig, jobs: Iterable<StoredJob>): void {
    this.clock = clock;
    for (const job of jobs) {
      this.clearTimer(job);
      if (this.isFinal(job)) continue;
      if (clock.mode === "instant") this.runToEnd(job);
      else if (clock.mode === "timed") this.schedule(job);
    }
  }

  state(job: StoredJob): string {
    return String(job.json.state ?? "JOB_STATE_UNSPECIFIED");
  }

  isFinal(job: StoredJob): boolean {
    return FINAL_STATES.has(this.state(job));
  }

  /** A new job: QUEUED now; the clock takes it from there once the create call has answered. */
  created(job: StoredJob, now: number): void {
    const t = isoNow(now);
    job.json.state = "JOB_STATE_QUEUED";
    job.json.createTime = t;
    job.json.updateTime = t;
  }

  /** Called after the create/cancel call has taken its snapshot of the job. */
  kick(job: StoredJob): void {
    if (this.clock.mode === "instant") this.runToEnd(job);
    else if (this.clock.mode === "timed") this.schedule(job);
  }

  /** CancelCustomJob on a live job: CANCELLING now, CANCELLED on the next step. */
  cancel(job: StoredJob, now: number): void {
    if (this.state(job) === "JOB_STATE_CANCELLING") return;
    this.clearTimer(job);
    this.set(job, "JOB_STATE_CANCELLING", now);
  }

  /** One step forward; returns false when the job is already final. */
  step(job: StoredJob, now = Date.now()): boolean {
    const state = this.state(job);
    const kind = job.outcome.kind;
    switch (state) {
      case "JOB_STATE_QUEUED":
        this.set(job, "JOB_STATE_PENDING", now);
        return true;
      case "JOB_STATE_PENDING":
        if (kind === "stockout") this.finish(job, "JOB_STATE_FAILED", now);
        else if (kind === "expire") this.finish(job, "JOB_STATE_EXPIRED", now);
        else this.set(job, "JOB_STATE_RUNNING", now);
        return true;
      case "JOB_STATE_RUNNING":
        if (kind === "succeed") this.finish(job, "JOB_STATE_SUCCEEDED", now);
        else if (kind === "expire") this.finish(job, "JOB_STATE_EXPIRED", now);
        else this.finish(job, "JOB_STATE_FAILED", now);
        return true;
      case "JOB_STATE_CANCELLING":
        this.finish(job, "JOB_STATE_CANCELLED", now);
        return true;
      default:
        return false;
    }
  }

  /** Ends a live job at once with its outcome. */
  finishNow(job: StoredJob, now = Date.now()): void {
    if (this.isFinal(job)) return;
    const kind = job.outcome.kind;
    if (this.state(job) === "JOB_STATE_CANCELLING") this.finish(job, "JOB_STATE_CANCELLED", now);
    else if (kind === "succeed") this.finish(job, "JOB_STATE_SUCCEEDED", now);
    else if (kind === "expire") this.finish(job, "JOB_STATE_EXPIRED", now);
    else this.finish(job, "JOB_STATE_FAILED", now);
  }

  setOutcome(job: StoredJob, outcome: Outcome): void {
    job.outcome = outcome;
  }

  clearTimer(job: StoredJob): void {
    if (job.timer) clearTimeout(job.timer);
    job.timer = null;
  }

  private runToEnd(job: StoredJob): void {
    const now = Date.now();
    while (this.step(job, now)) {
      /* each step records its own state change */
    }
  }

  private schedule(job: StoredJob): void {
    this.clearTimer(job);
    if (this.isFinal(job) || this.clock.mode !== "timed") return;
    const ms = stepSeconds(this.clock, this.state(job)) * 1000;
    job.timer = setTimeout(() => {
      job.timer = null;
      this.step(job);
    }, ms);
    job.timer.unref();
  }

  private set(job: StoredJob, state: string, now: number): void {
    const from = this.state(job);
    const t = isoNow(now);
    job.json.state = state;
    job.json.updateTime = t;
    if (state === "JOB_STATE_RUNNING" && job.json.startTime === undefined) job.json.startTime = t;
    this.onChange(job, from);
    this.schedule(job);
  }

  private finish(job: StoredJob, state: string, now: number): void {
    const from = this.state(job);
    const t = isoNow(now);
    job.json.state = state;
    job.json.updateTime = t;
    job.json.endTime = t;
    if (state === "JOB_STATE_CANCELLED") {
      job.json.error = { ...CANCELLED_ERROR } as JsonObject;
    } else if (state !== "JOB_STATE_SUCCEEDED") {
      const fallback = defaultOutcomeError(
        job,
        job.outcome.kind === "succeed" ? "fail" : job.outcome.kind,
      );
      job.json.error = {
        code: job.outcome.code ?? fallback.code,
        message: job.outcome.message ?? fallback.message,
      };
    }
    this.clearTimer(job);
    this.onChange(job, from);
  }
}

// One watched launch in one tick: compare its job with its marker, and when they differ,
// read the record and make the change the pure decision names (./decide.ts) through
// commit(): one event per change, even when ticks overlap or a tick is redelivered.
import { isRetryable } from "../errors.js";
import { commit } from "../launch/commit.js";
import type { Logger } from "../log.js";
import type { QueueConfig } from "../schemas/queue_config.js";
import type { ActiveEntry } from "../storage/active_index.js";
import type { StoredRecord } from "../storage/launch_store.js";
import type { JobSummary } from "../vertex/jobs.js";
import { changeOf, decide, MISSING_GRACE_MS, retryOf } from "./decide.js";
import type { PollDeps, TickSummary } from "./deps.js";
import { readSettled, releaseIfFinal, resume } from "./resume.js";

export async function observe(
  entry: ActiveEntry,
  job: JobSummary | null,
  config: QueueConfig | null,
  deps: PollDeps,
  summary: TickSummary,
): Promise<void> {
  const now = deps.now();
  const change = changeOf(entry, job, config, now);
  if (!change) return;
  const stored = await readSettled(entry, deps);
  if (!stored || (await releaseIfFinal(entry, stored, deps))) return;
  const rec = stored.record;
  if (rec.state === "dispatching") {
    // A resubmission whose holder failed (lease released or expired): take it over.
    if ((await resume(stored, deps)) === "dispatched") summary.resumed++;
    return;
  }
  if (rec.job_name !== entry.job_name || rec.state !== entry.state) {
    // The record moved on since this tick listed the markers (another tick, a cancel):
    // this tick's view of the job may be older than the record, so it decides nothing.
    await deps.active.put(rec);
    return;
  }
  if (change.kind === "missing" && now.getTime() - Date.parse(rec.updated_at) < MISSING_GRACE_MS)
    return;
  const log = deps.log.with({
    launch_id: rec.launch_id,
    queue: rec.queue,
    run_id: rec.run_id,
    job_name: rec.job_name,
    attempt: rec.attempt,
  });
  summary.changes++;
  if (change.kind === "retry") {
    if (job) await resubmit(stored, job, log, deps);
    if (job) summary.resubmitted++;
    return;
  }
  const decision = decide(rec, change, job, now);
  if (!decision) return;
  if (change.kind === "timeout") summary.timedOut++;
  if (decision.cancel) await cancelQuietly(decision.cancel, deps, log);
  const out = await commit(stored, decision.next, { step: decision.step, by: "poll" }, deps);
  if (out === "conflict") {
    log.debug("poll: another worker made this change; not publishing it again");
    return;
  }
  log.info(`launch ${rec.state} -> ${decision.next.state}`, {
    state: decision.next.state,
    previous_state: rec.state,
    vertex_state: decision.next.vertex_state,
  });
}

/** A preempted job with retries left: record `preempted` (its event), then submit the next attempt under a new label set. */
async function resubmit(stored: StoredRecord, job: JobSummary, log: Logger, deps: PollDeps) {
  const { preempted, next } = retryOf(stored.record, job, deps.now());
  // The write carries the `preempted` event of this attempt; the next attempt is driven
  // only once it is out (if publishing fails, a later tick delivers it, then resumes).
  const out = await commit(stored, next, { step: "retry", by: "poll", reports: preempted }, deps);
  if (out === "conflict") return;
  log.warning(`job preempted; resubmitting as attempt ${next.attempt}`, { previous_job: job.name });
  await resume(out, deps);
}

async function cancelQuietly(jobName: string, deps: PollDeps, log: Logger): Promise<void> {
  try {
    await deps.jobs.cancel(jobName);
  } catch (err) {
    // A job that ended meanwhile cannot be cancelled; anything retryable fails this launch's tick.
    if (isRetryable(err)) throw err;
    log.warning(`poll: Vertex refused to cancel ${jobName}: ${(err as Error).message}`);
  }
}

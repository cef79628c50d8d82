// The poll core: one tick reads the state of every active launch with a bounded number
// of Vertex calls, publishes one status event per change, cancels launches that never
// started, resubmits preempted ones, and drains backlogs.
//
// Invariants:
//  - Vertex calls per tick: one ListCustomJobs page per POLL_PAGE_SIZE active jobs (jobs
//    not yet final), plus one filtered list per 50 jobs that became final since the last
//    tick. Never one GetCustomJob per job.
//  - One event per change, even when ticks overlap or a tick is redelivered: the
//    generation-matched record update claims the change, and only its winner publishes.
//    A record is left in a new state only once its event is out: if publishing fails,
//    the winner puts the old state back, so a later tick makes the change again.
//  - The record is the truth; markers are hints, mended when they disagree.

import { type DispatchDeps, driveLaunch } from "../dispatch/dispatch.js";
import { DispatchError } from "../errors.js";
import type { Logger } from "../log.js";
import {
  FINAL_STATES,
  type LaunchRecord,
  type RecordState,
  WATCHED_STATES,
} from "../schemas/launch_record.js";
import { parseLaunchMessage } from "../schemas/message.js";
import type { QueueConfig } from "../schemas/queue_config.js";
import { statusEvent } from "../status.js";
import type { ActiveEntry } from "../storage/active_index.js";
import type { StoredRecord } from "../storage/launch_store.js";
import type { JobSummary } from "../vertex/jobs.js";
import { FINAL_VERTEX_STATES, launchStateOf, NOT_STARTED_VERTEX_STATES } from "./states.js";

export interface PollDeps extends DispatchDeps {
  pageSize: number;
}

export interface TickSummary {
  active: number;
  vertexCalls: number;
  changes: number;
  timedOut: number;
  resubmitted: number;
  drained: number;
  errors: number;
}

const FINAL_LOOKUP_BATCH = 50;
const DEFAULT_START_TIMEOUT = 1800;
/** A job missing from Vertex this long after its record changed is taken as deleted. */
const MISSING_GRACE_MS = 5 * 60 * 1000;

export async function runTick(deps: PollDeps): Promise<TickSummary> {
  const summary: TickSummary = {
    active: 0,
    vertexCalls: 0,
    changes: 0,
    timedOut: 0,
    resubmitted: 0,
    drained: 0,
    errors: 0,
  };
  const entries = await deps.active.list();
  summary.active = entries.length;
  const watched = entries.filter((e) => WATCHED_STATES.has(e.state as RecordState) && e.job_name);
  const jobs = await observeJobs(watched, deps, summary);
  const configs = new Map<string, QueueConfig | null>();
  const configOf = async (queue: string) => {
    if (!configs.has(queue)) {
      try {
        configs.set(queue, await deps.queues.load(queue));
      } catch (err) {
        deps.log.warning(`poll: cannot load queue config ${queue}; using the defaults`, {
          error: err,
        });
        configs.set(queue, null);
      }
    }
    return configs.get(queue) ?? null;
  };

  for (const entry of watched) {
    const job = jobs.get(entry.job_name ?? "");
    try {
      await observe(entry, job ?? null, await configOf(entry.queue), deps, summary);
    } catch (err) {
      summary.errors++;
      deps.log.error(`poll: could not update launch ${entry.queue}/${entry.run_id}`, {
        error: err,
        launch_id: entry.launch_id,
      });
    }
  }
  await drainBacklogs(
    entries.filter((e) => e.state === "queued"),
    configOf,
    deps,
    summary,
  );
  deps.log.info("poll tick done", { ...summary });
  return summary;
}

/** Lists the jobs of every watched launch: non-final ones by page, recently final ones by label. */
async function observeJobs(
  watched: ActiveEntry[],
  deps: PollDeps,
  summary: TickSummary,
): Promise<Map<string, JobSummary>> {
  const byParent = new Map<string, ActiveEntry[]>();
  for (const e of watched) {
    const parent = (e.job_name ?? "").replace(/\/customJobs\/[^/]+$/, "");
    byParent.set(parent, [...(byParent.get(parent) ?? []), e]);
  }
  const jobs = new Map<string, JobSummary>();
  /** Every page of one filtered ListCustomJobs into `jobs`, counting the calls. */
  const listAll = async (parent: string, filter: string) => {
    let pageToken: string | undefined;
    do {
      const page = await deps.jobs.listPage(
        parent,
        `labels.managed-by="vertex-dispatch" AND ${filter}`,
        deps.pageSize,
        pageToken,
      );
      summary.vertexCalls++;
      for (const j of page.jobs) jobs.set(j.name, j);
      pageToken = page.nextPageToken;
    } while (pageToken);
  };
  const notFinal = FINAL_VERTEX_STATES.map((s) => `state!="${s}"`).join(" AND ");
  for (const [parent, group] of byParent) {
    await listAll(parent, notFinal);
    // The rest ended since we last looked (or are not listed yet): find them by their label.
    const missing = group.filter((e) => !jobs.has(e.job_name ?? ""));
    for (let i = 0; i < missing.length; i += FINAL_LOOKUP_BATCH) {
      const batch = missing.slice(i, i + FINAL_LOOKUP_BATCH);
      await listAll(
        parent,
        `(${batch.map((e) => `labels.launch-id="${e.job_label}"`).join(" OR ")})`,
      );
    }
  }
  return jobs;
}

type Change =
  | { kind: "state"; state: RecordState }
  | { kind: "timeout"; seconds: number }
  | { kind: "retry" }
  | { kind: "missing" };

async function observe(
  entry: ActiveEntry,
  job: JobSummary | null,
  config: QueueConfig | null,
  deps: PollDeps,
  summary: TickSummary,
): Promise<void> {
  const now = deps.now();
  let change: Change | null = null;
  if (!job) {
    change = { kind: "missing" };
  } else {
    const state = launchStateOf(job.state, job.error);
    const startTimeout = config?.start_timeout ?? DEFAULT_START_TIMEOUT;
    const age = job.createTime ? (now.getTime() - Date.parse(job.createTime)) / 1000 : 0;
    if (NOT_STARTED_VERTEX_STATES.has(job.state) && age > startTimeout)
      change = { kind: "timeout", seconds: startTimeout };
    else if (state === "preempted" && entry.attempt - 1 < (config?.max_retries ?? 0))
      change = { kind: "retry" };
    else if (state !== entry.state) change = { kind: "state", state };
  }
  if (!change) return;

  const stored = await deps.store.read(`launches/${entry.queue}/${entry.run_id}.json`);
  if (!stored) {
    await deps.active.remove(entry.queue, entry.run_id);
    return;
  }
  const rec = stored.record;
  // Mend markers that disagree with their record; someone else made (or is making) the change.
  if (FINAL_STATES.has(rec.state)) {
    await deps.active.remove(entry.queue, entry.run_id);
    return;
  }
  if (rec.state === "dispatching") {
    // A resubmission whose holder failed (lease released or expired): take it over.
    await resume(stored, deps);
    return;
  }
  if (rec.job_name !== entry.job_name) return;
  if (change.kind === "missing") {
    if (now.getTime() - Date.parse(rec.updated_at) < MISSING_GRACE_MS) return;
  }
  if (change.kind === "state" && rec.state === change.state) {
    await deps.active.put(rec);
    return;
  }
  const log = deps.log.with({
    launch_id: rec.launch_id,
    queue: rec.queue,
    run_id: rec.run_id,
    job_name: rec.job_name,
    attempt: rec.attempt,
  });
  summary.changes++;

  if (change.kind === "retry" && job) {
    await resubmit(stored, job, log, deps);
    summary.resubmitted++;
    return;
  }
  let next: LaunchRecord;
  if (change.kind === "timeout" && job) {
    await cancelQuietly(job.name, deps, log);
    summary.timedOut++;
    const message = `the job did not start within start_timeout (${change.seconds} s; Vertex state ${job.state}) and was cancelled: raise start_timeout in the queue config, or ask for capacity that is available (another region, machine type, or scheduling_strategy FLEX_START)`;
    next = withState(rec, "failed", job.state, { kind: "start_timeout", message, issues: [] }, now);
  } else if (change.kind === "missing") {
    const message = `job ${rec.job_name} is no longer in Vertex AI (deleted?); the launch is recorded as failed`;
    next = withState(
      rec,
      "failed",
      rec.vertex_state,
      { kind: "job_failed", message, issues: [] },
      now,
    );
  } else if (change.kind === "state" && job) {
    const error =
      change.state === "failed" || change.state === "preempted"
        ? {
            kind: change.state === "preempted" ? "job_preempted" : "job_failed",
            message: job.error?.message ?? `job ended in ${job.state}`,
            issues: [],
          }
        : rec.error;
    next = withState(rec, change.state, job.state, error, now);
  } else {
    return;
  }
  await commitChange(stored, next, log, deps);
}

function withState(
  rec: LaunchRecord,
  state: RecordState,
  vertexState: string | null,
  error: LaunchRecord["error"],
  now: Date,
): LaunchRecord {
  return { ...rec, state, vertex_state: vertexState, error, updated_at: now.toISOString() };
}

/** Claims the change (generation match), publishes it, then moves the marker. */
async function commitChange(
  stored: StoredRecord,
  next: LaunchRecord,
  log: Logger,
  deps: PollDeps,
): Promise<void> {
  const written = await deps.store.update(next, stored.generation);
  if (written === "conflict") {
    log.info("poll: another tick made this change; not publishing it again");
    return;
  }
  try {
    await deps.publish(statusEvent(next, stored.record.state, deps.now()));
  } catch (err) {
    // Leave the record as the event left it (invariant 2), so a later tick retries.
    await deps.store.update(stored.record, written.generation).catch((e: unknown) => {
      log.error("poll: could not publish a change nor put the old state back; the event is lost", {
        error: e,
      });
    });
    throw err;
  }
  log.info(`launch ${stored.record.state} -> ${next.state}`, {
    state: next.state,
    previous_state: stored.record.state,
    vertex_state: next.vertex_state,
  });
  if (FINAL_STATES.has(next.state) && next.queue && next.run_id) {
    await deps.active.remove(next.queue, next.run_id);
    await deps.slots.release(next.queue, next.launch_id);
  } else {
    await deps.active.put(next);
  }
}

/** A preempted job with retries left: record `preempted`, then submit the next attempt under a new label set. */
async function resubmit(
  stored: StoredRecord,
  job: JobSummary,
  log: Logger,
  deps: PollDeps,
): Promise<void> {
  const rec = stored.record;
  const now = deps.now();
  const error = { kind: "job_preempted", message: job.error?.message ?? "preempted", issues: [] };
  const preempted: LaunchRecord = withState(rec, "preempted", job.state, error, now);
  const next: LaunchRecord = {
    ...preempted,
    state: "dispatching",
    attempt: rec.attempt + 1,
    job_name: null,
    vertex_state: null,
    console_url: null,
    previous_jobs: [...rec.previous_jobs, job.name],
    lease: {
      holder: `${deps.instanceId}/poll`,
      expires_at: new Date(now.getTime() + deps.options.LEASE_SECONDS * 1000).toISOString(),
    },
  };
  const written = await deps.store.update(next, stored.generation);
  if (written === "conflict") return;
  await deps.publish(statusEvent(preempted, rec.state, now)).catch((err: unknown) => {
    log.error("poll: could not publish the preemption event", { error: err });
  });
  log.warning(`job preempted; resubmitting as attempt ${next.attempt}`, { previous_job: job.name });
  if (!rec.message)
    throw new DispatchError(
      "invalid_message",
      `launch ${rec.launch_id} has no stored message to resubmit`,
    );
  const message = parseLaunchMessage(rec.message);
  await driveLaunch(written, message, { recovering: true, previousState: "preempted" }, deps, log);
}

async function cancelQuietly(jobName: string, deps: PollDeps, log: Logger): Promise<void> {
  try {
    await deps.jobs.cancel(jobName);
  } catch (err) {
    // A job that ended meanwhile cannot be cancelled; anything retryable fails the tick's work on this launch.
    if (!(err instanceof DispatchError) || err.retryable) throw err;
    log.warning(`poll: Vertex refused to cancel ${jobName}: ${err.message}`);
  }
}

/** For each queue with held launches: dispatch them by priority, then age, while slots are free. */
async function drainBacklogs(
  queued: ActiveEntry[],
  configOf: (queue: string) => Promise<QueueConfig | null>,
  deps: PollDeps,
  summary: TickSummary,
): Promise<void> {
  const byQueue = new Map<string, ActiveEntry[]>();
  for (const e of queued) byQueue.set(e.queue, [...(byQueue.get(e.queue) ?? []), e]);
  for (const [queue, group] of byQueue) {
    group.sort(
      (a, b) =>
        a.priority - b.priority ||
        a.created_at.localeCompare(b.created_at) ||
        a.run_id.localeCompare(b.run_id),
    );
    const config = await configOf(queue);
    const max = config?.max_jobs;
    let free =
      max === undefined || max === null
        ? group.length
        : max - (await deps.slots.holders(queue)).length;
    for (const entry of group) {
      if (free <= 0) break;
      try {
        const outcome = await takeFromBacklog(entry, deps);
        if (outcome === "queued") break; // full after all: another instance took the slot
        if (outcome === "dispatched") {
          summary.drained++;
          free--;
        }
      } catch (err) {
        summary.errors++;
        deps.log.error(`poll: could not dispatch held launch ${queue}/${entry.run_id}`, {
          error: err,
        });
      }
    }
  }
}

async function takeFromBacklog(
  entry: ActiveEntry,
  deps: PollDeps,
): Promise<"dispatched" | "queued" | "skipped"> {
  const stored = await deps.store.read(`launches/${entry.queue}/${entry.run_id}.json`);
  if (!stored) {
    await deps.active.remove(entry.queue, entry.run_id);
    return "skipped";
  }
  const rec = stored.record;
  if (FINAL_STATES.has(rec.state)) {
    await deps.active.remove(entry.queue, entry.run_id);
    return "skipped";
  }
  if (rec.state !== "queued" && rec.state !== "dispatching") {
    await deps.active.put(rec);
    return "skipped";
  }
  return resume(stored, deps);
}

/**
 * Takes a held (`queued`) launch, or one left `dispatching` by a holder whose lease has
 * expired or was released (a crashed or failed tick), and drives it to a job. A
 * dispatching launch is taken over only through a generation-matched update, and looked
 * up by label before any create (the dispatch invariants).
 */
async function resume(
  stored: StoredRecord,
  deps: PollDeps,
): Promise<"dispatched" | "queued" | "skipped"> {
  const rec = stored.record;
  const now = deps.now();
  const recovering = rec.state === "dispatching";
  if (recovering && rec.lease && new Date(rec.lease.expires_at) > now) return "skipped";
  if (!rec.message) return "skipped";
  const claimed = await deps.store.update(
    {
      ...rec,
      state: "dispatching",
      lease: {
        holder: `${deps.instanceId}/poll`,
        expires_at: new Date(now.getTime() + deps.options.LEASE_SECONDS * 1000).toISOString(),
      },
      updated_at: now.toISOString(),
    },
    stored.generation,
  );
  if (claimed === "conflict") return "skipped";
  const log = deps.log.with({ launch_id: rec.launch_id, queue: rec.queue, run_id: rec.run_id });
  // What the next event names as the state before: the backlog, or the preempted attempt.
  const previousState = rec.state === "queued" ? "queued" : rec.attempt > 1 ? "preempted" : null;
  const how = { recovering, previousState } as const;
  const outcome = await driveLaunch(claimed, parseLaunchMessage(rec.message), how, deps, log);
  return outcome.state === "queued" ? "queued" : "dispatched";
}

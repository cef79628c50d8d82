// The poll core: one tick reads the state of every active launch with a bounded number
// of Vertex calls, publishes one status event per change, cancels launches that never
// started, resubmits preempted ones, resumes launches whose dispatch gave up, and drains
// backlogs.
//
// Invariants:
//  - Vertex calls per tick: one ListCustomJobs page per POLL_PAGE_SIZE jobs not yet final,
//    plus one filtered list per 50 jobs that became final since the last tick. Never one
//    GetCustomJob per job.
//  - One event per change, even when ticks overlap or a tick is redelivered: the change
//    and its event are written together (the outbox, shared/outbox.ts) by a
//    generation-matched update, and only its winner publishes. A failed publish stays in
//    the outbox for a later tick.
//  - The record is the truth; markers are hints, moved to the record when they disagree.
//  - A launch that reaches a final state releases its max_jobs slot before its marker
//    goes, so a failure in between leaves the marker to retry the release.
import { type DispatchDeps, driveLaunch, release } from "../dispatch/dispatch.js";
import { DispatchError } from "../errors.js";
import type { Logger } from "../log.js";
import { commitWithEvent, deliverOutbox, OUTBOX_HOLD_MS } from "../outbox.js";
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
import {
  CANCELLED_VERTEX_STATES,
  FINAL_VERTEX_STATES,
  launchStateOf,
  NOT_STARTED_VERTEX_STATES,
} from "./states.js";

export interface PollDeps extends DispatchDeps {
  pageSize: number;
}

export interface TickSummary {
  active: number;
  vertexCalls: number;
  changes: number;
  timedOut: number;
  resubmitted: number;
  resumed: number;
  drained: number;
  errors: number;
}

const FINAL_LOOKUP_BATCH = 50;
const DEFAULT_START_TIMEOUT = 1800;
/** A job missing from Vertex this long after its record changed is taken as deleted. */
const MISSING_GRACE_MS = 5 * 60 * 1000;

/** A queue's config; null when it has none that works (defaults apply); "unavailable" when it could not be read now. */
type ConfigOf = (queue: string) => Promise<QueueConfig | null | "unavailable">;

export async function runTick(deps: PollDeps): Promise<TickSummary> {
  const summary: TickSummary = {
    active: 0,
    vertexCalls: 0,
    changes: 0,
    timedOut: 0,
    resubmitted: 0,
    resumed: 0,
    drained: 0,
    errors: 0,
  };
  const entries = await deps.active.list();
  summary.active = entries.length;
  const watched = entries.filter((e) => WATCHED_STATES.has(e.state as RecordState) && e.job_name);
  const jobs = await observeJobs(watched, deps, summary);
  const configOf = queueConfigs(deps);

  const each = async (entry: ActiveEntry, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      summary.errors++;
      deps.log.error(`poll: could not update launch ${entry.queue}/${entry.run_id}`, {
        error: err,
        launch_id: entry.launch_id,
      });
    }
  };
  for (const entry of watched) {
    await each(entry, async () => {
      const config = await configOf(entry.queue);
      // Never decide a timeout or a retry on guessed defaults: wait for the real config.
      if (config === "unavailable")
        throw new DispatchError("storage_unavailable", "queue config unavailable");
      await observe(entry, jobs.get(entry.job_name ?? "") ?? null, config, deps, summary);
    });
  }
  for (const entry of entries.filter((e) => e.state === "dispatching")) {
    await each(entry, async () => {
      if ((await takeOver(entry, deps)) === "dispatched") summary.resumed++;
    });
  }
  await drainBacklogs(
    entries.filter((e) => e.state === "queued"),
    configOf,
    deps,
    summary,
  );
  const busy = summary.changes + summary.resumed + summary.drained + summary.errors > 0;
  (busy ? deps.log.info : deps.log.debug)("poll tick done", { ...summary });
  return summary;
}

function queueConfigs(deps: PollDeps): ConfigOf {
  const configs = new Map<string, Promise<QueueConfig | null | "unavailable">>();
  return (queue) => {
    let config = configs.get(queue);
    if (!config) {
      config = deps.queues.load(queue).catch((err: unknown) => {
        if (err instanceof DispatchError && !err.retryable) {
          deps.log.warning(
            `poll: queue ${queue} has no usable config (${err.message}); using the defaults`,
          );
          return null;
        }
        deps.log.warning(`poll: cannot load queue config ${queue} now`, { error: err });
        return "unavailable";
      });
      configs.set(queue, config);
    }
    return config;
  };
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

/** What the job says happened, compared with what the marker last recorded. */
function changeOf(
  entry: ActiveEntry,
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
  if (neverStarted && age > startTimeout) {
    return { kind: "timeout", seconds: startTimeout };
  }
  if (state === "preempted" && entry.attempt - 1 < (config?.max_retries ?? 0))
    return { kind: "retry" };
  if (state !== entry.state) return { kind: "state", state };
  return null;
}

async function observe(
  entry: ActiveEntry,
  job: JobSummary | null,
  config: QueueConfig | null,
  deps: PollDeps,
  summary: TickSummary,
): Promise<void> {
  const now = deps.now();
  const change = changeOf(entry, job, config, now);
  if (!change) return;

  let stored = await deps.store.read(`launches/${entry.queue}/${entry.run_id}.json`);
  if (!stored) {
    await deps.active.remove(entry.queue, entry.run_id);
    return;
  }
  // An event someone claimed but did not get out: deliver it first (or leave it to its writer).
  if (stored.record.outbox) {
    if (new Date(stored.record.outbox.until) > now) return;
    stored = await deliverOutbox(stored, deps);
  }
  const rec = stored.record;
  if (FINAL_STATES.has(rec.state)) {
    await release(rec, deps);
    return;
  }
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
  if (change.kind === "missing" && now.getTime() - Date.parse(rec.updated_at) < MISSING_GRACE_MS) {
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
    if (!CANCELLED_VERTEX_STATES.has(job.state)) await cancelQuietly(job.name, deps, log);
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
    const ended = change.state === "failed" || change.state === "preempted";
    const error = ended
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

/** Claims the change with its event (outbox), publishes it, then moves the marker. */
async function commitChange(
  stored: StoredRecord,
  next: LaunchRecord,
  log: Logger,
  deps: PollDeps,
): Promise<void> {
  const claimed = await commitWithEvent(stored, next, stored.record.state, deps);
  if (claimed === "conflict") {
    log.info("poll: another worker made this change; not publishing it again");
    return;
  }
  await deliverOutbox(claimed, deps);
  log.info(`launch ${stored.record.state} -> ${next.state}`, {
    state: next.state,
    previous_state: stored.record.state,
    vertex_state: next.vertex_state,
  });
  if (FINAL_STATES.has(next.state)) await release(next, deps);
  else await deps.active.put(next);
}

/** A preempted job with retries left: record `preempted` (event), then submit the next attempt under a new label set. */
async function resubmit(
  stored: StoredRecord,
  job: JobSummary,
  log: Logger,
  deps: PollDeps,
): Promise<void> {
  const rec = stored.record;
  const now = deps.now();
  const error = { kind: "job_preempted", message: job.error?.message ?? "preempted", issues: [] };
  const preempted = withState(rec, "preempted", job.state, error, now);
  const next: LaunchRecord = {
    ...preempted,
    state: "dispatching",
    attempt: rec.attempt + 1,
    job_name: null,
    vertex_state: null,
    console_url: null,
    previous_jobs: [...rec.previous_jobs, job.name],
    lease: null,
  };
  // The claim carries the `preempted` event of this attempt; the next attempt is driven
  // only once it is out (if publishing fails, a later tick delivers it, then resumes).
  const claimed = await deps.store.update(
    {
      ...next,
      outbox: {
        event: statusEvent(preempted, rec.state, now),
        until: new Date(now.getTime() + OUTBOX_HOLD_MS).toISOString(),
      },
    },
    stored.generation,
  );
  if (claimed === "conflict") return;
  const delivered = await deliverOutbox(claimed, deps);
  log.warning(`job preempted; resubmitting as attempt ${next.attempt}`, { previous_job: job.name });
  await resume(delivered, deps);
}

async function cancelQuietly(jobName: string, deps: PollDeps, log: Logger): Promise<void> {
  try {
    await deps.jobs.cancel(jobName);
  } catch (err) {
    // A job that ended meanwhile cannot be cancelled; anything retryable fails this launch's tick.
    if (!(err instanceof DispatchError) || err.retryable) throw err;
    log.warning(`poll: Vertex refused to cancel ${jobName}: ${err.message}`);
  }
}

/** For each queue with held launches: dispatch them by priority, then age, while slots are free. */
async function drainBacklogs(
  queued: ActiveEntry[],
  configOf: ConfigOf,
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
    if (config === "unavailable") {
      summary.errors++;
      continue;
    }
    const max = config?.max_jobs;
    let free =
      max === undefined || max === null
        ? group.length
        : max - (await deps.slots.holders(queue)).length;
    for (const entry of group) {
      if (free <= 0) break;
      try {
        const outcome = await takeOver(entry, deps);
        if (outcome === "queued") break; // full after all: another worker took the slot
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

/** Reads a queued or dispatching launch's record and resumes it if it is free to take. */
async function takeOver(
  entry: ActiveEntry,
  deps: PollDeps,
): Promise<"dispatched" | "queued" | "skipped"> {
  let stored = await deps.store.read(`launches/${entry.queue}/${entry.run_id}.json`);
  if (!stored) {
    await deps.active.remove(entry.queue, entry.run_id);
    return "skipped";
  }
  if (stored.record.outbox) {
    if (new Date(stored.record.outbox.until) > deps.now()) return "skipped";
    stored = await deliverOutbox(stored, deps);
  }
  const rec = stored.record;
  if (FINAL_STATES.has(rec.state)) {
    await release(rec, deps);
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
 * expired or was released (a dispatch that gave up, a crashed or failed tick), and drives
 * it to a job. A dispatching launch is taken over only through a generation-matched
 * update, and looked up by label before any create (the dispatch invariants).
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
  // Its marker says dispatching from now on, so a tick resumes it if this attempt fails.
  await deps.active.put(claimed.record);
  const log = deps.log.with({ launch_id: rec.launch_id, queue: rec.queue, run_id: rec.run_id });
  // What the next event names as the state before: the backlog, or the preempted attempt.
  const previousState = rec.state === "queued" ? "queued" : rec.attempt > 1 ? "preempted" : null;
  const how = { recovering, previousState } as const;
  const outcome = await driveLaunch(claimed, parseLaunchMessage(rec.message), how, deps, log);
  return outcome.state === "queued" ? "queued" : "dispatched";
}

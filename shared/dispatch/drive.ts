// Driving a claimed launch (state dispatching, lease held) to `submitted`, `queued` or
// `rejected`: resolve, look up (when recovering), preflight, take a max_jobs slot, create
// the job, record it. Called by dispatch after a claim, and by the poll function for
// backlog launches, preemption retries and launches whose dispatch gave up.
import { DispatchError } from "../errors.js";
import { commit } from "../launch/commit.js";
import { busy, leaseLeftMs } from "../launch/lease.js";
import { withState } from "../launch/record.js";
import type { Logger } from "../log.js";
import { checkBuckets, imageWarnings } from "../preflight.js";
import { type ResolveDefaults, type ResolvedLaunch, resolveLaunch } from "../resolve/resolve.js";
import { attemptKey, type LaunchRecord } from "../schemas/launch_record.js";
import type { LaunchMessage } from "../schemas/message.js";
import { consoleUrl } from "../status.js";
import type { StoredRecord } from "../storage/launch_store.js";
import { isAmbiguous } from "../vertex/errors.js";
import type { DispatchDeps, Outcome } from "./deps.js";
import { letGo, renewLeaseIfShort } from "./lease_writes.js";
import { type Driving, rejectOrRethrow } from "./reject.js";

export interface Drive extends Driving {
  /** Someone may have created this attempt's job already: look it up first (invariant 2). */
  recovering: boolean;
}

type Job = { name: string; state: string };

export async function driveLaunch(
  claimed: StoredRecord,
  message: LaunchMessage,
  how: Drive,
  deps: DispatchDeps,
  log: Logger,
): Promise<Outcome> {
  let stored = claimed;
  const fail = (err: unknown) => rejectOrRethrow(err, stored, how, deps, log);
  let resolved: ResolvedLaunch;
  try {
    resolved = await resolve(stored.record, message, deps);
  } catch (err) {
    return fail(err);
  }
  const found = how.recovering ? await lookUp(stored.record, resolved, deps) : null;
  if (found) {
    log.info("found the job created by an earlier attempt; not creating another", {
      job_name: found.name,
    });
    return submit(stored, found, stored.record.warnings, how, deps, log);
  }
  let warnings: string[];
  try {
    warnings = await preflight(resolved, deps);
  } catch (err) {
    return fail(err);
  }
  for (const w of warnings) log.warning(w);
  const maxJobs = resolved.config.max_jobs;
  const { launch_id } = stored.record;
  if (typeof maxJobs === "number" && !(await deps.slots.acquire(message.queue, launch_id, maxJobs)))
    return queue(stored, warnings, how, deps, log);
  let job: Job;
  try {
    await deps.jobs.ready(resolved.parent); // before the lease is renewed: a cold client is slow
    stored = await renewLeaseIfShort(stored, how.by, deps);
    const held = stored.record;
    // A line before the request, so a create that hangs or dies with its process shows.
    log.info("creating the Vertex AI CustomJob", { lease_expires_at: held.lease?.expires_at });
    job = await deps.jobs.create(resolved.parent, resolved.customJob, () =>
      createTimeoutMs(held, deps),
    );
  } catch (err) {
    return createFailed(err, stored, how, deps, log);
  }
  log.info("created the Vertex AI CustomJob", { job_name: job.name });
  return submit(stored, job, warnings, how, deps, log);
}

const createDeadlineMs = (deps: DispatchDeps) => deps.options.CREATE_DEADLINE_SECONDS * 1000;

/** Kept between a create's deadline and the lease's end, for clocks that disagree a little. */
export const LEASE_MARGIN_MS = 1000;

/**
 * How long the create may take, read just before it is sent (invariant 4): the create
 * deadline, cut so it ends LEASE_MARGIN_MS before the lease does. Under half the deadline
 * left (a renewal that landed late, a stalled process), 0: the create is not sent, the lease
 * is let go, and the next holder looks up and creates.
 */
export function createTimeoutMs(held: LaunchRecord, deps: DispatchDeps): number {
  const deadline = createDeadlineMs(deps);
  const left = leaseLeftMs(held, deps.now()) - LEASE_MARGIN_MS;
  return left >= deadline / 2 ? Math.min(deadline, left) : 0;
}

/**
 * A failed create (or lease renewal). Retryable: the job may exist, so it is never retried
 * blindly; an ambiguous failure keeps the lease for the create deadline, any other lets it
 * go at once, and the next holder looks up first (invariant 3). Permanent: `rejected`.
 */
async function createFailed(
  err: unknown,
  stored: StoredRecord,
  how: Drive,
  deps: DispatchDeps,
  log: Logger,
): Promise<Outcome> {
  if (!(err instanceof DispatchError && err.retryable)) {
    return rejectOrRethrow(err, stored, how, deps, log);
  }
  await letGo(stored, how.by, deps, log, isAmbiguous(err) ? createDeadlineMs(deps) : 0);
  throw err;
}

function resolve(record: LaunchRecord, message: LaunchMessage, deps: DispatchDeps) {
  return deps.queues.load(message.queue).then((config) =>
    resolveLaunch({
      queueName: message.queue,
      config,
      message: record.run_id ? { ...message, run_id: record.run_id } : message,
      idempotencyKey: attemptKey(record),
      defaults: resolveDefaults(deps.options),
    }),
  );
}

/** What the resolver takes from the dispatcher's environment. */
export function resolveDefaults(options: DispatchDeps["options"]): ResolveDefaults {
  return {
    project: options.GOOGLE_CLOUD_PROJECT,
    region: options.VERTEX_REGION,
    defaultServiceAccount: options.DEFAULT_JOB_SERVICE_ACCOUNT,
    wandbBaseUrl: options.WANDB_BASE_URL,
    wandbApiKey: options.WANDB_API_KEY,
  };
}

/** This attempt's job, if a previous holder made it: by the name it recorded, else by label. */
async function lookUp(record: LaunchRecord, resolved: ResolvedLaunch, deps: DispatchDeps) {
  if (record.job_name)
    return { name: record.job_name, state: record.vertex_state ?? "JOB_STATE_QUEUED" };
  return deps.jobs.findByLaunchId(resolved.parent, resolved.launchId);
}

async function preflight(resolved: ResolvedLaunch, deps: DispatchDeps): Promise<string[]> {
  await checkBuckets(
    [
      { bucket: resolved.stagingBucket, role: "staging bucket" },
      { bucket: resolved.outputBucket, role: "output bucket (base_output_dir)" },
    ],
    resolved.region,
    deps.bucketInfo,
  );
  return [...resolved.warnings, ...imageWarnings(resolved.imageUris, resolved.region)];
}

async function submit(
  stored: StoredRecord,
  job: Job,
  warnings: string[],
  how: Drive,
  deps: DispatchDeps,
  log: Logger,
): Promise<Outcome> {
  const next = withState(stored.record, "submitted", deps.now(), {
    job_name: job.name,
    vertex_state: job.state,
    console_url: consoleUrl(job.name),
    warnings,
    lease: null,
  });
  let out: StoredRecord | "conflict";
  try {
    out = await commit(
      stored,
      next,
      { step: "submit", by: how.by, previousState: how.previousState },
      deps,
    );
  } catch (err) {
    // The marker or the record write failed (nothing recorded: keep the job's name, let the
    // lease go, so the next holder finds it at once), or the publish did (the event waits in
    // the outbox; the write below then meets a newer generation and changes nothing).
    await letGo(stored, how.by, deps, log, 0, { job_name: job.name });
    throw err;
  }
  if (out === "conflict") throw busy(next.launch_id, "changed under its lease holder");
  log.info("launch submitted", { job_name: job.name, state: "submitted" });
  return { state: "submitted", launchId: next.launch_id, jobName: job.name };
}

async function queue(
  stored: StoredRecord,
  warnings: string[],
  how: Drive,
  deps: DispatchDeps,
  log: Logger,
): Promise<Outcome> {
  const next = withState(stored.record, "queued", deps.now(), { warnings, lease: null });
  // Back to the backlog it came from: no news, no event.
  const step = how.previousState === "queued" ? "requeue" : "queue";
  const out = await commit(
    stored,
    next,
    { step, by: how.by, previousState: how.previousState },
    deps,
  );
  if (out === "conflict") throw busy(next.launch_id, "changed under its holder");
  if (step === "queue")
    log.info("queue is at max_jobs; launch held in the backlog", { state: "queued" });
  return { state: "queued", launchId: next.launch_id, jobName: null };
}

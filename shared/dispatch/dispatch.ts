// The dispatch core: one Pub/Sub delivery in, at most one Vertex CustomJob out.
//
// Exactly-once (SPEC §6). Invariants, in the order the code relies on them:
//  1. A launch record is created create-only (`ifGenerationMatch: 0`) before anything
//     else; whoever creates it holds its lease. Nobody creates a job without the lease.
//  2. A lease is taken over only when it has expired (or was released), only through a
//     generation-matched update, and the new holder MUST look the job up by its
//     launch-id label before creating one: the previous holder may have created it.
//  3. A create that failed with a retryable error releases the lease, so the next
//     delivery takes over at once and looks up first (a create that timed out may
//     still have made the job).
//  4. Permanent errors are recorded (`rejected`) and acknowledged; retryable ones are
//     thrown so the function fails and Pub/Sub redelivers.
import { randomBytes } from "node:crypto";
import { DispatchError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Options } from "../options.js";
import { commitWithEvent, deliverOutbox, OUTBOX_HOLD_MS, outboxDue } from "../outbox.js";
import { type BucketInfoReader, checkBuckets, imageWarnings } from "../preflight.js";
import type { QueueSource } from "../queue_source.js";
import { idempotencyKeyFor, launchIdFor, runIdFor } from "../resolve/ids.js";
import { type ResolvedLaunch, resolveLaunch } from "../resolve/resolve.js";
import {
  attemptKey,
  FINAL_STATES,
  type LaunchRecord,
  type RecordState,
  WATCHED_STATES,
} from "../schemas/launch_record.js";
import { type LaunchMessage, parseLaunchMessage } from "../schemas/message.js";
import type { LaunchState } from "../schemas/status_event.js";
import type { Slots } from "../slots.js";
import { consoleUrl, type Publish, statusEvent } from "../status.js";
import type { ActiveIndex } from "../storage/active_index.js";
import { type LaunchStore, recordPath, type StoredRecord } from "../storage/launch_store.js";
import { isAmbiguous } from "../vertex/errors.js";
import type { VertexJobs } from "../vertex/jobs.js";
import { type Delivery, parseBody } from "./delivery.js";

export interface DispatchDeps {
  options: Pick<
    Options,
    | "GOOGLE_CLOUD_PROJECT"
    | "VERTEX_REGION"
    | "DEFAULT_JOB_SERVICE_ACCOUNT"
    | "WANDB_BASE_URL"
    | "WANDB_API_KEY"
    | "LEASE_SECONDS"
    | "CREATE_DEADLINE_SECONDS"
    | "MAX_MESSAGE_BYTES"
  >;
  queues: QueueSource;
  store: LaunchStore;
  /** The markers of launches that are not final (what the poll function watches). */
  active: ActiveIndex;
  jobs: VertexJobs;
  slots: Slots;
  bucketInfo: BucketInfoReader;
  publish: Publish;
  log: Logger;
  now: () => Date;
  /** Names this instance in leases (a random suffix per delivery keeps holders unique). */
  instanceId: string;
}

/** What happened to a delivery that was acknowledged. */
export interface Outcome {
  state: RecordState | "duplicate" | "ignored";
  launchId: string;
  jobName: string | null;
}

export async function handleDelivery(delivery: Delivery, deps: DispatchDeps): Promise<Outcome> {
  let raw: unknown;
  let message: LaunchMessage;
  try {
    raw = parseBody(delivery, deps.options.MAX_MESSAGE_BYTES);
    message = parseLaunchMessage(raw);
  } catch (err) {
    if (!(err instanceof DispatchError) || err.retryable) throw err;
    return rejectUnreadable(delivery, raw, err, deps);
  }
  if (message.action === "cancel") return cancelLaunch(message, deps);
  return launch(delivery, message, raw as Record<string, unknown>, deps);
}

// ---------------------------------------------------------------------------- launch

async function launch(
  delivery: Delivery,
  message: LaunchMessage,
  raw: Record<string, unknown>,
  deps: DispatchDeps,
): Promise<Outcome> {
  const idempotencyKey = idempotencyKeyFor(message, delivery.attributes, delivery.messageId);
  const launchId = launchIdFor(idempotencyKey);
  const runId = runIdFor(message, idempotencyKey);
  const log = deps.log.with({
    launch_id: launchId,
    queue: message.queue,
    run_id: runId,
    message_id: delivery.messageId,
    delivery_attempt: delivery.deliveryAttempt,
  });
  const now = deps.now();
  const fresh: LaunchRecord = {
    version: 1,
    launch_id: launchId,
    idempotency_key: idempotencyKey,
    queue: message.queue,
    entity: message.entity ?? null,
    project: message.project ?? null,
    run_id: runId,
    state: "dispatching",
    priority: message.priority ?? 2,
    attempt: 1,
    job_name: null,
    vertex_state: null,
    console_url: null,
    error: null,
    warnings: [],
    lease: lease(deps, now),
    message: raw,
    outbox: null,
    previous_jobs: [],
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
  };

  const claimed = await claim(fresh, deps, log);
  if ("outcome" in claimed) return claimed.outcome;
  const how = { recovering: claimed.recovering, previousState: null };
  return driveLaunch(claimed.stored, message, how, deps, log);
}

/** Becomes the lease holder of the launch, or says why not (duplicate, conflict, busy). */
async function claim(
  fresh: LaunchRecord,
  deps: DispatchDeps,
  log: Logger,
): Promise<{ stored: StoredRecord; recovering: boolean } | { outcome: Outcome }> {
  const created = await deps.store.create(fresh);
  if (created !== "exists") {
    // The marker makes the launch visible to the poll function from now on: if every
    // delivery of this message fails and it is dead-lettered, a tick resumes it once
    // the lease has lapsed, and its max_jobs slot is not lost.
    await deps.active.put(fresh);
    return { stored: created, recovering: false };
  }

  const existing = await deps.store.read(recordPath(fresh));
  if (!existing)
    throw new DispatchError(
      "launch_busy",
      `launch record ${recordPath(fresh)} vanished while being claimed; retrying`,
    );
  const { record } = existing;
  const now = deps.now();
  if (record.state === "rejected") {
    // A rejected launch created no job, so sending it again (say, after fixing the queue
    // config), under any idempotency key, is a new try, not a duplicate or a run_id clash.
    // Claimed like any record: generation-matched.
    const retried = await deps.store.update(
      { ...fresh, created_at: record.created_at, updated_at: now.toISOString() },
      existing.generation,
    );
    if (retried === "conflict") {
      throw new DispatchError(
        "launch_busy",
        `launch ${record.launch_id} changed meanwhile; retrying`,
      );
    }
    await deps.active.put(fresh);
    log.info("launch was rejected before; trying it again");
    return { stored: retried, recovering: false };
  }
  if (record.idempotency_key !== fresh.idempotency_key) {
    // Another launch already owns this queue/run id: refuse this one, touch nothing of the other.
    const error = new DispatchError(
      "invalid_message",
      `run_id "${fresh.run_id}" is already used in queue "${fresh.queue}" by another launch (${record.launch_id}): give each launch its own run_id, or leave run_id out to have one derived`,
      { issues: [{ path: "run_id", message: "already used by another launch in this queue" }] },
    );
    log.error(error.message, { error });
    await deps.publish(
      statusEvent(
        // No run_id: this event must not read as news of the launch that owns it.
        { ...fresh, run_id: null, state: "rejected", lease: null, error: error.toJSON() },
        null,
        deps.now(),
      ),
    );
    return { outcome: { state: "rejected", launchId: fresh.launch_id, jobName: null } };
  }
  if (record.state !== "dispatching") {
    log.info(
      `duplicate: this launch is already ${record.state}; acknowledged without doing anything (to launch again, use a new run_id)`,
      { state: record.state, job_name: record.job_name },
    );
    return {
      outcome: { state: "duplicate", launchId: record.launch_id, jobName: record.job_name },
    };
  }
  // Any unexpired lease is someone else's: holders are unique per delivery, never per instance.
  if (record.lease && new Date(record.lease.expires_at) > now) {
    throw new DispatchError(
      "launch_busy",
      `launch ${record.launch_id} is being dispatched by ${record.lease.holder} until ${record.lease.expires_at}; retrying later`,
    );
  }
  const taken = await deps.store.update(
    { ...record, lease: lease(deps, now), updated_at: now.toISOString() },
    existing.generation,
  );
  if (taken === "conflict")
    throw new DispatchError(
      "launch_busy",
      `launch ${record.launch_id} was taken over by another instance; retrying later`,
    );
  // The first holder may have died before its marker was written: write it again, so the
  // poll function can finish this launch even if every delivery from here on fails.
  await deps.active.put(taken.record);
  log.warning("took over an unfinished launch; looking its job up before creating one", {
    previous_lease: record.lease,
  });
  return { stored: taken, recovering: true };
}

/**
 * Takes a launch whose lease this caller holds (state `dispatching`) to `submitted`,
 * `queued` or `rejected`. Called by dispatch after claiming a delivery, and by the poll
 * function for backlog launches and preemption retries after taking their lease.
 * `recovering`: someone may have created this attempt's job already (look it up first).
 * `previousState`: the launch state the status event names as the one before (null: a new launch).
 */
export async function driveLaunch(
  claimed: StoredRecord,
  message: LaunchMessage,
  how: { recovering: boolean; previousState: LaunchState | null },
  deps: DispatchDeps,
  log: Logger,
): Promise<Outcome> {
  const { recovering, previousState } = how;
  let stored = claimed;
  const record = stored.record;
  const fail = (err: unknown) => failOrRethrow(err, stored, previousState, deps, log);
  let resolved: ResolvedLaunch;
  try {
    const config = await deps.queues.load(message.queue);
    resolved = resolveLaunch({
      queueName: message.queue,
      config,
      message: record.run_id ? { ...message, run_id: record.run_id } : message,
      idempotencyKey: attemptKey(record),
      defaults: {
        project: deps.options.GOOGLE_CLOUD_PROJECT,
        region: deps.options.VERTEX_REGION,
        defaultServiceAccount: deps.options.DEFAULT_JOB_SERVICE_ACCOUNT,
        wandbBaseUrl: deps.options.WANDB_BASE_URL,
        wandbApiKey: deps.options.WANDB_API_KEY,
      },
    });
  } catch (err) {
    return fail(err);
  }

  // A previous holder may have created this attempt's job already (invariant 2).
  if (recovering) {
    const existingJob = record.job_name
      ? { name: record.job_name, state: record.vertex_state ?? "JOB_STATE_QUEUED" }
      : await deps.jobs.findByLaunchId(resolved.parent, resolved.launchId);
    if (existingJob) {
      log.info("found the job created by an earlier attempt; not creating another", {
        job_name: existingJob.name,
      });
      const at = { name: existingJob.name, state: existingJob.state };
      return submitted(stored, at, record.warnings, previousState, deps, log);
    }
  }

  let warnings: string[];
  try {
    await checkBuckets(
      [
        { bucket: resolved.stagingBucket, role: "staging bucket" },
        { bucket: resolved.outputBucket, role: "output bucket (base_output_dir)" },
      ],
      resolved.region,
      deps.bucketInfo,
    );
    warnings = [...resolved.warnings, ...imageWarnings(resolved.imageUris, resolved.region)];
  } catch (err) {
    return fail(err);
  }
  for (const w of warnings) log.warning(w);

  const maxJobs = resolved.config.max_jobs;
  const limited = maxJobs !== undefined && maxJobs !== null;
  if (limited && !(await deps.slots.acquire(message.queue, record.launch_id, maxJobs))) {
    return queued(stored, warnings, previousState, deps, log);
  }

  const deadlineMs = deps.options.CREATE_DEADLINE_SECONDS * 1000;
  try {
    // The create below may take CREATE_DEADLINE_SECONDS: the lease MUST outlive it.
    stored = await renewLeaseIfShort(stored, deps);
  } catch (err) {
    return fail(err);
  }
  let job: { name: string; state: string };
  try {
    job = await deps.jobs.create(resolved.parent, resolved.customJob, deadlineMs);
  } catch (err) {
    if (err instanceof DispatchError && err.retryable) {
      // Invariant 3: a create that may have happened on the server (a timeout, a lost
      // answer) keeps the lease until it must have finished there; any other retryable
      // failure lets the next delivery take over at once. Either way it looks up first.
      await releaseLease(stored, deps, log, isAmbiguous(err) ? deadlineMs : 0);
      throw err;
    }
    return fail(err);
  }
  log.info("created the Vertex AI CustomJob", { job_name: job.name });
  return submitted(stored, job, warnings, previousState, deps, log);
}

async function submitted(
  stored: StoredRecord,
  job: { name: string; state: string },
  warnings: string[],
  previousState: LaunchState | null,
  deps: DispatchDeps,
  log: Logger,
): Promise<Outcome> {
  const now = deps.now();
  const next: LaunchRecord = {
    ...stored.record,
    state: "submitted",
    job_name: job.name,
    vertex_state: job.state,
    console_url: consoleUrl(job.name),
    warnings,
    lease: null,
    updated_at: now.toISOString(),
  };
  // The marker (so the poll function watches the job) and the event come before the
  // record says "submitted": if either fails, the record still says dispatching (with the
  // job name), so a redelivery or the next tick does both again.
  try {
    await deps.active.put(next);
    await deps.publish(statusEvent(next, previousState, now));
  } catch (err) {
    const keep: LaunchRecord = { ...stored.record, job_name: job.name, lease: null };
    await deps.store.update(keep, stored.generation).catch(() => "conflict");
    throw err;
  }
  await write(next, stored.generation, deps);
  log.info("launch submitted", { job_name: job.name, state: "submitted" });
  return { state: "submitted", launchId: next.launch_id, jobName: job.name };
}

async function queued(
  stored: StoredRecord,
  warnings: string[],
  previousState: LaunchState | null,
  deps: DispatchDeps,
  log: Logger,
): Promise<Outcome> {
  const now = deps.now();
  const next: LaunchRecord = {
    ...stored.record,
    state: "queued",
    warnings,
    lease: null,
    updated_at: now.toISOString(),
  };
  // Marker first: a queued record without a marker would never leave the backlog.
  await deps.active.put(next);
  if (previousState === "queued") {
    await write(next, stored.generation, deps); // back to the backlog: no news
    return { state: "queued", launchId: next.launch_id, jobName: null };
  }
  // The record with its event (outbox), then the event: a holder that lost its lease
  // cannot publish (its write fails first), and a failed publish waits in the outbox for
  // the poll function, which reads this launch's marker.
  const claimed = await commitWithEvent(stored, next, previousState, deps);
  if (claimed === "conflict") {
    throw new DispatchError(
      "launch_busy",
      `launch ${next.launch_id} changed under its holder; retrying`,
    );
  }
  log.info("queue is at max_jobs; launch held in the backlog", { state: "queued" });
  await deliverOutbox(claimed, deps);
  return { state: "queued", launchId: next.launch_id, jobName: null };
}

/** Records a permanent failure as `rejected` and publishes it; rethrows a retryable one. */
async function failOrRethrow(
  err: unknown,
  stored: StoredRecord,
  previousState: LaunchState | null,
  deps: DispatchDeps,
  log: Logger,
): Promise<Outcome> {
  if (!(err instanceof DispatchError) || err.retryable) {
    await releaseLease(stored, deps, log);
    throw err;
  }
  const now = deps.now();
  const next: LaunchRecord = {
    ...stored.record,
    state: "rejected",
    error: err.toJSON(),
    lease: null,
    updated_at: now.toISOString(),
  };
  // The record with its event (outbox), as for `queued`; a redelivery of a rejected launch
  // tries it again (and so publishes again) should the publish below fail.
  const claimed = await commitWithEvent(stored, next, previousState, deps);
  if (claimed === "conflict") {
    throw new DispatchError(
      "launch_busy",
      `launch ${next.launch_id} changed under its holder; retrying`,
    );
  }
  log.error(`launch rejected: ${err.message}`, { error: err.toJSON(), state: "rejected" });
  // A rejected launch holds nothing: its slot (if it took one) and its marker go.
  await release(next, deps);
  await deliverOutbox(claimed, deps);
  return { state: "rejected", launchId: next.launch_id, jobName: null };
}

/** A message too broken to name a launch: recorded under rejected/ by its launch id. */
async function rejectUnreadable(
  delivery: Delivery,
  raw: unknown,
  err: DispatchError,
  deps: DispatchDeps,
): Promise<Outcome> {
  const key = delivery.attributes.idempotency_key ?? delivery.messageId;
  const launchId = launchIdFor(key);
  const obj =
    raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const now = deps.now();
  const record: LaunchRecord = {
    version: 1,
    launch_id: launchId,
    idempotency_key: key,
    queue: str(obj.queue),
    entity: str(obj.entity),
    project: str(obj.project),
    run_id: null,
    state: "rejected",
    priority: 2,
    attempt: 1,
    job_name: null,
    vertex_state: null,
    console_url: null,
    error: err.toJSON(),
    warnings: [],
    lease: null,
    message: null,
    outbox: null,
    previous_jobs: [],
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
  };
  const log = deps.log.with({
    launch_id: launchId,
    message_id: delivery.messageId,
    delivery_attempt: delivery.deliveryAttempt,
  });
  log.error(`launch message rejected: ${err.message}`, { error: err.toJSON(), state: "rejected" });
  // Recorded with its event (outbox), create-only: a duplicate delivery finds the record
  // and publishes nothing more, unless the first one's publish failed.
  const pending: LaunchRecord = {
    ...record,
    outbox: {
      event: statusEvent(record, null, now),
      until: new Date(now.getTime() + OUTBOX_HOLD_MS).toISOString(),
    },
  };
  const created = await deps.store.create(pending);
  if (created === "exists") {
    const existing = await deps.store.read(recordPath(record));
    if (existing && outboxDue(existing.record, now)) await deliverOutbox(existing, deps);
    return { state: "duplicate", launchId, jobName: null };
  }
  await deliverOutbox(created, deps);
  return { state: "rejected", launchId, jobName: null };
}

// ---------------------------------------------------------------------------- cancel

async function cancelLaunch(message: LaunchMessage, deps: DispatchDeps): Promise<Outcome> {
  const runId = message.run_id ?? "";
  const path = `launches/${message.queue}/${runId}.json`;
  const log = deps.log.with({ queue: message.queue, run_id: runId, action: "cancel" });
  const stored = await deps.store.read(path);
  if (!stored) {
    log.error(
      `cancel: no launch with run_id "${runId}" in queue "${message.queue}" (gs://STATE_BUCKET/${path}); nothing to cancel`,
    );
    return { state: "ignored", launchId: "", jobName: null };
  }
  const { record } = stored;
  const rlog = log.with({ launch_id: record.launch_id, job_name: record.job_name });
  if (record.state === "stopped") {
    // Finish what an interrupted cancel left: its event, its slot, its marker.
    if (record.outbox && !outboxDue(record, deps.now())) {
      throw new DispatchError(
        "launch_busy",
        `cancel: the stop of ${record.launch_id} is being published; retrying`,
      );
    }
    await deliverOutbox(stored, deps);
    await release(record, deps);
    return { state: "ignored", launchId: record.launch_id, jobName: record.job_name };
  }
  if (FINAL_STATES.has(record.state)) {
    rlog.info(`cancel: launch already ${record.state}; nothing to do`);
    return { state: "ignored", launchId: record.launch_id, jobName: record.job_name };
  }
  if (record.state === "dispatching") {
    throw new DispatchError(
      "launch_busy",
      `cancel: launch ${record.launch_id} is being dispatched; retrying once it settles`,
    );
  }
  // A change someone else claimed but has not published yet comes first: never overwrite it.
  let current = stored;
  if (record.outbox) {
    if (!outboxDue(record, deps.now())) {
      throw new DispatchError(
        "launch_busy",
        `cancel: a change of ${record.launch_id} is being published; retrying`,
      );
    }
    current = await deliverOutbox(stored, deps);
  }
  let vertexState = record.vertex_state;
  if (WATCHED_STATES.has(record.state) && record.job_name) {
    try {
      await deps.jobs.cancel(record.job_name);
      vertexState = "JOB_STATE_CANCELLING";
    } catch (err) {
      // A job that already ended cannot be cancelled (FAILED_PRECONDITION); the poll function records how it ended.
      if (!(err instanceof DispatchError) || err.retryable) throw err;
      rlog.warning(`cancel: Vertex refused to cancel ${record.job_name}: ${err.message}`);
      return { state: "ignored", launchId: record.launch_id, jobName: record.job_name };
    }
  }
  const next: LaunchRecord = {
    ...current.record,
    state: "stopped",
    vertex_state: vertexState,
    lease: null,
    updated_at: deps.now().toISOString(),
  };
  // The record and its event together (the outbox), so a tick observing the same job
  // cannot report the stop a second time, and a failed publish is retried.
  const claimed = await commitWithEvent(current, next, current.record.state, deps);
  if (claimed === "conflict") {
    throw new DispatchError(
      "launch_busy",
      `cancel: launch ${record.launch_id} changed meanwhile; retrying`,
    );
  }
  await deliverOutbox(claimed, deps);
  await release(next, deps);
  rlog.info("launch cancelled", { state: "stopped", previous_state: record.state });
  return { state: "stopped", launchId: record.launch_id, jobName: record.job_name };
}

/** A final launch holds nothing: its max_jobs slot, then its marker (both idempotent). */
export async function release(record: LaunchRecord, deps: DispatchDeps): Promise<void> {
  if (!record.queue || !record.run_id) return;
  await deps.slots.release(record.queue, record.launch_id);
  await deps.active.remove(record.queue, record.run_id);
}

// ---------------------------------------------------------------------------- helpers

function lease(deps: DispatchDeps, now: Date): { holder: string; expires_at: string } {
  const holder = `${deps.instanceId}/${randomBytes(4).toString("hex")}`;
  return {
    holder,
    expires_at: new Date(now.getTime() + deps.options.LEASE_SECONDS * 1000).toISOString(),
  };
}

async function write(
  record: LaunchRecord,
  generation: string,
  deps: DispatchDeps,
): Promise<StoredRecord> {
  const out = await deps.store.update(record, generation);
  if (out === "conflict") {
    throw new DispatchError(
      "launch_busy",
      `launch record of ${record.launch_id} changed under its lease holder; retrying`,
    );
  }
  return out;
}

async function renewLeaseIfShort(stored: StoredRecord, deps: DispatchDeps): Promise<StoredRecord> {
  const now = deps.now();
  const expires = new Date(stored.record.lease?.expires_at ?? 0).getTime();
  const needed = (deps.options.CREATE_DEADLINE_SECONDS + 10) * 1000;
  if (expires - now.getTime() >= needed) return stored;
  return write(
    { ...stored.record, lease: lease(deps, now), updated_at: now.toISOString() },
    stored.generation,
    deps,
  );
}

async function releaseLease(
  stored: StoredRecord,
  deps: DispatchDeps,
  log: Logger,
  holdMs = 0,
): Promise<void> {
  const now = deps.now();
  const held = stored.record.lease;
  const lease =
    holdMs > 0 && held
      ? { holder: held.holder, expires_at: new Date(now.getTime() + holdMs).toISOString() }
      : null;
  try {
    await deps.store.update(
      { ...stored.record, lease, updated_at: now.toISOString() },
      stored.generation,
    );
  } catch (err) {
    // The lease then simply expires; a later delivery takes over after LEASE_SECONDS.
    log.warning("could not release the lease; it will expire", { error: err });
  }
}

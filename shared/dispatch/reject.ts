// Rejections: a permanent error is recorded as `rejected` with its event (the outbox),
// its slot released, its event published, its marker removed (commit's `reject` row);
// a retryable one lets the lease go and is rethrown, so Pub/Sub redelivers.
import { type DispatchError, isRetryable } from "../errors.js";
import { commit, settle } from "../launch/commit.js";
import { busy } from "../launch/lease.js";
import { freshRecord, recordPath, withState } from "../launch/record.js";
import type { Actor } from "../launch/table.js";
import type { Logger } from "../log.js";
import { launchIdFor } from "../resolve/ids.js";
import type { LaunchState } from "../schemas/status_event.js";
import type { StoredRecord } from "../storage/launch_store.js";
import type { Delivery } from "./delivery.js";
import type { DispatchDeps, Outcome } from "./deps.js";
import { letGo } from "./lease_writes.js";

export interface Driving {
  previousState: LaunchState | null;
  by: Extract<Actor, "dispatch" | "poll">;
}

/** Records a permanent failure as `rejected` and publishes it; rethrows a retryable one. */
export async function rejectOrRethrow(
  err: unknown,
  stored: StoredRecord,
  how: Driving,
  deps: DispatchDeps,
  log: Logger,
): Promise<Outcome> {
  if (isRetryable(err)) {
    await letGo(stored, how.by, deps, log);
    throw err;
  }
  const error = (err as DispatchError).toJSON();
  const next = withState(stored.record, "rejected", deps.now(), { error, lease: null });
  const step = { step: "reject", by: how.by, previousState: how.previousState } as const;
  const out = await commit(stored, next, step, deps);
  if (out === "conflict") throw busy(next.launch_id, "changed under its holder");
  log.error(`launch rejected: ${error.message}`, { error, state: "rejected" });
  return { state: "rejected", launchId: next.launch_id, jobName: null };
}

/** A message too broken to name a launch: recorded under rejected/ by its launch id, create-only. */
export async function rejectUnreadable(
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
  const record = freshRecord({
    launchId,
    idempotencyKey: key,
    queue: str(obj.queue),
    entity: str(obj.entity),
    project: str(obj.project),
    runId: null,
    state: "rejected",
    error: err.toJSON(),
    messageId: delivery.messageId,
    now: deps.now(),
  });
  const log = deps.log.with({
    launch_id: launchId,
    message_id: delivery.messageId,
    delivery_attempt: delivery.deliveryAttempt,
  });
  log.error(`launch message rejected: ${err.message}`, { error: err.toJSON(), state: "rejected" });
  const created = await commit(
    null,
    record,
    { step: "reject", by: "dispatch", previousState: null },
    deps,
  );
  if (created !== "conflict") return { state: "rejected", launchId, jobName: null };
  // A duplicate delivery publishes nothing more, unless the first one's publish failed.
  const existing = await deps.store.read(recordPath(record));
  if (existing) await settle(existing, deps);
  return { state: "duplicate", launchId, jobName: null };
}

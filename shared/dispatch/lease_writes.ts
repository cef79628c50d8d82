// The dispatch's own lease writes, each one row of the table through commit(): renew a
// lease that would not outlive the create, and let it go after a retryable failure.
import { commit } from "../launch/commit.js";
import { busy, holdLease, leaseLeftMs, newLease } from "../launch/lease.js";
import { withState } from "../launch/record.js";
import type { Actor } from "../launch/table.js";
import type { Logger } from "../log.js";
import type { LaunchRecord } from "../schemas/launch_record.js";
import type { StoredRecord } from "../storage/launch_store.js";
import type { DispatchDeps } from "./deps.js";

type By = Extract<Actor, "dispatch" | "poll">;

/** The create below may take CREATE_DEADLINE_SECONDS: the lease MUST outlive it (invariant 4). */
export async function renewLeaseIfShort(
  stored: StoredRecord,
  by: By,
  deps: DispatchDeps,
): Promise<StoredRecord> {
  const now = deps.now();
  const needed = (deps.options.CREATE_DEADLINE_SECONDS + 10) * 1000;
  if (leaseLeftMs(stored.record, now) >= needed) return stored;
  const lease = newLease(deps.instanceId, now, deps.options.LEASE_SECONDS);
  const next = withState(stored.record, "dispatching", now, { lease });
  const out = await commit(stored, next, { step: "renew", by }, deps);
  if (out === "conflict") throw busy(next.launch_id, "changed under its lease holder");
  return out;
}

/**
 * Releases the lease (or holds it `holdMs` more, invariant 3), keeping `changes` (the name
 * of a job made but not yet recorded). Best effort: a lease not released simply expires.
 */
export async function letGo(
  stored: StoredRecord,
  by: By,
  deps: DispatchDeps,
  log: Logger,
  holdMs = 0,
  changes: Partial<LaunchRecord> = {},
): Promise<void> {
  const now = deps.now();
  const lease = holdLease(stored.record.lease, now, holdMs);
  const next = withState(stored.record, "dispatching", now, { ...changes, lease });
  try {
    await commit(stored, next, { step: "let_go", by }, deps);
  } catch (err) {
    log.warning("could not release the lease; it will expire", { error: err });
  }
}

// Claiming a launch: becoming the holder of its lease, or saying why not (a duplicate, a
// run_id clash, another holder). Every write here goes through commit() with the marker
// first (shared/launch/table.ts, invariant 5), so whatever write fails, a record never
// exists without its marker.
import { commit, settle } from "../launch/commit.js";
import { busy, leaseHeld, newLease } from "../launch/lease.js";
import { recordPath, withState } from "../launch/record.js";
import type { Logger } from "../log.js";
import type { LaunchRecord } from "../schemas/launch_record.js";
import { statusEvent } from "../status.js";
import type { StoredRecord } from "../storage/launch_store.js";
import type { DispatchDeps, Outcome } from "./deps.js";
import { runIdTakenError } from "./refusals.js";

export type Claimed = { stored: StoredRecord; recovering: boolean } | { outcome: Outcome };

/** Claims the launch of `fresh` (a new record in state dispatching, with a lease). */
export async function claim(
  fresh: LaunchRecord,
  deps: DispatchDeps,
  log: Logger,
): Promise<Claimed> {
  const path = recordPath(fresh);
  // A new launch has no marker: its claim is two create-only writes and no read. A marker
  // that exists, or a record, sends it to the record (a redelivery, a finished launch).
  const created = await commit(null, fresh, { step: "create", by: "dispatch" }, deps);
  if (created !== "conflict") return { stored: created, recovering: false };
  let existing = await deps.store.read(path);
  if (!existing) {
    // A marker without a record: a claim that died between its writes, or one under way.
    const marked = await commit(null, fresh, { step: "create_marked", by: "dispatch" }, deps);
    if (marked !== "conflict") return { stored: marked, recovering: false };
    existing = await deps.store.read(path);
    if (!existing) throw busy(fresh.launch_id, `record ${path} vanished while being claimed`);
  }
  if (existing.record.outbox) {
    // A change whose event is still pending comes first (a rejection whose slot release or
    // publish failed, say): settle it before anything else.
    const settled = await settle(existing, deps);
    if (settled === "held")
      throw busy(fresh.launch_id, "has a change whose event is being published");
    existing = settled;
  }
  return claimExisting(existing, fresh, deps, log);
}

async function claimExisting(
  existing: StoredRecord,
  fresh: LaunchRecord,
  deps: DispatchDeps,
  log: Logger,
): Promise<Claimed> {
  const { record } = existing;
  const now = deps.now();
  if (record.state === "rejected") {
    // A redelivery of the message that got it rejected is a duplicate (its rejection is
    // settled above: no second event); another message tries the launch again.
    if (record.message_id !== null && record.message_id === fresh.message_id)
      return duplicate(record, log);
    return reopen(existing, fresh, deps, log);
  }
  if (record.idempotency_key !== fresh.idempotency_key)
    return rejectClash(fresh, record, deps, log);
  if (record.state !== "dispatching") return duplicate(record, log);
  if (leaseHeld(record, now)) {
    // The holder may have died between its marker and its record: whoever finds the lease
    // held makes sure the marker is there, so the poll finishes the launch if all else fails.
    await deps.active.put(record);
    throw busy(
      record.launch_id,
      `is being dispatched by ${record.lease?.holder} until ${record.lease?.expires_at}`,
    );
  }
  const next = withState(record, "dispatching", now, {
    lease: newLease(deps.instanceId, now, deps.options.LEASE_SECONDS),
    message_id: fresh.message_id,
  });
  const taken = await commit(existing, next, { step: "take_over", by: "dispatch" }, deps);
  if (taken === "conflict") throw busy(record.launch_id, "was taken over by another instance");
  log.warning("took over an unfinished launch; looking its job up before creating one", {
    previous_lease: record.lease,
  });
  return { stored: taken, recovering: true };
}

/** A rejected launch created no job: sending it again (say, after fixing the queue config), under any idempotency key, tries it again. */
async function reopen(
  existing: StoredRecord,
  fresh: LaunchRecord,
  deps: DispatchDeps,
  log: Logger,
): Promise<Claimed> {
  const next = {
    ...fresh,
    created_at: existing.record.created_at,
    updated_at: deps.now().toISOString(),
  };
  const reopened = await commit(existing, next, { step: "reopen", by: "dispatch" }, deps);
  if (reopened === "conflict") throw busy(fresh.launch_id, "changed meanwhile");
  log.info("launch was rejected before; trying it again");
  return { stored: reopened, recovering: false };
}

function duplicate(record: LaunchRecord, log: Logger): Claimed {
  log.info(
    `duplicate: this launch is already ${record.state}; acknowledged without doing anything (to launch again, use a new run_id)`,
    { state: record.state, job_name: record.job_name },
  );
  return { outcome: { state: "duplicate", launchId: record.launch_id, jobName: record.job_name } };
}

/** Another launch already owns this queue/run id: refuse this one, touch nothing of the other. */
async function rejectClash(
  fresh: LaunchRecord,
  owner: LaunchRecord,
  deps: DispatchDeps,
  log: Logger,
): Promise<Claimed> {
  const error = runIdTakenError(fresh.queue ?? "", fresh.run_id ?? "", owner.launch_id);
  log.error(error.message, { error });
  // No record of its own (its path is the other launch's), so no outbox: published directly.
  // No run_id: this event must not read as news of the launch that owns it.
  const rejected = {
    ...fresh,
    run_id: null,
    state: "rejected" as const,
    lease: null,
    error: error.toJSON(),
  };
  await deps.publish(statusEvent(rejected, null, deps.now()));
  return { outcome: { state: "rejected", launchId: fresh.launch_id, jobName: null } };
}

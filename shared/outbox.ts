// The outbox: a change and the event that reports it, written together in the launch
// record, then published, then cleared. Used where two workers may make the same change
// (overlapping poll ticks, a cancel racing a tick), so that a change is published once
// and never lost:
//  - the generation-matched write of the record (with its outbox) claims the change:
//    only its winner publishes;
//  - a failed publish leaves the outbox in the record; whoever reads the record after
//    `until` (a later tick, a redelivered cancel) publishes it and clears it.
// A crash between a publish and the clear can publish an event twice; nothing else can.
import { DispatchError } from "./errors.js";
import type { LaunchRecord, RecordState } from "./schemas/launch_record.js";
import { type Publish, statusEvent } from "./status.js";
import { type LaunchStore, recordPath, type StoredRecord } from "./storage/launch_store.js";

/** How long the writer of an outbox has to publish it before anyone else may. */
export const OUTBOX_HOLD_MS = 30_000;

interface OutboxDeps {
  store: LaunchStore;
  publish: Publish;
  now: () => Date;
}

/** Writes `next` with the event of its state in the outbox, if the record is still at `stored`'s generation. */
export async function commitWithEvent(
  stored: StoredRecord,
  next: LaunchRecord,
  previousState: RecordState | null,
  deps: OutboxDeps,
): Promise<StoredRecord | "conflict"> {
  const now = deps.now();
  const outbox = {
    event: statusEvent(next, previousState, now),
    until: new Date(now.getTime() + OUTBOX_HOLD_MS).toISOString(),
  };
  return deps.store.update({ ...next, outbox }, stored.generation);
}

/** Whether this caller may deliver the record's pending event now. */
export function outboxDue(record: LaunchRecord, now: Date): boolean {
  return record.outbox !== null && new Date(record.outbox.until) <= now;
}

/** Publishes the pending event and clears it; throws (leaving it pending) if publishing fails. */
export async function deliverOutbox(stored: StoredRecord, deps: OutboxDeps): Promise<StoredRecord> {
  const pending = stored.record.outbox;
  if (!pending) return stored;
  await deps.publish(pending.event);
  const cleared = await deps.store.update({ ...stored.record, outbox: null }, stored.generation);
  if (cleared !== "conflict") return cleared;
  // Changed meanwhile: clear our event only if it is still the one pending.
  const fresh = await deps.store.read(recordPath(stored.record));
  if (!fresh)
    throw new DispatchError("launch_busy", "launch record vanished while its event was delivered");
  if (fresh.record.outbox?.event.time !== pending.event.time) return fresh;
  const again = await deps.store.update({ ...fresh.record, outbox: null }, fresh.generation);
  if (again === "conflict")
    throw new DispatchError("launch_busy", "launch record keeps changing; retrying");
  return again;
}

// The one writer of launch records: commit() makes one transition of the table
// (./table.ts), refusing any the table does not hold, and runs the row's effects in the
// row's order. settle() finishes what a transition left pending in the outbox. Nothing
// else in the product writes a launch record.
import { DispatchError, isRetryable } from "../errors.js";
import type { Logger } from "../log.js";
import { redactDeep } from "../redact.js";
import type { LaunchRecord, RecordState } from "../schemas/launch_record.js";
import type { Slots } from "../slots.js";
import { type Publish, statusEvent } from "../status.js";
import type { ActiveIndex } from "../storage/active_index.js";
import type { LaunchStore, StoredRecord } from "../storage/launch_store.js";
import { recordPath } from "./record.js";
import {
  type Actor,
  type Effect,
  type Step,
  settleEffects,
  TRANSITIONS,
  type Transition,
} from "./table.js";

/** How long the writer of an outbox has to publish it before anyone else may. */
export const OUTBOX_HOLD_MS = 30_000;
/** A settler that publishes after the hold still gets this long to clear the outbox. */
const CLEAR_MIN_MS = 5_000;

export interface CommitDeps {
  store: LaunchStore;
  active: ActiveIndex;
  slots: Slots;
  publish: Publish;
  log: Logger;
  now: () => Date;
  /** Secret values masked in every record written and so in every event (shared/redact.ts). */
  secrets?: readonly string[];
}

export interface How {
  step: Step;
  by: Actor;
  /** The state the event names as the one before; default: the record's state before the write. */
  previousState?: RecordState | null;
  /** The record whose state the event reports, when not `next` (a retry reports the preempted attempt). */
  reports?: LaunchRecord;
}

/**
 * Writes `next` over `stored` (create-only when `stored` is null) as the table's row
 * `how.step`, with the row's effects in order. "conflict": someone else wrote first (or the
 * record exists); nothing after the write ran. Throws when an effect fails (see table.ts).
 */
export async function commit(
  stored: StoredRecord | null,
  next: LaunchRecord,
  how: How,
  deps: CommitDeps,
): Promise<StoredRecord | "conflict"> {
  const row: Transition = TRANSITIONS[how.step];
  refuseUnlisted(row, stored?.record ?? null, next, how);
  const now = deps.now();
  const before = stored?.record.state ?? null;
  const previous = how.previousState === undefined ? before : how.previousState;
  // Invariant: no secret is stored or published; the event is built from the masked record.
  const record: LaunchRecord = redactDeep(
    row.event
      ? {
          ...next,
          outbox: { event: statusEvent(how.reports ?? next, previous, now), until: untilFrom(now) },
        }
      : next,
    deps.secrets ?? [],
  );
  const writeAt = row.effects.indexOf("write");
  let made: { generation: string } | null = null;
  for (const effect of row.effects.slice(0, writeAt)) {
    if (effect !== "marker_create") await runEffect(effect, record, deps);
    else {
      const out = await deps.active.create(record);
      if (out === "exists") return "conflict";
      made = out;
    }
  }
  const written = stored
    ? await deps.store.update(record, stored.generation)
    : await deps.store.create(record);
  if (written === "conflict" || written === "exists") {
    if (made) await takeBackMarker(record, made.generation, deps);
    return "conflict";
  }
  return afterWrite(row.effects.slice(writeAt + 1), written, deps);
}

/**
 * A create-only claim made a marker, then found the record there (a redelivery of a final
 * launch): it removes that marker, only if nobody rewrote it since (a reopening claim
 * writes its own first). A failure leaves it to the poll, which removes a final launch's
 * marker once it is older than a lease.
 */
async function takeBackMarker(record: LaunchRecord, generation: string, deps: CommitDeps) {
  if (record.queue === null || record.run_id === null) return;
  await deps.active
    .removeGeneration(record.queue, record.run_id, generation)
    .catch((error: unknown) =>
      deps.log.warning("could not remove a marker made for a launch that exists; the poll does", {
        launch_id: record.launch_id,
        error,
      }),
    );
}

/** Whether the record's pending event may be settled by anyone now (its writer's hold is over). */
export function outboxDue(record: LaunchRecord, now: Date): boolean {
  return record.outbox !== null && new Date(record.outbox.until) <= now;
}

/**
 * Finishes a transition whose event is still in the outbox: the effects its row lists
 * after the write (slot, publish, marker). The settler first takes the outbox over with a
 * generation-matched write that restarts its hold, so two settlers never both publish it.
 * "held": its writer's (or another settler's) hold is not over, or another took it first.
 */
export async function settle(
  stored: StoredRecord,
  deps: CommitDeps,
): Promise<StoredRecord | "held"> {
  const pending = stored.record.outbox;
  if (!pending) return stored;
  const now = deps.now();
  if (!outboxDue(stored.record, now)) return "held";
  const taken = await deps.store.update(
    { ...stored.record, outbox: { ...pending, until: untilFrom(now) } },
    stored.generation,
  );
  if (taken === "conflict") return "held";
  return afterWrite(settleEffects(stored.record.state), taken, deps);
}

/** A final launch holds nothing: its max_jobs slot, then its marker (both idempotent). */
export async function releaseFinal(record: LaunchRecord, deps: CommitDeps): Promise<void> {
  await runEffect("slot_release", record, deps);
  await runEffect("marker_remove", record, deps);
}

function refuseUnlisted(
  row: Transition,
  before: LaunchRecord | null,
  next: LaunchRecord,
  how: How,
) {
  const from = before?.state ?? "none";
  const problems = [
    row.from.includes(from) ? null : `from ${from}`,
    row.to.includes(next.state) ? null : `to ${next.state}`,
    row.by.includes(how.by) ? null : `by ${how.by}`,
    row.lease === "held" && !next.lease ? "without a lease" : null,
    row.lease === "none" && next.lease ? "with a lease" : null,
    row.event && before?.outbox ? "over a pending event (settle it first)" : null,
  ].filter((p): p is string => p !== null);
  if (problems.length > 0) {
    // A bug, not an input error: the transition table (shared/launch/table.ts) lacks this write.
    throw new Error(`launch ${next.launch_id}: step ${how.step} refused ${problems.join(", ")}`);
  }
}

async function afterWrite(effects: readonly Effect[], stored: StoredRecord, deps: CommitDeps) {
  const publishAt = effects.includes("publish") ? effects.indexOf("publish") : effects.length;
  for (const effect of effects.slice(0, publishAt)) await runEffect(effect, stored.record, deps);
  if (publishAt === effects.length) return stored;
  const after = effects.slice(publishAt + 1);
  // Once the event is out, a marker put runs beside the outbox clear; a marker removal waits
  // for the clear. Never before the publish: the poll reads a record only when its marker
  // says something changed, so a marker ahead of an unpublished event would hide it.
  const beside = () =>
    Promise.all(
      after.filter((e) => e === "marker_put").map((e) => mendable(e, stored.record, deps)),
    );
  const current = await deliver(stored, deps, beside);
  for (const effect of after.filter((e) => e !== "marker_put"))
    await mendable(effect, current.record, deps);
  return current;
}

/** An effect after the publish: the event is out, so a failure is logged, never retried here. */
function mendable(effect: Effect, record: LaunchRecord, deps: CommitDeps): Promise<void> {
  return runEffect(effect, record, deps).catch((error: unknown) =>
    deps.log.warning(`could not ${effect.replace("_", " ")}; the poll function mends it`, {
      launch_id: record.launch_id,
      error,
    }),
  );
}

async function runEffect(effect: Effect, record: LaunchRecord, deps: CommitDeps): Promise<void> {
  if (record.queue === null || record.run_id === null) return; // under rejected/: no marker, no slot
  if (effect === "marker_put") await deps.active.put(record);
  else if (effect === "marker_remove") await deps.active.remove(record.queue, record.run_id);
  else if (effect === "slot_release") await deps.slots.release(record.queue, record.launch_id);
}

/**
 * Publishes the pending event, then clears it (with `beside` running alongside the clear),
 * retrying the clear so a GCS fault does not repeat the event.
 */
async function deliver(
  stored: StoredRecord,
  deps: CommitDeps,
  beside: () => Promise<unknown>,
): Promise<StoredRecord> {
  const pending = stored.record.outbox;
  if (!pending) {
    await beside();
    return stored;
  }
  await deps.publish(pending.event);
  const alongside = beside();
  try {
    return await clearOutbox(stored, pending, deps);
  } finally {
    await alongside;
  }
}

async function clearOutbox(
  stored: StoredRecord,
  pending: NonNullable<LaunchRecord["outbox"]>,
  deps: CommitDeps,
): Promise<StoredRecord> {
  const deadline = Math.max(Date.parse(pending.until), deps.now().getTime() + CLEAR_MIN_MS);
  let current = stored;
  for (let attempt = 0; ; attempt++) {
    try {
      const cleared = await deps.store.update(
        { ...current.record, outbox: null },
        current.generation,
      );
      if (cleared !== "conflict") return cleared;
      // Changed meanwhile: clear our event only if it is still the one pending.
      const fresh = await deps.store.read(recordPath(current.record));
      if (!fresh)
        throw new DispatchError(
          "launch_busy",
          "launch record vanished while its event was delivered",
        );
      if (fresh.record.outbox?.event.time !== pending.event.time) return fresh;
      current = fresh;
    } catch (err) {
      if (!isRetryable(err) || deps.now().getTime() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
    }
  }
}

function untilFrom(now: Date): string {
  return new Date(now.getTime() + OUTBOX_HOLD_MS).toISOString();
}

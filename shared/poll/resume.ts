// Taking a launch from its marker: read the record (settling a pending event first), mend
// the marker when the record moved on, and take over a held (`queued`) launch or one left
// `dispatching` by a holder whose lease expired or was released, driving it to a job.
import { driveLaunch } from "../dispatch/drive.js";
import { commit, releaseFinal, settle } from "../launch/commit.js";
import { leaseHeld, newLease } from "../launch/lease.js";
import { launchPath, withState } from "../launch/record.js";
import { FINAL_STATES } from "../schemas/launch_record.js";
import { parseLaunchMessage } from "../schemas/message.js";
import type { ActiveEntry } from "../storage/active_index.js";
import type { StoredRecord } from "../storage/launch_store.js";
import type { PollDeps } from "./deps.js";

export type Resumed = "dispatched" | "queued" | "skipped";

/**
 * The marker's record with any due pending event settled; null when there is none (the
 * marker is removed once it is older than a lease: a claim writes its marker before its
 * record, invariant 5) or when its event is still its writer's to publish.
 */
export async function readSettled(
  entry: ActiveEntry,
  deps: PollDeps,
): Promise<StoredRecord | null> {
  const stored = await deps.store.read(launchPath(entry.queue, entry.run_id));
  if (!stored) {
    if (!markerYoung(entry, deps)) await deps.active.remove(entry.queue, entry.run_id);
    return null;
  }
  const settled = await settle(stored, deps);
  return settled === "held" ? null : settled;
}

/** A final launch's marker goes, unless a claim may be reopening it right now (a young dispatching marker). */
export async function releaseIfFinal(entry: ActiveEntry, stored: StoredRecord, deps: PollDeps) {
  if (!FINAL_STATES.has(stored.record.state)) return false;
  if (!(entry.state === "dispatching" && markerYoung(entry, deps)))
    await releaseFinal(stored.record, deps);
  return true;
}

function markerYoung(entry: ActiveEntry, deps: PollDeps): boolean {
  const age = deps.now().getTime() - Date.parse(entry.updated_at);
  return age < deps.options.LEASE_SECONDS * 1000;
}

/** Reads a queued or dispatching launch's record and resumes it if it is free to take. */
export async function takeOver(entry: ActiveEntry, deps: PollDeps): Promise<Resumed> {
  const stored = await readSettled(entry, deps);
  if (!stored) return "skipped";
  if (await releaseIfFinal(entry, stored, deps)) return "skipped";
  const { state } = stored.record;
  if (state !== "queued" && state !== "dispatching") {
    await deps.active.put(stored.record);
    return "skipped";
  }
  return resume(stored, deps);
}

/**
 * Takes a held launch, or a dispatching one whose lease has lapsed, through a
 * generation-matched write (invariant 2), and drives it; a recovering one is looked up by
 * label before any create.
 */
export async function resume(stored: StoredRecord, deps: PollDeps): Promise<Resumed> {
  const rec = stored.record;
  const now = deps.now();
  const recovering = rec.state === "dispatching";
  if ((recovering && leaseHeld(rec, now)) || !rec.message) return "skipped";
  const lease = newLease(deps.instanceId, now, deps.options.LEASE_SECONDS);
  const next = withState(rec, "dispatching", now, { lease });
  const claimed = await commit(stored, next, { step: "take_over", by: "poll" }, deps);
  if (claimed === "conflict") return "skipped";
  const log = deps.log.with({ launch_id: rec.launch_id, queue: rec.queue, run_id: rec.run_id });
  // What the next event names as the state before: the backlog, or the preempted attempt.
  const previousState = rec.state === "queued" ? "queued" : rec.attempt > 1 ? "preempted" : null;
  const how = { recovering, previousState, by: "poll" } as const;
  const outcome = await driveLaunch(claimed, parseLaunchMessage(rec.message), how, deps, log);
  return outcome.state === "queued" ? "queued" : "dispatched";
}

// A queued launch's place in its queue's backlog, in the order the poll function drains
// it (shared/poll/poll.ts: priority, then age, then run id).
import type { LaunchStore } from "../shared/storage/launch_store.js";

/**
 * The place, or null when the launch is not (or no longer) held. A `queued` event can be
 * read while a poll tick is re-examining the backlog, so a miss is looked up again a few
 * times (about 2 s in all) before it is reported as no place.
 */
export async function backlogPlace(
  store: LaunchStore,
  queue: string,
  runId: string,
  attempts = 8,
): Promise<number | null> {
  for (let i = 0; i < attempts; i++) {
    const place = await placeNow(store, queue, runId);
    if (place !== null) return place;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return null;
}

async function placeNow(store: LaunchStore, queue: string, runId: string): Promise<number | null> {
  const entries = (await store.list(`launches/${queue}/`)).filter((e) => e.state === "queued");
  const held: Array<{ run_id: string; priority: number; created_at: string }> = [];
  for (const e of entries) {
    const stored = await store.read(e.path);
    if (stored?.record.state === "queued" && stored.record.run_id) {
      const r = stored.record;
      held.push({ run_id: r.run_id ?? "", priority: r.priority, created_at: r.created_at });
    }
  }
  held.sort(
    (a, b) =>
      a.priority - b.priority ||
      a.created_at.localeCompare(b.created_at) ||
      a.run_id.localeCompare(b.run_id),
  );
  const i = held.findIndex((h) => h.run_id === runId);
  return i < 0 ? null : i + 1;
}

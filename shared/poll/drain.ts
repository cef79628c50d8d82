// Backlogs: for each queue with held launches, dispatch them by priority, then age, while
// max_jobs slots are free. The slots object keeps max_jobs exact under concurrent ticks.
import type { QueueConfig } from "../schemas/queue_config.js";
import type { ActiveEntry } from "../storage/active_index.js";
import type { PollDeps, TickSummary } from "./deps.js";
import { takeOver } from "./resume.js";

/** A queue's config; null when it has none that works (defaults apply); "unavailable" when it could not be read now. */
export type ConfigOf = (queue: string) => Promise<QueueConfig | null | "unavailable">;

export async function drainBacklogs(
  queued: ActiveEntry[],
  configOf: ConfigOf,
  deps: PollDeps,
  summary: TickSummary,
): Promise<void> {
  const byQueue = new Map<string, ActiveEntry[]>();
  for (const e of queued) byQueue.set(e.queue, [...(byQueue.get(e.queue) ?? []), e]);
  for (const [queue, group] of byQueue) {
    const config = await configOf(queue);
    if (config === "unavailable") {
      summary.errors++;
      continue;
    }
    const max = config?.max_jobs;
    const free =
      max === undefined || max === null
        ? group.length
        : max - (await deps.slots.holders(queue)).length;
    await drainQueue(queue, backlogOrder(group), free, deps, summary);
  }
}

/** Priority (0 first), then age, then run id. */
export function backlogOrder(group: ActiveEntry[]): ActiveEntry[] {
  return [...group].sort(
    (a, b) =>
      a.priority - b.priority ||
      a.created_at.localeCompare(b.created_at) ||
      a.run_id.localeCompare(b.run_id),
  );
}

async function drainQueue(
  queue: string,
  ordered: ActiveEntry[],
  slots: number,
  deps: PollDeps,
  summary: TickSummary,
): Promise<void> {
  let free = slots;
  for (const entry of ordered) {
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

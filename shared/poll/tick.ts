// One poll tick: list the active set (markers), list the jobs of the watched ones in a
// bounded number of Vertex calls, make each change (./observe.ts), resume launches whose
// dispatch gave up, and drain backlogs (./drain.ts). A tick that cannot list markers or
// jobs fails and changes nothing; a failure on one launch is logged and left to the next.
import { DispatchError } from "../errors.js";
import type { RecordState } from "../schemas/launch_record.js";
import { WATCHED_STATES } from "../schemas/launch_record.js";
import type { QueueConfig } from "../schemas/queue_config.js";
import type { ActiveEntry } from "../storage/active_index.js";
import type { PollDeps, TickSummary } from "./deps.js";
import { type ConfigOf, drainBacklogs } from "./drain.js";
import { listJobs } from "./list_jobs.js";
import { observe } from "./observe.js";
import { takeOver } from "./resume.js";

export async function runTick(deps: PollDeps): Promise<TickSummary> {
  const summary: TickSummary = {
    active: 0,
    vertexCalls: 0,
    changes: 0,
    timedOut: 0,
    resubmitted: 0,
    resumed: 0,
    drained: 0,
    errors: 0,
  };
  const entries = await deps.active.list();
  summary.active = entries.length;
  const watched = entries.filter((e) => WATCHED_STATES.has(e.state as RecordState) && e.job_name);
  const jobs = await listJobs(watched, deps, summary);
  const configOf = queueConfigs(deps);
  const each = async (entry: ActiveEntry, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      summary.errors++;
      deps.log.error(`poll: could not update launch ${entry.queue}/${entry.run_id}`, {
        error: err,
        launch_id: entry.launch_id,
      });
    }
  };
  for (const entry of watched) {
    await each(entry, async () => {
      const config = await configOf(entry.queue);
      // Never decide a timeout or a retry on guessed defaults: wait for the real config.
      if (config === "unavailable")
        throw new DispatchError("storage_unavailable", "queue config unavailable");
      await observe(entry, jobs.get(entry.job_name ?? "") ?? null, config, deps, summary);
    });
  }
  for (const entry of entries.filter((e) => e.state === "dispatching")) {
    await each(entry, async () => {
      if ((await takeOver(entry, deps)) === "dispatched") summary.resumed++;
    });
  }
  await drainBacklogs(
    entries.filter((e) => e.state === "queued"),
    configOf,
    deps,
    summary,
  );
  const busy = summary.changes + summary.resumed + summary.drained + summary.errors > 0;
  (busy ? deps.log.info : deps.log.debug)("poll tick done", { ...summary });
  return summary;
}

/** Each queue's config, loaded once per tick. */
function queueConfigs(deps: PollDeps): ConfigOf {
  const configs = new Map<string, Promise<QueueConfig | null | "unavailable">>();
  return (queue) => {
    let config = configs.get(queue);
    if (!config) {
      config = deps.queues.load(queue).catch((err: unknown) => {
        if (err instanceof DispatchError && !err.retryable) {
          deps.log.warning(
            `poll: queue ${queue} has no usable config (${err.message}); using the defaults`,
          );
          return null;
        }
        deps.log.warning(`poll: cannot load queue config ${queue} now`, { error: err });
        return "unavailable";
      });
      configs.set(queue, config);
    }
    return config;
  };
}

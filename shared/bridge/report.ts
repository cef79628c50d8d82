// The bridge's report side: what happened to each bridged item goes back to W&B, so the
// W&B UI shows why a launch did not run. For each bridge/items/ object (bounded per
// tick) it reads the launch record (launches/{queue}/{run_id}.json, or
// rejected/{launch_id}.json for a message too broken to name one):
//   - warnings (image, macros...)                  → updateRunQueueItemWarning, once (the tick
//                                                     that claims them sends them; a crash
//                                                     after the claim loses them: at most once)
//   - rejected                                      → failRunQueueItem, stage "agent"
//   - failed / preempted / stopped before any tick
//     saw it running (start_timeout, image pull...) → failRunQueueItem, stage "run"
//   - running or finished                           → nothing: the run reports itself
//                                                     through wandb.init (WANDB_LAUNCH_TRACE_ID)
// and then deletes the object. A report is sent before its object goes, so a crash
// in between repeats it (W&B answers success: false to a second fail; that is done too).
import type { Logger } from "../log.js";
import type { LaunchRecord } from "../schemas/launch_record.js";
import type { LaunchStore } from "../storage/launch_store.js";
import type { BridgeItem, BridgeState } from "./state.js";
import type { WandbApi } from "./wandb_api.js";

export interface ReportDeps {
  api: WandbApi;
  state: BridgeState;
  store: LaunchStore;
  log: Logger;
  now: () => Date;
  maxReportsPerTick: number;
  orphanSeconds: number;
}

export interface ReportSummary {
  checked: number;
  failed: number;
  warned: number;
  done: number;
}

const NOT_STARTED_FINAL = new Set(["failed", "preempted", "stopped"]);

function failureText(record: LaunchRecord): string {
  const error = record.error
    ? `${record.error.kind}: ${record.error.message}`
    : "no error recorded";
  if (record.state === "rejected") return `vertex-dispatch rejected the launch (${error})`;
  const job = record.job_name ? ` ${record.job_name}` : "";
  return `the Vertex AI job${job} ended ${record.state} before its run started (${error})`;
}

async function readRecord(deps: ReportDeps, item: BridgeItem): Promise<LaunchRecord | null> {
  const found = await deps.store.read(`launches/${item.queue}/${item.run_id}.json`);
  if (found) return found.record;
  return (await deps.store.read(`rejected/${item.launch_id}.json`))?.record ?? null;
}

async function sendWarnings(deps: ReportDeps, item: BridgeItem, record: LaunchRecord) {
  if (record.warnings.length === 0 || !(await deps.state.claimWarnings(item.item_id))) return false;
  try {
    for (const message of record.warnings) {
      await deps.api.warn({ itemId: item.item_id, stage: "agent", message });
    }
  } catch (err) {
    await deps.state.unclaimWarnings(item.item_id);
    throw err;
  }
  return true;
}

/** What to tell W&B about one bridged item now; returns whether its object is done. */
async function reportItem(deps: ReportDeps, item: BridgeItem, sum: ReportSummary) {
  const fields = { item_id: item.item_id, queue: item.queue, run_id: item.run_id };
  const record = await readRecord(deps, item);
  if (!record) {
    const ageSeconds = (deps.now().getTime() - Date.parse(item.created_at)) / 1000;
    if (ageSeconds < deps.orphanSeconds) return false;
    const message = `vertex-dispatch has no launch for this item after ${deps.orphanSeconds} s: its launch message never reached the dispatcher (see the launch-jobs dead-letter topic)`;
    await deps.api.fail({ itemId: item.item_id, stage: "agent", message });
    deps.log.warning("bridge: no launch record for a bridged item; failed it in W&B", fields);
    sum.failed += 1;
    return true;
  }
  if (record.state !== "rejected" && (await sendWarnings(deps, item, record))) sum.warned += 1;
  if (record.state === "rejected" || NOT_STARTED_FINAL.has(record.state)) {
    const stage = record.state === "rejected" ? "agent" : "run";
    const taken = await deps.api.fail({
      itemId: item.item_id,
      stage,
      message: failureText(record),
    });
    deps.log.info("bridge: reported a launch that did not run to W&B", {
      ...fields,
      state: record.state,
      taken,
    });
    sum.failed += 1;
    return true;
  }
  return record.state === "running" || record.state === "finished";
}

/** One pass over the bridged items; a failure on one item is logged and left to the next tick. */
export async function reportOutcomes(deps: ReportDeps): Promise<ReportSummary> {
  const sum: ReportSummary = { checked: 0, failed: 0, warned: 0, done: 0 };
  for (const path of await deps.state.listItems(deps.maxReportsPerTick)) {
    try {
      const item = await deps.state.readItem(path);
      if (!item) continue;
      sum.checked += 1;
      if (await reportItem(deps, item, sum)) {
        await deps.state.removeItem(item.item_id);
        sum.done += 1;
      }
    } catch (err) {
      deps.log.error("bridge: reporting an item to W&B failed; the next tick tries again", {
        path,
        error: err,
      });
    }
  }
  return sum;
}

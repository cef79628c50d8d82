// A cancel message: the job is cancelled (or the launch leaves the backlog) and the
// launch ends `stopped`, through commit()'s `cancel` row: the record and its event
// together (so a tick observing the same job cannot report the stop a second time), the
// slot released, the event published, the marker removed.
import { isRetryable } from "../errors.js";
import { commit, releaseFinal, settle } from "../launch/commit.js";
import { busy } from "../launch/lease.js";
import { launchPath, withState } from "../launch/record.js";
import type { Logger } from "../log.js";
import { FINAL_STATES, WATCHED_STATES } from "../schemas/launch_record.js";
import type { LaunchMessage } from "../schemas/message.js";
import type { StoredRecord } from "../storage/launch_store.js";
import type { DispatchDeps, Outcome } from "./deps.js";

export async function cancelLaunch(message: LaunchMessage, deps: DispatchDeps): Promise<Outcome> {
  const runId = message.run_id ?? "";
  const path = launchPath(message.queue, runId);
  const log = deps.log.with({ queue: message.queue, run_id: runId, action: "cancel" });
  const stored = await deps.store.read(path);
  if (!stored) {
    log.error(
      `cancel: no launch with run_id "${runId}" in queue "${message.queue}" (gs://STATE_BUCKET/${path}); nothing to cancel`,
    );
    return { state: "ignored", launchId: "", jobName: null };
  }
  // A change someone else made but has not published yet comes first: never overwrite it.
  // This also finishes what an interrupted cancel left: its slot, its event, its marker.
  const current = await settle(stored, deps);
  if (current === "held")
    throw busy(stored.record.launch_id, "has a change whose event is being published");
  const { record } = current;
  const ignored: Outcome = {
    state: "ignored",
    launchId: record.launch_id,
    jobName: record.job_name,
  };
  const rlog = log.with({ launch_id: record.launch_id, job_name: record.job_name });
  if (record.state === "stopped") {
    await releaseFinal(record, deps);
    return ignored;
  }
  if (FINAL_STATES.has(record.state)) {
    rlog.info(`cancel: launch already ${record.state}; nothing to do`);
    return ignored;
  }
  if (record.state === "dispatching")
    throw busy(record.launch_id, "is being dispatched; cancel waits until it settles");
  const vertexState = await cancelJob(current, rlog, deps);
  if (vertexState === "refused") return ignored;
  const next = withState(record, "stopped", deps.now(), { vertex_state: vertexState, lease: null });
  const out = await commit(current, next, { step: "cancel", by: "cancel" }, deps);
  if (out === "conflict") throw busy(record.launch_id, "changed meanwhile");
  rlog.info("launch cancelled", { state: "stopped", previous_state: record.state });
  return { state: "stopped", launchId: record.launch_id, jobName: record.job_name };
}

/** CancelCustomJob for a watched job; "refused" when Vertex says it already ended (the poll records how). */
async function cancelJob(stored: StoredRecord, log: Logger, deps: DispatchDeps) {
  const { record } = stored;
  if (!WATCHED_STATES.has(record.state) || !record.job_name) return record.vertex_state;
  try {
    await deps.jobs.cancel(record.job_name);
    return "JOB_STATE_CANCELLING";
  } catch (err) {
    // A job that already ended cannot be cancelled (FAILED_PRECONDITION).
    if (isRetryable(err)) throw err;
    log.warning(`cancel: Vertex refused to cancel ${record.job_name}: ${(err as Error).message}`);
    return "refused" as const;
  }
}

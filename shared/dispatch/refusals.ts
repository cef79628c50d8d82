// Refusals the dispatcher makes before it touches a launch, as errors. One place, so the
// CLI's precheck (shared/precheck.ts) says exactly what the function would say.
import { DispatchError } from "../errors.js";

/** A run_id that another launch of the queue owns (its record sits at this launch's path). */
export function runIdTakenError(queue: string, runId: string, ownerLaunchId: string) {
  return new DispatchError(
    "invalid_message",
    `run_id "${runId}" is already used in queue "${queue}" by another launch (${ownerLaunchId}): give each launch its own run_id, or leave run_id out to have one derived`,
    { issues: [{ path: "run_id", message: "already used by another launch in this queue" }] },
  );
}

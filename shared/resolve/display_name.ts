// Step "display name" (SPEC §4): spec.display_name (at most 128 characters), else the
// message's run name (cut to fit, with a warning), else wandb-{run_id}.
import type { Spec } from "../schemas/queue_config.js";
import { LIMITS } from "./compute_facts.js";
import type { IssueCollector } from "./issues.js";

export function displayNameFor(
  spec: Spec,
  runName: string | undefined,
  runId: string,
  issues: IssueCollector,
): string {
  const max = LIMITS.displayNameMax;
  if (spec.display_name !== undefined) {
    const length = [...spec.display_name].length;
    if (length > max) {
      issues.fromResolved([
        { path: "spec.display_name", message: `at most ${max} characters, got ${length}` },
      ]);
    }
    return spec.display_name;
  }
  if (runName === undefined) return `wandb-${runId}`;
  const cut = [...runName].slice(0, max).join("");
  if (cut !== runName) {
    issues.warn(`display name: the run name is longer than ${max} characters; it was cut to fit`);
  }
  return cut;
}

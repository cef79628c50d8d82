// Step "run checks": combinations of run keys that Vertex accepts but that do not do what
// they say (warnings), or that it refuses (errors).
import type { Run } from "../schemas/queue_config.js";
import type { IssueCollector } from "./issues.js";

export function checkRunOptions(run: Run, issues: IssueCollector): void {
  if (run.max_wait_duration !== undefined && run.scheduling_strategy !== "FLEX_START") {
    issues.warn(
      "run.max_wait_duration: applies to scheduling_strategy FLEX_START only; it has no effect here",
    );
  }
  if (run.disable_retries && run.restart_job_on_worker_restart) {
    issues.warn(
      "run.disable_retries: true overrides restart_job_on_worker_restart: true (Vertex will not restart workers)",
    );
  }
  if (run.reserved_ip_ranges?.length && run.network === undefined) {
    issues.fromResolved(
      [
        {
          path: "run.reserved_ip_ranges",
          message: "reserved IP ranges need a VPC network: set run.network too",
        },
      ],
      ["run.network"],
    );
  }
}

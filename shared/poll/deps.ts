// What the poll core takes: the dispatch deps (it drives launches the same way), the
// ListCustomJobs page size, and what one tick counts.
import type { DispatchDeps } from "../dispatch/deps.js";

export interface PollDeps extends DispatchDeps {
  pageSize: number;
}

export interface TickSummary {
  active: number;
  vertexCalls: number;
  changes: number;
  timedOut: number;
  resubmitted: number;
  resumed: number;
  drained: number;
  errors: number;
}

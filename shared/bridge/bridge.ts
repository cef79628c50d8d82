// One bridge tick (SPEC §13): pop every configured W&B queue, then report outcomes.
//
// Invariants:
//  - Bounded work: at most maxItemsPerTick items popped over all queues, at most
//    maxReportsPerTick bridge objects read.
//  - Never throws: a failure (W&B down, a refused key, Cloud Storage, Pub/Sub) is logged
//    with its kind and retried by the next tick; no item is lost, because W&B keeps an
//    item it leased and was not acked, and a bridge object stays until its report is sent.
//  - A refused key (401/403) stops the tick's W&B calls: every further call would fail the same way.
import { DispatchError } from "../errors.js";
import type { Logger } from "../log.js";
import type { LaunchStore } from "../storage/launch_store.js";
import type { BridgeOptions, WandbQueue } from "./options.js";
import { agentFor, bridgeItem, type PopSummary, type PublishLaunch, queueKey } from "./pop.js";
import { type ReportSummary, reportOutcomes } from "./report.js";
import type { BridgeState } from "./state.js";
import { keyRefused, type WandbApi } from "./wandb_api.js";

export interface BridgeDeps {
  options: BridgeOptions;
  api: WandbApi;
  state: BridgeState;
  store: LaunchStore;
  publishLaunch: PublishLaunch;
  log: Logger;
  now: () => Date;
  /** Per-instance cache of agent ids (kept across ticks). */
  agents: Map<string, string>;
}

export interface BridgeSummary extends PopSummary {
  reports: ReportSummary | null;
  /** One line per failure, with its kind: "acme/model-registry/vertex: wandb_unavailable". */
  errors: string[];
}

function kindOf(err: unknown): string {
  return err instanceof DispatchError ? err.kind : "internal";
}

/** Pops one queue until it is empty or the tick's budget is spent. */
async function popQueue(deps: BridgeDeps, q: WandbQueue, sum: BridgeSummary, budget: number) {
  const agentId = await agentFor(deps, q, false);
  let popped = 0;
  while (popped < budget) {
    const item = await deps.api.pop(q.entity, q.project, q.name, agentId);
    if (!item) break;
    popped += 1;
    sum.popped += 1;
    const outcome = await bridgeItem(deps, q, item);
    if (outcome === "failed") sum.failed += 1;
    else sum.published += 1;
    if (outcome === "acked") sum.acked += 1;
  }
  if (popped > 0) await deps.api.heartbeat(agentId, "RUNNING").catch(() => {});
}

export async function runBridgeTick(deps: BridgeDeps): Promise<BridgeSummary> {
  const sum: BridgeSummary = {
    popped: 0,
    published: 0,
    acked: 0,
    failed: 0,
    reports: null,
    errors: [],
  };
  const note = (where: string, err: unknown) => {
    sum.errors.push(`${where}: ${kindOf(err)}`);
    deps.log.error(`bridge: ${where} failed; the next tick tries again`, { error: err });
  };
  for (const q of deps.options.queues) {
    const budget = deps.options.maxItemsPerTick - sum.popped;
    if (budget <= 0) break;
    try {
      await popQueue(deps, q, sum, budget);
    } catch (err) {
      note(queueKey(q), err);
      if (keyRefused(err)) return sum;
    }
  }
  try {
    sum.reports = await reportOutcomes({
      ...deps,
      maxReportsPerTick: deps.options.maxReportsPerTick,
      orphanSeconds: deps.options.orphanSeconds,
    });
  } catch (err) {
    note("reporting", err);
  }
  return sum;
}

// The bridge's pop side: for each configured W&B queue, make sure a launch agent is
// registered and send its heartbeat, then pop items (bounded per tick) and turn each
// into a launch message on `launch-jobs`.
//
// Exactly once: an item's launch message carries idempotency_key = the item id, and its
// run id is derived from it, so however often an item is published (a pop whose answer
// was lost and that W&B leases again after ~60 s, an ack that failed, a tick that was
// redelivered) the dispatcher makes one job. Order per item: bridge object (create-only)
// → publish → ack. Each step is safe to repeat, and an item is acked only once its
// message is published: until then W&B keeps it and leases it again, so none is lost.
import { DispatchError } from "../errors.js";
import type { Logger } from "../log.js";
import { launchIdFor } from "../resolve/ids.js";
import type { LaunchMessage } from "../schemas/message.js";
import type { WandbQueue } from "./options.js";
import { runSpecToMessage } from "./run_spec.js";
import type { BridgeState } from "./state.js";
import { keyRefused, type PoppedItem, type WandbApi } from "./wandb_api.js";

export type PublishLaunch = (
  message: LaunchMessage,
  attributes: Record<string, string>,
) => Promise<string>;

export interface PopDeps {
  api: WandbApi;
  state: BridgeState;
  publishLaunch: PublishLaunch;
  log: Logger;
  now: () => Date;
  /** Agent ids known to this instance, by W&B queue (saves a read per tick). */
  agents: Map<string, string>;
}

export interface PopSummary {
  popped: number;
  published: number;
  acked: number;
  /** Items W&B was told could not be launched (a runSpec the bridge cannot turn into a message). */
  failed: number;
}

export const queueKey = (q: WandbQueue) => `${q.entity}/${q.project}/${q.name}`;

async function registerAgent(deps: PopDeps, q: WandbQueue): Promise<string> {
  const queues = await deps.api.queueIds(q.entity, q.project);
  const found = queues.find((x) => x.name === q.name);
  if (!found) {
    throw new DispatchError(
      "wandb_rejected",
      `W&B run queue ${queueKey(q)} does not exist: create it in the W&B App (Launch → Create queue, resource GCP Vertex) or fix WANDB_QUEUES`,
    );
  }
  const created = await deps.api.createAgent(q.entity, q.project, [found.id]);
  const agentId = await deps.state.saveAgent(queueKey(q), created, deps.now());
  // Another tick registered one first: ours goes KILLED, so W&B shows one live agent.
  if (agentId !== created) await deps.api.heartbeat(created, "KILLED").catch(() => {});
  deps.log.info("bridge: registered a launch agent", {
    wandb_queue: queueKey(q),
    agent_id: agentId,
  });
  return agentId;
}

/** The queue's agent id, registering one if none is known; then its heartbeat. */
export async function agentFor(deps: PopDeps, q: WandbQueue, busy: boolean): Promise<string> {
  const key = queueKey(q);
  let agentId = deps.agents.get(key) ?? (await deps.state.readAgent(key));
  agentId ??= await registerAgent(deps, q);
  try {
    await deps.api.heartbeat(agentId, busy ? "RUNNING" : "POLLING");
  } catch (err) {
    if (!(err instanceof DispatchError) || err.kind !== "wandb_rejected" || keyRefused(err))
      throw err;
    // W&B no longer knows the agent (deleted in the UI): register a new one next time.
    deps.agents.delete(key);
    await deps.state.removeAgent(key);
    throw err;
  }
  deps.agents.set(key, agentId);
  return agentId;
}

async function rejectItem(deps: PopDeps, q: WandbQueue, item: PoppedItem, err: DispatchError) {
  const ok = await deps.api.fail({
    itemId: item.id,
    stage: "agent",
    message: `vertex-dispatch cannot launch this item: ${err.message}`,
  });
  deps.log.warning("bridge: run-queue item cannot be launched; failed it in W&B", {
    wandb_queue: queueKey(q),
    item_id: item.id,
    error: err.toJSON(),
    reported: ok,
  });
}

/** Publishes one popped item and acks it. Returns what happened to it. */
export async function bridgeItem(
  deps: PopDeps,
  q: WandbQueue,
  item: PoppedItem,
): Promise<"published" | "acked" | "failed"> {
  let message: LaunchMessage;
  try {
    message = runSpecToMessage(item.id, q.queue, item.runSpec);
  } catch (err) {
    if (!(err instanceof DispatchError)) throw err;
    await rejectItem(deps, q, item, err);
    return "failed";
  }
  const runId = message.run_id ?? "";
  const created = await deps.state.createItem({
    version: 1,
    item_id: item.id,
    wandb_queue: queueKey(q),
    queue: q.queue,
    run_id: runId,
    launch_id: launchIdFor(item.id),
    created_at: deps.now().toISOString(),
  });
  const fields = { wandb_queue: queueKey(q), item_id: item.id, queue: q.queue, run_id: runId };
  await deps.publishLaunch(message, { idempotency_key: item.id });
  deps.log.info("bridge: published a run-queue item", { ...fields, again: created === "exists" });
  if (await deps.api.ack(item.id, runId)) return "acked";
  // The lease lapsed before the ack: W&B will lease the item again, and the next
  // publish of it is the same launch (same idempotency key).
  deps.log.warning("bridge: W&B did not take the ack; the item will come back", fields);
  return "published";
}

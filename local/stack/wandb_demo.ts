// The W&B half of the demo: push a run-queue item the way `wandb launch --queue` does
// (GraphQL pushToRunQueueByName with the API key), then follow the item in the W&B
// emulator until the bridge has acked it (CLAIMED, with the run id) or failed it.
import type { WandbEmulator } from "../wandb/index.js";
import { DEMO_WANDB_ENTITY, DEMO_WANDB_PROJECT, DEMO_WANDB_QUEUE, demoRunSpec } from "./demo.js";

const PUSH = `mutation pushToRunQueueByName($entityName: String!, $projectName: String!, $queueName: String!, $runSpec: JSONString!) {
  pushToRunQueueByName(input: {entityName: $entityName, projectName: $projectName, queueName: $queueName, runSpec: $runSpec}) { runQueueItemId runSpec } }`;

/** Pushes the demo runSpec to the demo W&B queue; returns the item id. */
export async function pushDemoItem(wandb: WandbEmulator, runSpec = demoRunSpec()): Promise<string> {
  const res = await fetch(`${wandb.url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Basic ${Buffer.from(`api:${wandb.apiKey}`).toString("base64")}`,
    },
    body: JSON.stringify({
      query: PUSH,
      variables: {
        entityName: DEMO_WANDB_ENTITY,
        projectName: DEMO_WANDB_PROJECT,
        queueName: DEMO_WANDB_QUEUE,
        runSpec: JSON.stringify(runSpec),
      },
    }),
  });
  const body = (await res.json()) as {
    data?: { pushToRunQueueByName?: { runQueueItemId?: string } };
    errors?: unknown;
  };
  const id = body.data?.pushToRunQueueByName?.runQueueItemId;
  if (!id) throw new Error(`pushToRunQueueByName failed: ${JSON.stringify(body.errors)}`);
  return id;
}

export interface ItemState {
  state: string;
  run_name: string | null;
  error: { message: string; stage: string } | null;
  warnings: Array<{ message: string }>;
}

/** The item's state from the emulator's control API. */
export async function itemState(wandb: WandbEmulator, itemId: string): Promise<ItemState> {
  const res = await fetch(`${wandb.url}/emulator/v1/items/${encodeURIComponent(itemId)}`);
  if (!res.ok) throw new Error(`no W&B item ${itemId}: HTTP ${res.status}`);
  return (await res.json()) as ItemState;
}

/** Polls the item until it is in one of `states`; says what it waited for on timeout. */
export async function waitForItem(
  wandb: WandbEmulator,
  itemId: string,
  states: string[],
  timeoutMs: number,
): Promise<ItemState> {
  const deadline = Date.now() + timeoutMs;
  let last: ItemState | undefined;
  while (Date.now() < deadline) {
    last = await itemState(wandb, itemId);
    if (states.includes(last.state)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `W&B item ${itemId} is ${last?.state ?? "unknown"}, not ${states.join(" or ")}, after ${timeoutMs} ms`,
  );
}

// The bridge's own objects in the state bucket, beside the launch records:
//   bridge/items/{item}.json                   one per bridged run-queue item, until its outcome is reported to W&B
//   bridge/warned/{item}                        its warnings are claimed by the tick that sends them
//   bridge/agents/{entity}/{project}/{queue}.json  the launch agent id the bridge registered for a W&B queue
// Invariant: every object is written create-only (ifGenerationMatch: 0) and never
// changed; progress is a new object, completion a delete. So two overlapping ticks can
// never both own a report, and a lost answer to a create is told apart by reading back.
import type { Bucket } from "@google-cloud/storage";
import { z } from "zod";
import { httpStatus, storageError } from "../storage/errors.js";

export const BridgeItemSchema = z.object({
  version: z.literal(1),
  item_id: z.string(),
  /** entity/project/queue-name of the W&B run queue. */
  wandb_queue: z.string(),
  queue: z.string(),
  run_id: z.string(),
  launch_id: z.string(),
  created_at: z.string(),
});
export type BridgeItem = z.infer<typeof BridgeItemSchema>;

const AgentSchema = z.object({ agent_id: z.string(), created_at: z.string() });

/** Item ids are W&B global ids (base64: may hold '/', '+', '='): encoded into one path segment. */
export function itemPath(itemId: string): string {
  return `bridge/items/${encodeURIComponent(itemId)}.json`;
}

export interface BridgeState {
  /** Creates the item's object; "exists" if it was already there. */
  createItem(item: BridgeItem): Promise<"created" | "exists">;
  readItem(path: string): Promise<BridgeItem | null>;
  /** Up to `max` item object paths, oldest names first. */
  listItems(max: number): Promise<string[]>;
  removeItem(itemId: string): Promise<void>;
  /**
   * Claims the sending of the item's warnings: true for exactly one caller (create-only),
   * so two overlapping ticks never both send them.
   */
  claimWarnings(itemId: string): Promise<boolean>;
  /** Gives a claim back after a send that failed, so a later tick sends the warnings. */
  unclaimWarnings(itemId: string): Promise<void>;
  readAgent(wandbQueue: string): Promise<string | null>;
  /** Stores the agent id unless one is stored already; returns the stored one. */
  saveAgent(wandbQueue: string, agentId: string, now: Date): Promise<string>;
  removeAgent(wandbQueue: string): Promise<void>;
}

const agentPath = (q: string) => `bridge/agents/${q}.json`;
const warnedPath = (id: string) => `bridge/warned/${encodeURIComponent(id)}`;

export function bucketBridgeState(bucket: Bucket): BridgeState {
  return {
    createItem: (item) => create(bucket, itemPath(item.item_id), JSON.stringify(item)),
    async readItem(path) {
      const got = await read(bucket, path);
      return got === null ? null : BridgeItemSchema.parse(got);
    },
    async listItems(max) {
      try {
        const [files] = await bucket.getFiles({
          prefix: "bridge/items/",
          maxResults: max,
          autoPaginate: false,
        });
        return files.map((f) => f.name);
      } catch (err) {
        throw storageError(err, "listing bridge/items/");
      }
    },
    async removeItem(itemId) {
      await remove(bucket, itemPath(itemId));
      await remove(bucket, warnedPath(itemId));
    },
    async claimWarnings(itemId) {
      return (await create(bucket, warnedPath(itemId), "{}")) === "created";
    },
    unclaimWarnings: (itemId) => remove(bucket, warnedPath(itemId)),
    async readAgent(q) {
      const got = await read(bucket, agentPath(q));
      return got === null ? null : AgentSchema.parse(got).agent_id;
    },
    async saveAgent(q, agentId, now) {
      const body = JSON.stringify({ agent_id: agentId, created_at: now.toISOString() });
      if ((await create(bucket, agentPath(q), body)) === "created") return agentId;
      return (await this.readAgent(q)) ?? agentId;
    },
    removeAgent: (q) => remove(bucket, agentPath(q)),
  };
}

/** Creates an object that must not exist yet; "exists" if it does. */
async function create(bucket: Bucket, path: string, body: string): Promise<"created" | "exists"> {
  try {
    await bucket.file(path).save(body, {
      resumable: false,
      contentType: "application/json",
      preconditionOpts: { ifGenerationMatch: 0 },
    });
    return "created";
  } catch (err) {
    // 412: already there (ours, if an answer was lost and the SDK retried: the same content either way).
    if (httpStatus(err) === 412) return "exists";
    throw storageError(err, `creating ${path}`);
  }
}

/** An object's JSON; null when it does not exist. */
async function read(bucket: Bucket, path: string): Promise<unknown | null> {
  try {
    const [data] = await bucket.file(path).download();
    return JSON.parse(data.toString("utf8"));
  } catch (err) {
    if (httpStatus(err) === 404) return null;
    throw storageError(err, `reading ${path}`);
  }
}

/** Deletes an object; a missing one is fine. */
async function remove(bucket: Bucket, path: string): Promise<void> {
  try {
    await bucket.file(path).delete();
  } catch (err) {
    if (httpStatus(err) !== 404) throw storageError(err, `deleting ${path}`);
  }
}

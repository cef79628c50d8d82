// Per-queue capacity for `max_jobs`: one small object per queue in the state bucket,
// `slots/{queue}.json` = {"holders": [launch_id, ...]}, changed only with generation
// preconditions. Invariant: a launch creates a Vertex job only while it holds a slot, so
// a queue never has more than max_jobs jobs, however many instances dispatch at once.
import type { Bucket } from "@google-cloud/storage";
import { DispatchError } from "./errors.js";
import { httpStatus, storageError } from "./storage/errors.js";
import { readCurrent } from "./storage/read_current.js";

export interface Slots {
  /** Takes a slot for the launch if one is free (true), or says the queue is full (false). Idempotent. */
  acquire(queue: string, launchId: string, max: number): Promise<boolean>;
  /** Gives the launch's slot back. Idempotent. */
  release(queue: string, launchId: string): Promise<void>;
  /** Launch ids holding a slot. */
  holders(queue: string): Promise<string[]>;
}

const ATTEMPTS = 20;

export function bucketSlots(bucket: Bucket): Slots {
  async function read(queue: string): Promise<{ holders: string[]; generation: number | string }> {
    const current = await readCurrent(bucket, `slots/${queue}.json`);
    if (!current) return { holders: [], generation: 0 };
    const parsed = JSON.parse(current.data.toString("utf8")) as { holders?: unknown };
    const holders = Array.isArray(parsed.holders) ? parsed.holders.map(String) : [];
    return { holders, generation: current.generation };
  }

  /** Applies `change` under a generation precondition, re-reading on conflict. */
  async function modify(
    queue: string,
    change: (holders: string[]) => string[] | null,
  ): Promise<string[] | null> {
    for (let i = 0; i < ATTEMPTS; i++) {
      const { holders, generation } = await read(queue);
      const next = change(holders);
      if (next === null) return null;
      if (next === holders) return holders;
      try {
        await bucket.file(`slots/${queue}.json`).save(JSON.stringify({ holders: next }), {
          resumable: false,
          validation: false,
          contentType: "application/json",
          preconditionOpts: { ifGenerationMatch: generation },
        });
        return next;
      } catch (err) {
        if (httpStatus(err) !== 412) throw storageError(err, `writing slots/${queue}.json`);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (i + 1)));
      }
    }
    throw new DispatchError("launch_busy", `slots of queue ${queue} are contended; retrying later`);
  }

  return {
    async acquire(queue, launchId, max) {
      const out = await modify(queue, (holders) => {
        if (holders.includes(launchId)) return holders;
        if (holders.length >= max) return null;
        return [...holders, launchId];
      });
      return out !== null;
    },
    async release(queue, launchId) {
      await modify(queue, (holders) =>
        holders.includes(launchId) ? holders.filter((h) => h !== launchId) : holders,
      );
    },
    async holders(queue) {
      return (await read(queue)).holders;
    },
  };
}

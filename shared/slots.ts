// Per-queue capacity for `max_jobs`: one create-only object per slot taken,
// `slots/{queue}/{index}` for index 0..max_jobs-1 (./storage/slot_objects.ts), counted by a
// listing. No object is shared by all admissions, so a burst writes each slot object once
// (Cloud Storage sustains about one write per second per object), not one object per launch.
//
// Invariants: a launch creates a Vertex job only while it holds a slot. Exactness: a slot
// is taken by a create-only write of one index below max, so at most max launches hold one
// when every holder's index is below max; a holder left above a lowered max is counted too,
// because every new holder lists again after its create and gives its slot back when the
// queue then holds more than max (the last of any set of holders to create sees them all,
// so no set over max survives); a repeated acquire checks the same. Release deletes only
// the launch's own generations.
import type { Bucket } from "@google-cloud/storage";
import { DispatchError } from "./errors.js";
import { type SlotObject, type SlotObjects, slotObjects } from "./storage/slot_objects.js";

export interface Slots {
  /** Takes a slot for the launch if one is free (true), or says the queue is full (false). Idempotent. */
  acquire(queue: string, launchId: string, max: number): Promise<boolean>;
  /** Gives the launch's slot back. Idempotent. */
  release(queue: string, launchId: string): Promise<void>;
  /** Launch ids holding a slot. */
  holders(queue: string): Promise<string[]>;
}

/** Free indices tried from one listing before listing again (a 412 means another launch took it). */
const TRIES_PER_LISTING = 3;
const LISTINGS = 10;
/** Free indices a burst is spread over beyond those held (the window stays small for a huge max_jobs). */
const SPREAD = 64;

export function bucketSlots(bucket: Bucket, random: () => number = Math.random): Slots {
  return objectSlots(slotObjects(bucket), random);
}

export function objectSlots(objects: SlotObjects, random: () => number): Slots {
  /**
   * The launch keeps its slot only if the queue holds at most max slots (listed after its
   * create), else gives it back. Safe to give back: acquire runs before the job is created.
   */
  async function keepOrGiveBack(queue: string, launchId: string, max: number, held: SlotObject[]) {
    if (held.length <= max) return true;
    for (const slot of held) if (slot.launchId === launchId) await objects.remove(queue, slot);
    return false;
  }

  return {
    async acquire(queue, launchId, max) {
      for (let listing = 0; listing < LISTINGS; listing++) {
        const held = await objects.list(queue);
        if (held.some((s) => s.launchId === launchId))
          return keepOrGiveBack(queue, launchId, max, held);
        if (held.length >= max) return false;
        for (const index of freeIndices(held, max, random).slice(0, TRIES_PER_LISTING)) {
          if ((await objects.create(queue, index, launchId)) === "taken") continue;
          return keepOrGiveBack(queue, launchId, max, await objects.list(queue));
        }
      }
      throw new DispatchError(
        "launch_busy",
        `slots of queue ${queue} kept being taken while this launch tried ${LISTINGS * TRIES_PER_LISTING} of them; retrying later`,
      );
    },
    async release(queue, launchId) {
      for (const slot of await objects.list(queue)) {
        if (slot.launchId === launchId) await objects.remove(queue, slot);
      }
    },
    async holders(queue) {
      return [...new Set((await objects.list(queue)).map((s) => s.launchId))];
    },
  };
}

/**
 * Free indices below max in a random order, from a window of the lowest `held + SPREAD`
 * indices: by pigeonhole the window has a free index whenever fewer than max are held,
 * and a burst of acquirers spreads over it instead of racing for the same index.
 */
export function freeIndices(held: SlotObject[], max: number, random: () => number): number[] {
  const taken = new Set(held.map((s) => s.index));
  const window = Math.min(max, held.length + SPREAD);
  const free: number[] = [];
  for (let i = 0; i < window; i++) if (!taken.has(i)) free.push(i);
  for (let i = free.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [free[i], free[j]] = [free[j] as number, free[i] as number];
  }
  return free;
}

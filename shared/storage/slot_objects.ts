// The `max_jobs` slot objects of a queue in the state bucket: `slots/{queue}/{index}`, one
// small create-only object per slot taken, holding the launch id (as content and in its
// custom metadata, so a listing names the holders without reading each object).
//
// Invariants: a slot object is created only with `ifGenerationMatch: 0` and deleted only with
// `ifGenerationMatch: <the generation listed>`, so no call ever replaces or removes another
// launch's slot; each holding writes its object exactly twice (taken, given back), so no
// object takes a burst of writes however many launches arrive at once.
import type { Bucket } from "@google-cloud/storage";
import { httpStatus, storageError } from "./errors.js";

export interface SlotObject {
  index: number;
  /** The holder ("" for an object without one: still counted as taken). */
  launchId: string;
  generation: string;
}

export interface SlotObjects {
  /** Every slot object of the queue (strongly consistent: a create that returned is listed). */
  list(queue: string): Promise<SlotObject[]>;
  /** Takes `index` for the launch; "taken" when another launch holds it. */
  create(queue: string, index: number, launchId: string): Promise<SlotObject | "taken">;
  /** Deletes this generation of the slot; gone already or taken again by another launch is fine. */
  remove(queue: string, slot: SlotObject): Promise<void>;
}

export const slotPrefix = (queue: string) => `slots/${queue}/`;
export const slotPath = (queue: string, index: number) => `${slotPrefix(queue)}${index}`;

const PRECONDITION_FAILED = 412;
const NOT_FOUND = 404;

export function slotObjects(bucket: Bucket): SlotObjects {
  /** The slot at `index` if the launch holds it (a create whose answer was lost, then retried by the SDK, meets its own write). */
  async function heldBy(queue: string, index: number, launchId: string) {
    const file = bucket.file(slotPath(queue, index));
    try {
      const [metadata] = await file.getMetadata();
      if (metadata.metadata?.launch_id !== launchId) return null;
      return { index, launchId, generation: String(metadata.generation) };
    } catch (err) {
      if (httpStatus(err) === NOT_FOUND) return null;
      throw storageError(err, `reading slot ${file.name}`);
    }
  }

  return {
    async list(queue) {
      try {
        const [files] = await bucket.getFiles({ prefix: slotPrefix(queue), autoPaginate: true });
        return files.flatMap((f) => {
          const tail = f.name.slice(slotPrefix(queue).length);
          if (!/^\d+$/.test(tail)) return [];
          const launchId = String(f.metadata.metadata?.launch_id ?? "");
          return [{ index: Number(tail), launchId, generation: String(f.metadata.generation) }];
        });
      } catch (err) {
        throw storageError(err, `listing slots of queue ${queue}`);
      }
    },
    async create(queue, index, launchId) {
      const file = bucket.file(slotPath(queue, index));
      try {
        // Always with a precondition: an unconditional save turns the SDK's retries off for good.
        await file.save(launchId, {
          resumable: false,
          validation: false,
          contentType: "text/plain",
          metadata: { metadata: { launch_id: launchId } },
          preconditionOpts: { ifGenerationMatch: 0 },
        });
        return { index, launchId, generation: String(file.metadata.generation) };
      } catch (err) {
        if (httpStatus(err) !== PRECONDITION_FAILED) throw storageError(err, `taking ${file.name}`);
        return (await heldBy(queue, index, launchId)) ?? "taken";
      }
    },
    async remove(queue, slot) {
      const name = slotPath(queue, slot.index);
      try {
        await bucket.file(name).delete({ ifGenerationMatch: slot.generation });
      } catch (err) {
        const status = httpStatus(err);
        if (status === NOT_FOUND || status === PRECONDITION_FAILED) return;
        throw storageError(err, `giving back ${name}`);
      }
    },
  };
}

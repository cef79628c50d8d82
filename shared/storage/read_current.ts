// Reads an object's current content together with its generation, consistently.
//
// Invariant: only a 404 on the metadata means "no such object". The content is then
// downloaded at exactly that generation; a 404 there means someone replaced the object
// in between (its old generation is gone), so the read starts over, never "missing".
import type { Bucket } from "@google-cloud/storage";
import { DispatchError } from "../errors.js";
import { httpStatus, storageError } from "./errors.js";

const ATTEMPTS = 10;

export async function readCurrent(
  bucket: Bucket,
  name: string,
): Promise<{ data: Buffer; generation: string } | null> {
  for (let i = 0; i < ATTEMPTS; i++) {
    let generation: string;
    try {
      const [metadata] = await bucket.file(name).getMetadata();
      generation = String(metadata.generation);
    } catch (err) {
      if (httpStatus(err) === 404) return null;
      throw storageError(err, `reading ${name}`);
    }
    try {
      const [data] = await bucket.file(name, { generation }).download();
      return { data, generation };
    } catch (err) {
      if (httpStatus(err) !== 404) throw storageError(err, `reading ${name}`);
      // Replaced between the two calls: read the newer generation, after a short pause.
      await new Promise((r) => setTimeout(r, 5 * (i + 1)));
    }
  }
  throw new DispatchError("launch_busy", `${name} keeps changing while being read; retrying later`);
}

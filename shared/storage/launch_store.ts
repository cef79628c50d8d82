// Launch records in the state bucket, read and written with generation preconditions.
//
// Invariants: a record is created only with `ifGenerationMatch: 0` (create-only), and
// changed only with `ifGenerationMatch: <the generation read>`; a precondition failure
// (412) is returned as "conflict", never retried blindly, so two instances can never
// both believe they own a launch.
import { randomUUID } from "node:crypto";
import type { Bucket, File } from "@google-cloud/storage";
import { recordPath } from "../launch/record.js";
import { type LaunchRecord, LaunchRecordSchema } from "../schemas/launch_record.js";
import { httpStatus, storageError } from "./errors.js";
import { readCurrent } from "./read_current.js";

export interface StoredRecord {
  record: LaunchRecord;
  generation: string;
}

export interface LaunchStore {
  /** Creates the record if none exists at its path; "exists" otherwise. */
  create(record: LaunchRecord): Promise<StoredRecord | "exists">;
  /** Replaces the record if its generation is still `generation`; "conflict" otherwise. */
  update(record: LaunchRecord, generation: string): Promise<StoredRecord | "conflict">;
  read(path: string): Promise<StoredRecord | null>;
  /** Every record under a prefix (`launches/`, `launches/q/`), with its state from object metadata. */
  list(prefix: string): Promise<Array<{ path: string; state: string; generation: string }>>;
}

const PRECONDITION_FAILED = 412;

/** The object's generation if its current content is the write with this id, else null. */
async function ownWrite(file: File, writeId: string): Promise<string | null> {
  try {
    const [metadata] = await file.getMetadata();
    return metadata.metadata?.write_id === writeId ? String(metadata.generation) : null;
  } catch (err) {
    if (httpStatus(err) === 404) return null;
    throw storageError(err, `reading launch record ${file.name}`);
  }
}

export function launchStore(bucket: Bucket): LaunchStore {
  async function write(
    record: LaunchRecord,
    ifGenerationMatch: number | string,
  ): Promise<StoredRecord | "failed"> {
    const file = bucket.file(recordPath(record));
    // The SDK retries a conditional write whose answer was lost; the retry then meets our
    // own write and answers 412. A write id in the object's metadata tells that 412 apart
    // from a real conflict, so a lost answer is never read as "someone else won".
    const writeId = randomUUID();
    try {
      await file.save(JSON.stringify(record), {
        resumable: false,
        validation: false,
        contentType: "application/json",
        metadata: {
          metadata: { state: record.state, launch_id: record.launch_id, write_id: writeId },
        },
        preconditionOpts: { ifGenerationMatch },
      });
    } catch (err) {
      if (httpStatus(err) !== PRECONDITION_FAILED) {
        throw storageError(err, `writing launch record ${file.name}`);
      }
      const ours = await ownWrite(file, writeId);
      return ours === null ? "failed" : { record, generation: ours };
    }
    return { record, generation: String(file.metadata.generation) };
  }

  return {
    async create(record) {
      const out = await write(record, 0);
      return out === "failed" ? "exists" : out;
    },
    async update(record, generation) {
      const out = await write(record, generation);
      return out === "failed" ? "conflict" : out;
    },
    async read(path) {
      const current = await readCurrent(bucket, path);
      if (!current) return null;
      const record = LaunchRecordSchema.parse(JSON.parse(current.data.toString("utf8")));
      return { record, generation: current.generation };
    },
    async list(prefix) {
      try {
        const [files] = await bucket.getFiles({ prefix, autoPaginate: true });
        return files.map((f) => ({
          path: f.name,
          state: String(f.metadata.metadata?.state ?? "unknown"),
          generation: String(f.metadata.generation),
        }));
      } catch (err) {
        throw storageError(err, `listing launch records under ${prefix}`);
      }
    },
  };
}

// The active set: one empty marker object per launch that is not final, at
// `active/{queue}/{run_id}`, whose custom metadata carries what the poll function needs
// to see changes without reading every record (state, job, priority, age). A listing of
// `active/` costs one Cloud Storage call per 1,000 active launches, however many finished
// launches the state bucket holds.
//
// Invariant: the launch record is the truth; a marker is a hint. A marker that disagrees
// with its record is mended by whoever reads both (the poll function), never trusted.
import type { Bucket, File } from "@google-cloud/storage";
import { launchIdFor } from "../resolve/ids.js";
import { attemptKey, type LaunchRecord } from "../schemas/launch_record.js";
import { httpStatus, storageError } from "./errors.js";

export interface ActiveEntry {
  queue: string;
  run_id: string;
  launch_id: string;
  state: string;
  job_name: string | null;
  /** The `launch-id` label of the current attempt's job. */
  job_label: string;
  priority: number;
  attempt: number;
  /** When the launch was first received (backlog order). */
  created_at: string;
  /** The record's `updated_at` when the marker was written (a claim writes it just before the record). */
  updated_at: string;
}

export interface ActiveIndex {
  /** Writes (or overwrites) the launch's marker from its record. */
  put(record: LaunchRecord): Promise<void>;
  /** Writes the launch's marker only if it has none (create-only): its generation, or "exists". */
  create(record: LaunchRecord): Promise<{ generation: string } | "exists">;
  /** Removes the marker only if it is still this generation (nobody rewrote it since). */
  removeGeneration(queue: string, runId: string, generation: string): Promise<void>;
  /** Removes the launch's marker; a missing marker is fine. */
  remove(queue: string, runId: string): Promise<void>;
  /** Every marker. */
  list(): Promise<ActiveEntry[]>;
}

export function markerPath(queue: string, runId: string): string {
  return `active/${queue}/${runId}`;
}

/** Writes the marker object of `record`; create-only when `createOnly`. Returns the file written. */
async function saveMarker(bucket: Bucket, record: LaunchRecord, createOnly: boolean) {
  const file = bucket.file(markerPath(record.queue ?? "", record.run_id ?? ""));
  await file.save("", {
    resumable: false,
    validation: false,
    // GCS's own default, given so Storage does not guess one from the name (its mime lookup).
    contentType: "application/octet-stream",
    metadata: { metadata: markerMetadata(record) },
    ...(createOnly ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
  });
  return file;
}

export function activeIndex(bucket: Bucket): ActiveIndex {
  return {
    async put(record) {
      if (record.queue === null || record.run_id === null) return;
      try {
        await saveMarker(bucket, record, false);
      } catch (err) {
        throw storageError(err, `writing marker ${markerPath(record.queue, record.run_id)}`);
      }
    },
    async create(record) {
      if (record.queue === null || record.run_id === null) return { generation: "0" };
      try {
        const file = await saveMarker(bucket, record, true);
        return { generation: String(file.metadata.generation) };
      } catch (err) {
        // Also the answer to a retried create whose first answer was lost: the caller then
        // reads the record, as for any marker that exists (shared/dispatch/claim.ts).
        if (httpStatus(err) === 412) return "exists";
        throw storageError(err, `creating marker ${markerPath(record.queue, record.run_id)}`);
      }
    },
    async removeGeneration(queue, runId, generation) {
      try {
        await bucket.file(markerPath(queue, runId)).delete({ ifGenerationMatch: generation });
      } catch (err) {
        const status = httpStatus(err);
        if (status === 404 || status === 412) return; // gone, or rewritten by someone else
        throw storageError(err, `removing marker ${markerPath(queue, runId)}`);
      }
    },
    async remove(queue, runId) {
      try {
        await bucket.file(markerPath(queue, runId)).delete();
      } catch (err) {
        if (httpStatus(err) === 404) return;
        throw storageError(err, `removing marker ${markerPath(queue, runId)}`);
      }
    },
    async list() {
      const out: ActiveEntry[] = [];
      for (const f of await listMarkers(bucket)) {
        const entry = markerEntry(f);
        if (entry) out.push(entry);
      }
      return out;
    },
  };
}

/** A marker's custom metadata, from its record. */
function markerMetadata(record: LaunchRecord): Record<string, string> {
  const metadata: Record<string, string> = {
    launch_id: record.launch_id,
    state: record.state,
    priority: String(record.priority),
    attempt: String(record.attempt),
    created_at: record.created_at,
    updated_at: record.updated_at,
    // The current attempt's launch-id label, to find its job in a label-filtered list.
    job_label: launchIdFor(attemptKey(record)),
  };
  if (record.job_name) metadata.job_name = record.job_name;
  return metadata;
}

/** Every object under `active/`, a page of 1,000 per call. */
async function listMarkers(bucket: Bucket): Promise<File[]> {
  const files: File[] = [];
  let pageToken: string | undefined;
  do {
    try {
      const [page, next] = await bucket.getFiles({
        prefix: "active/",
        autoPaginate: false,
        maxResults: 1000,
        pageToken,
      });
      files.push(...page);
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } catch (err) {
      throw storageError(err, "listing active launches");
    }
  } while (pageToken);
  return files;
}

/** The entry a marker stands for; null for an object that is not a well-formed marker. */
function markerEntry(f: File): ActiveEntry | null {
  const [, queue, runId] = f.name.split("/");
  const m = (f.metadata.metadata ?? {}) as Record<string, string | undefined>;
  if (!queue || !runId || !m.launch_id || !m.state) return null;
  return {
    queue,
    run_id: runId,
    launch_id: m.launch_id,
    state: m.state,
    job_name: m.job_name ?? null,
    job_label: m.job_label ?? m.launch_id,
    priority: Number(m.priority ?? 2),
    attempt: Number(m.attempt ?? 1),
    created_at: m.created_at ?? "",
    updated_at: m.updated_at ?? "",
  };
}

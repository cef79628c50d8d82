// In-memory state: CustomJobs (canonical proto3 JSON plus emulator bookkeeping) and the
// long-running operations DeleteCustomJob starts.
import { randomBytes } from "node:crypto";
import type { JsonObject } from "./json.js";

export type OutcomeKind = "succeed" | "fail" | "preempt" | "stockout" | "expire";

export interface Outcome {
  kind: OutcomeKind;
  /** gRPC code of the job's error; each kind has a default. */
  code?: number;
  /** The job's error message; each kind has a default. */
  message?: string;
}

export interface StoredJob {
  /** Full name with the project number. */
  name: string;
  projectNumber: string;
  location: string;
  id: string;
  /** Creation order, to order jobs created in the same millisecond. */
  seq: number;
  /** The job as Vertex returns it (canonical proto3 JSON). */
  json: JsonObject;
  /** How the job ends when the clock runs it to the end. */
  outcome: Outcome;
  timer: NodeJS.Timeout | null;
}

export interface StoredOperation {
  name: string;
  /** The google.longrunning.Operation once done. */
  done: JsonObject;
  /** The Operation as first returned (done: false). */
  pending: JsonObject;
  polled: boolean;
}

/** A positive 63-bit decimal id, like Vertex's job and operation ids. */
export function newNumericId(): string {
  const n = randomBytes(8).readBigUInt64BE(0) & 0x7fffffffffffffffn;
  return String(n < 1000000000000000000n ? n + 1000000000000000000n : n);
}

export class Store {
  readonly jobs = new Map<string, StoredJob>();
  readonly operations = new Map<string, StoredOperation>();
  private seq = 0;

  nextSeq(): number {
    return ++this.seq;
  }

  clear(): void {
    for (const job of this.jobs.values()) if (job.timer) clearTimeout(job.timer);
    this.jobs.clear();
    this.operations.clear();
  }
}

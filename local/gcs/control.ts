// The emulator's test controls: injected faults, the deny list (403 per bucket) and the
// request log. Used in-process through the handle and over HTTP under /emulator/v1.
import { randomUUID } from "node:crypto";
import { type WriteRateReport, WriteRates } from "./write_rate.js";

/** Operations are the JSON API method ids, plus `uploads.resumable` for a resumable session's PUTs. */
export const OPERATIONS = [
  "buckets.insert",
  "buckets.get",
  "buckets.getStorageLayout",
  "buckets.list",
  "buckets.patch",
  "buckets.delete",
  "objects.insert",
  "objects.get",
  "objects.list",
  "objects.patch",
  "objects.update",
  "objects.delete",
  "objects.rewrite",
  "objects.copy",
  "uploads.resumable",
  "managedFolders.list",
] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface FaultSpec {
  /** An operation id, or "*" for every operation. */
  operation: Operation | "*";
  /** HTTP status to answer with; 0 drops the connection; omitted: only the delay applies. */
  status?: number;
  /** Error message in the JSON body (default: the standard one for the status). */
  message?: string;
  /** How many matching requests it hits before it is spent; omitted: until cleared. */
  count?: number;
  /** Probability (0..1] that a matching request is hit; default 1. */
  rate?: number;
  /** Milliseconds to wait before answering (before the fault's status, or before serving). */
  delayMs?: number;
  /** Only requests for this bucket. */
  bucket?: string;
  /** "before" (default): the request does nothing; "after": it takes effect, then the answer is the fault (a lost answer). */
  when?: "before" | "after";
}

export interface Fault extends FaultSpec {
  id: string;
  /** Requests this fault has hit so far. */
  hits: number;
}

export interface RequestRecord {
  time: string;
  method: string;
  path: string;
  operation: string;
  bucket?: string;
  object?: string;
  status: number;
  /** The id of the fault that answered, when one did. */
  fault?: string;
}

export interface DenyList {
  buckets: string[];
  /** Who the 403 message says was refused. */
  principal: string;
}

const MAX_LOG = 10_000;
export const DEFAULT_PRINCIPAL = "Anonymous caller";

export class Control {
  private faultList: Fault[] = [];
  private deniedBuckets = new Set<string>();
  private principal = DEFAULT_PRINCIPAL;
  private log: RequestRecord[] = [];
  private countsByOperation: Record<string, number> = {};
  private readonly rates = new WriteRates();

  constructor(private readonly resetData: () => void) {}

  injectFault(spec: FaultSpec): Fault {
    const problem = faultProblem(spec);
    if (problem) throw new Error(`invalid fault: ${problem}`);
    const fault: Fault = { ...spec, id: randomUUID(), hits: 0 };
    this.faultList.push(fault);
    return { ...fault };
  }

  faults(): Fault[] {
    return this.faultList.map((f) => ({ ...f }));
  }

  removeFault(id: string): boolean {
    const before = this.faultList.length;
    this.faultList = this.faultList.filter((f) => f.id !== id);
    return this.faultList.length < before;
  }

  clearFaults(): void {
    this.faultList = [];
  }

  /** The fault that hits this request, if any; spends one of its count. */
  takeFault(operation: string, bucket: string | undefined): Fault | undefined {
    for (const fault of this.faultList) {
      if (fault.operation !== "*" && fault.operation !== operation) continue;
      if (fault.bucket !== undefined && fault.bucket !== bucket) continue;
      if (fault.count !== undefined && fault.hits >= fault.count) continue;
      if (Math.random() >= (fault.rate ?? 1)) continue;
      fault.hits++;
      return { ...fault };
    }
    return undefined;
  }

  deny(bucket: string): void {
    this.deniedBuckets.add(bucket);
  }

  allow(bucket: string): void {
    this.deniedBuckets.delete(bucket);
  }

  setDenyList(list: { buckets: string[]; principal?: string }): void {
    this.deniedBuckets = new Set(list.buckets);
    if (list.principal !== undefined) this.principal = list.principal;
  }

  denyList(): DenyList {
    return { buckets: [...this.deniedBuckets].sort(), principal: this.principal };
  }

  isDenied(bucket: string | undefined): boolean {
    return bucket !== undefined && this.deniedBuckets.has(bucket);
  }

  record(entry: RequestRecord): void {
    this.log.push(entry);
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
    this.countsByOperation[entry.operation] = (this.countsByOperation[entry.operation] ?? 0) + 1;
  }

  requests(operation?: string): RequestRecord[] {
    return this.log.filter((r) => operation === undefined || r.operation === operation);
  }

  /** Requests served per operation since the last reset (not capped like the log). */
  counts(): Record<string, number> {
    return { ...this.countsByOperation };
  }

  /** Counts one object write that took effect (called by the store). */
  countWrite(bucket: string, name: string): void {
    this.rates.count(bucket, name);
  }

  /** Writes per object per second since the last reset: the peak and the busiest objects. */
  writeRates(top?: number): WriteRateReport {
    return this.rates.report(top);
  }

  clearRequests(): void {
    this.log = [];
    this.countsByOperation = {};
    this.rates.clear();
  }

  /** Forgets faults, the deny list, the request log, and every bucket and object. */
  reset(): void {
    this.clearFaults();
    this.deniedBuckets.clear();
    this.principal = DEFAULT_PRINCIPAL;
    this.clearRequests();
    this.resetData();
  }
}

function faultProblem(spec: FaultSpec): string | null {
  if (spec.operation !== "*" && !(OPERATIONS as readonly string[]).includes(spec.operation)) {
    return `unknown operation "${String(spec.operation)}" (one of ${OPERATIONS.join(", ")}, or "*")`;
  }
  if (
    spec.status !== undefined &&
    !(spec.status === 0 || (spec.status >= 300 && spec.status <= 599))
  ) {
    return "status must be 0 (drop the connection) or an HTTP status 300-599";
  }
  if (spec.when !== undefined && spec.when !== "before" && spec.when !== "after")
    return 'when must be "before" or "after"';
  if (spec.when === "after" && spec.status === undefined)
    return 'a "when": "after" fault needs a status (what the lost answer becomes)';
  if (spec.status === undefined && spec.delayMs === undefined)
    return "give a status, a delayMs, or both";
  if (spec.count !== undefined && !(Number.isInteger(spec.count) && spec.count > 0)) {
    return "count must be a positive integer";
  }
  if (spec.rate !== undefined && !(spec.rate > 0 && spec.rate <= 1))
    return "rate must be in (0, 1]";
  if (spec.delayMs !== undefined && !(spec.delayMs >= 0)) return "delayMs must be >= 0";
  return null;
}

// Leases: who is dispatching a launch right now, and until when. A lease lives in the
// launch record and changes only through commit() (./commit.ts).
//
// Invariant: a holder id is unique per claim (`{instance}/{random}`), never per
// instance, so two deliveries or ticks in one instance never share a lease.
import { randomBytes } from "node:crypto";
import { DispatchError } from "../errors.js";
import type { LaunchRecord } from "../schemas/launch_record.js";

export type Lease = NonNullable<LaunchRecord["lease"]>;

/** A new lease for `seconds` from `now`, under a holder id no other claim has. */
export function newLease(instanceId: string, now: Date, seconds: number): Lease {
  return {
    holder: `${instanceId}/${randomBytes(4).toString("hex")}`,
    expires_at: new Date(now.getTime() + seconds * 1000).toISOString(),
  };
}

/** The same holder's lease, held until `ms` from now (an ambiguous create, invariant 3). */
export function holdLease(lease: Lease | null, now: Date, ms: number): Lease | null {
  if (!lease || ms <= 0) return null;
  return { holder: lease.holder, expires_at: new Date(now.getTime() + ms).toISOString() };
}

/** Whether someone holds the record's lease at `now`. */
export function leaseHeld(record: Pick<LaunchRecord, "lease">, now: Date): boolean {
  return record.lease !== null && new Date(record.lease.expires_at) > now;
}

/** Milliseconds the lease has left at `now` (0 when none). */
export function leaseLeftMs(record: Pick<LaunchRecord, "lease">, now: Date): number {
  if (!record.lease) return 0;
  return Math.max(0, new Date(record.lease.expires_at).getTime() - now.getTime());
}

/** The one `launch_busy` error: another worker holds or changed the launch; retry later. */
export function busy(launchId: string, why: string): DispatchError {
  return new DispatchError("launch_busy", `launch ${launchId} ${why}; retrying later`);
}

// The launch lifecycle as data: every record write the product makes is one row of this
// table, done by commit() (./commit.ts), which refuses a write the table does not hold
// and runs the row's effects in the row's order.
//
// States: `dispatching` (a lease holder is creating the job; internal, never an event),
// `queued` (held by max_jobs), `submitted`, `starting`, `running`, `unknown` (a job is
// watched), and the final `finished`, `failed`, `preempted`, `stopped`, `rejected`.
//
// Effects, in the order a row lists them:
//   marker_create  write the active marker only if there is none (create-only); when one
//                  exists nothing is written and commit() answers "conflict": the launch
//                  is known, so the caller reads its record (a new launch's claim, without
//                  a read first)
//   marker_put     write the active marker from the record (active/{queue}/{run_id})
//   write          the record write itself: create-only for `from: none`, else
//                  generation-matched; a row with `event` writes the event into the
//                  record's outbox in the same write
//   slot_release   give back the launch's max_jobs slot (idempotent)
//   publish        publish the outbox event, then clear it (the clear is retried until the
//                  outbox hold ends: a GCS fault does not repeat an event)
//   marker_remove  remove the active marker
// Effects before `write` fail the write when they fail (nothing is written). Effects
// between `write` and `publish` fail the caller, leaving the event in the outbox: whoever
// settles that outbox later (settle() in ./commit.ts) does them again, so they are
// idempotent. Effects after `publish` never fail the caller: the event is out, and a
// marker left behind is mended by the poll function, which reads the record. A
// `marker_put` after `publish` runs beside the outbox clear, once the event is out (a
// marker is a hint, and the record is already written), so it costs no round trip of its
// own; never before the publish, or a marker ahead of its unpublished event would hide it
// from the poll, which reads a record only when its marker says something changed.
//
// Invariants (SPEC §6, §7):
//  1. Nobody creates a job without holding the lease of a record that was created
//     create-only. Holders are unique per delivery or tick (newLease, ./lease.ts).
//  2. A lease is taken over only when it has expired or was released, only through a
//     generation-matched write, and the new holder looks the job up by its launch-id label
//     before it creates one.
//  3. A create that failed retryably may still have made the job: it is never retried
//     blindly. An ambiguous failure (DEADLINE_EXCEEDED, UNAVAILABLE, INTERNAL, ...) keeps
//     the lease for the create deadline, so nobody looks up before the create must have
//     finished on the server; any other retryable failure releases the lease at once.
//     Either way the next holder looks up first.
//  4. A create ends before its lease does: LEASE_SECONDS exceeds CREATE_DEADLINE_SECONDS
//     (checked at start-up, shared/options.ts), a holder renews a lease that would not
//     outlive the create, and the create's timeout is read from the lease just before the
//     request goes out (createTimeoutMs, shared/dispatch/drive.ts), ending a margin before
//     the lease; with too little left (a renewal that landed late, a stalled process) no
//     create is sent. So a holder never creates after the lease it holds could have passed
//     to a new holder, who looks up before creating (invariant 2).
//  5. No launch is left where nothing will find it: a record that is not final always has
//     a marker, because every write that makes a record non-final from none, a final state
//     or the backlog (create, reopen, take over, resume) writes the marker first; the
//     others (submit, observe, retry) find it there and rewrite it after. A crash or a
//     failed write between the two leaves a marker without a record (removed by the poll
//     once older than a lease) or both; never a record without its marker. A marker that
//     names an older state than its record is mended by the poll, which reads the record.
//  6. One transition is one event: the event is written with the change (the outbox), so
//     only the writer that won the generation match publishes it; a pending event is
//     published by whoever settles it after its hold. Only a crash between a publish and
//     its clear (or a GCS outage outlasting the hold) can repeat an event.
//  7. A launch is final only after its slot is released (before its event is published),
//     so a rejected or stopped launch whose event is still pending is settled, never
//     reopened: a redelivery publishes no second `rejected`.
import type { RecordState } from "../schemas/launch_record.js";

export type Actor = "dispatch" | "poll" | "cancel";
export type Effect =
  | "marker_create"
  | "marker_put"
  | "write"
  | "slot_release"
  | "publish"
  | "marker_remove";

export interface Transition {
  /** States the record may be in before the write; "none" means it does not exist yet. */
  from: ReadonlyArray<RecordState | "none">;
  /** States it may be in after. */
  to: readonly RecordState[];
  by: readonly Actor[];
  /** Whether the written record holds a lease ("held"), none ("none"), or either ("any"). */
  lease: "held" | "none" | "any";
  /** Whether the write carries the event of its new state (the outbox). */
  event: boolean;
  effects: readonly Effect[];
  why: string;
}

const WATCHED = ["submitted", "starting", "running", "unknown"] as const;
const ENDED = ["finished", "failed", "preempted", "stopped"] as const;
const CLAIM: readonly Effect[] = ["marker_put", "write"];
const TO_FINAL: readonly Effect[] = ["write", "slot_release", "publish", "marker_remove"];

export const TRANSITIONS = {
  create: {
    from: ["none"],
    to: ["dispatching"],
    by: ["dispatch"],
    lease: "held",
    event: false,
    effects: ["marker_create", "write"],
    why: "a first delivery claims the launch: a marker if it has none, then the record, create-only; a marker that exists means the launch is known, so its record is read instead",
  },
  create_marked: {
    from: ["none"],
    to: ["dispatching"],
    by: ["dispatch"],
    lease: "held",
    event: false,
    effects: CLAIM,
    why: "a marker without a record (a claim that died between its two writes, or one under way): the marker is rewritten, then the record created, create-only",
  },
  reopen: {
    from: ["rejected"],
    to: ["dispatching"],
    by: ["dispatch"],
    lease: "held",
    event: false,
    effects: CLAIM,
    why: "a rejected launch made no job: sending it again tries it again",
  },
  take_over: {
    from: ["dispatching", "queued"],
    to: ["dispatching"],
    by: ["dispatch", "poll"],
    lease: "held",
    event: false,
    effects: CLAIM,
    why: "a lease that expired or was released, or a held launch the backlog drains",
  },
  renew: {
    from: ["dispatching"],
    to: ["dispatching"],
    by: ["dispatch", "poll"],
    lease: "held",
    event: false,
    effects: ["write"],
    why: "the lease must outlive the create deadline before CreateCustomJob",
  },
  let_go: {
    from: ["dispatching"],
    to: ["dispatching"],
    by: ["dispatch", "poll"],
    lease: "any",
    event: false,
    effects: ["write"],
    why: "a retryable failure: release the lease, or hold it for the create deadline (invariant 3); a job made but not yet recorded keeps its name",
  },
  queue: {
    from: ["dispatching"],
    to: ["queued"],
    by: ["dispatch", "poll"],
    lease: "none",
    event: true,
    effects: ["marker_put", "write", "publish"],
    why: "max_jobs reached: the marker says queued before the record does, so the backlog finds it",
  },
  requeue: {
    from: ["dispatching"],
    to: ["queued"],
    by: ["poll"],
    lease: "none",
    event: false,
    effects: ["marker_put", "write"],
    why: "a held launch the backlog took finds the queue full after all: back to the backlog, no news",
  },
  submit: {
    from: ["dispatching"],
    to: ["submitted"],
    by: ["dispatch", "poll"],
    lease: "none",
    event: true,
    effects: ["write", "publish", "marker_put"],
    why: "the job exists: the record names it, then the marker (beside the outbox clear); until the marker is written the claim's marker stands, so the poll reads the record and mends it",
  },
  reject: {
    from: ["dispatching", "none"],
    to: ["rejected"],
    by: ["dispatch", "poll"],
    lease: "none",
    event: true,
    effects: TO_FINAL,
    why: "a permanent error before any job: the slot goes before the event, the marker after",
  },
  observe: {
    from: WATCHED,
    to: ["starting", "running", "unknown"],
    by: ["poll"],
    lease: "none",
    event: true,
    effects: ["write", "publish", "marker_put"],
    why: "Vertex reports a change of a job that is not over",
  },
  end: {
    from: WATCHED,
    to: ENDED,
    by: ["poll"],
    lease: "none",
    event: true,
    effects: TO_FINAL,
    why: "the job ended (or timed out, or vanished): release the slot, then publish",
  },
  retry: {
    from: WATCHED,
    to: ["dispatching"],
    by: ["poll"],
    lease: "none",
    event: true,
    effects: ["write", "publish", "marker_put"],
    why: "preempted with retries left: the `preempted` event, then the next attempt is driven",
  },
  cancel: {
    from: ["queued", ...WATCHED],
    to: ["stopped"],
    by: ["cancel"],
    lease: "none",
    event: true,
    effects: TO_FINAL,
    why: "a cancel message: the job is cancelled (or the launch leaves the backlog)",
  },
} as const satisfies Record<string, Transition>;

export type Step = keyof typeof TRANSITIONS;

/** The effects after the write that settle a pending outbox of a record in `state`. */
export function settleEffects(state: RecordState): readonly Effect[] {
  const row = Object.values(TRANSITIONS).find(
    (t: Transition) => t.event && (t.to as readonly RecordState[]).includes(state),
  ) as Transition | undefined;
  if (!row) return ["publish"];
  return row.effects.slice(row.effects.indexOf("write") + 1);
}

// A launch record as a value: a fresh one, the same one in another state, and where it
// lives in the state bucket. Pure functions; writing a record is commit()'s job
// (shared/launch/commit.ts), and nothing else in the product builds one.
import type { LaunchRecord, RecordError, RecordState } from "../schemas/launch_record.js";

/** What a new record needs beyond its defaults. */
export interface NewRecord {
  launchId: string;
  idempotencyKey: string;
  queue: string | null;
  entity: string | null;
  project: string | null;
  runId: string | null;
  state: RecordState;
  priority?: number;
  lease?: LaunchRecord["lease"];
  message?: LaunchRecord["message"];
  messageId?: string | null;
  error?: RecordError | null;
  now: Date;
}

/** A record that has not been written yet: attempt 1, no job, no outbox. */
export function freshRecord(r: NewRecord): LaunchRecord {
  const at = r.now.toISOString();
  return {
    version: 1,
    launch_id: r.launchId,
    idempotency_key: r.idempotencyKey,
    queue: r.queue,
    entity: r.entity,
    project: r.project,
    run_id: r.runId,
    state: r.state,
    priority: r.priority ?? 2,
    attempt: 1,
    job_name: null,
    vertex_state: null,
    console_url: null,
    error: r.error ?? null,
    warnings: [],
    lease: r.lease ?? null,
    message_id: r.messageId ?? null,
    message: r.message ?? null,
    outbox: null,
    previous_jobs: [],
    created_at: at,
    updated_at: at,
  };
}

/** The record in `state`, with these fields changed and `updated_at` moved to `now`. */
export function withState(
  record: LaunchRecord,
  state: RecordState,
  now: Date,
  changes: Partial<Omit<LaunchRecord, "state" | "updated_at">> = {},
): LaunchRecord {
  return { ...record, ...changes, state, updated_at: now.toISOString() };
}

/** Where a record lives: by queue and run id, or under rejected/ when a broken message named neither. */
export function recordPath(record: Pick<LaunchRecord, "queue" | "run_id" | "launch_id">): string {
  if (record.queue !== null && record.run_id !== null)
    return launchPath(record.queue, record.run_id);
  return `rejected/${record.launch_id}.json`;
}

/** The record path of a launch named by its queue and run id. */
export function launchPath(queue: string, runId: string): string {
  return `launches/${queue}/${runId}.json`;
}

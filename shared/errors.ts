// The one error class of the product, and the closed table of what can go wrong.
//
// Invariant: whether a failure is retried is decided by this table and nowhere else.
// A retryable error makes the dispatch function fail so that Pub/Sub redelivers the
// message with backoff; a permanent one is recorded (`rejected`), published as a status
// event and acknowledged, so a bad message never loops.

/** What the product throws. A retryable one makes the function fail, so Pub/Sub redelivers. */
export const THROWN_KINDS = {
  /** The launch message is not valid JSON, too large, or breaks the schema (SPEC §2). */
  invalid_message: { retryable: false },
  /** The queue config breaks the schema, or resolving it failed (SPEC §3, §4). */
  invalid_config: { retryable: false },
  /** No queue config with that name exists in the queue source. */
  queue_not_found: { retryable: false },
  /** A preflight check failed before any job was created (SPEC §5). */
  preflight_failed: { retryable: false },
  /** Vertex refused the request: INVALID_ARGUMENT, FAILED_PRECONDITION, PERMISSION_DENIED, NOT_FOUND... */
  vertex_rejected: { retryable: false },
  /** Vertex could not answer now: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL... */
  vertex_unavailable: { retryable: true },
  /** Cloud Storage answered 429 or 5xx, or the connection failed. */
  storage_unavailable: { retryable: true },
  /** Cloud Storage refused the dispatcher's own state or config access (403/404 on our buckets). */
  storage_rejected: { retryable: false },
  /** Another instance holds this launch's lease; try again after it expires. */
  launch_busy: { retryable: true },
  /** Pub/Sub could not publish now. */
  pubsub_unavailable: { retryable: true },
  /** The W&B API could not answer now (connection failed, timeout, 429, 5xx): the bridge tries again next tick. */
  wandb_unavailable: { retryable: true },
  /** The W&B API refused a call (401/403: the API key; a GraphQL error: a missing queue, item or agent). */
  wandb_rejected: { retryable: false },
  /** The instance got SIGTERM and takes no new work: Pub/Sub redelivers it elsewhere (shared/shutdown.ts). */
  shutting_down: { retryable: true },
  /** The dispatcher's own environment is wrong (bad variable); stops start-up. */
  bad_environment: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

/** Outcomes the poll function records on a launch (`error.kind` of an event): never thrown, never retried. */
export const OUTCOME_KINDS = {
  /** The job ended FAILED, EXPIRED or PARTIALLY_SUCCEEDED, or vanished from Vertex. */
  job_failed: { retryable: false },
  /** The job lost its VM (Spot preemption, stockout) and no retries were left. */
  job_preempted: { retryable: false },
  /** The job stayed QUEUED/PENDING past the queue's start_timeout and was cancelled. */
  start_timeout: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

/** The CLI's own errors (a bad flag or file); the dispatcher never sees them. */
export const CLI_KINDS = {
  /** A CLI usage error. */
  usage: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

/** Every kind, for docs and tests. */
export const ERROR_KINDS = { ...THROWN_KINDS, ...OUTCOME_KINDS, ...CLI_KINDS } as const;

export type ErrorKind = keyof typeof ERROR_KINDS;
/** What a DispatchError may carry: never an outcome kind. */
export type ThrowableKind = keyof typeof THROWN_KINDS | keyof typeof CLI_KINDS;
export type OutcomeKind = keyof typeof OUTCOME_KINDS;

/** One problem found in an input: where it is, and what was expected there. */
export interface Issue {
  /** Path of the bad field, e.g. `spec.worker_pool_specs[0].machine_spec.machine_type`; "" for the whole input. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
}

export class DispatchError extends Error {
  override readonly name = "DispatchError";
  readonly kind: ThrowableKind;
  readonly issues: Issue[];

  constructor(
    kind: ThrowableKind,
    message: string,
    options: { issues?: Issue[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.issues = options.issues ?? [];
  }

  get retryable(): boolean {
    return ERROR_KINDS[this.kind].retryable;
  }

  /** The error as a plain object for logs and status events (never carries secrets: messages are built from inputs that hold none). */
  toJSON(): { kind: ThrowableKind; message: string; retryable: boolean; issues: Issue[] } {
    return {
      kind: this.kind,
      message: this.message,
      retryable: this.retryable,
      issues: this.issues,
    };
  }
}

/** Whether a failure is retried: the table says so for ours; anything unexpected is retried rather than lost. */
export function isRetryable(err: unknown): boolean {
  return !(err instanceof DispatchError) || err.retryable;
}

/** Formats a path from segments: `["spec", "worker_pool_specs", 0, "machine_spec"]` → `spec.worker_pool_specs[0].machine_spec`. */
export function formatPath(segments: ReadonlyArray<string | number | symbol>): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else out += out === "" ? String(s) : `.${String(s)}`;
  }
  return out;
}

/** Builds an error that lists every issue, one per line, each with its path. */
export function issuesError(kind: ThrowableKind, what: string, issues: Issue[]): DispatchError {
  const lines = issues.map((i) => (i.path ? `  ${i.path}: ${i.message}` : `  ${i.message}`));
  return new DispatchError(kind, `${what}:\n${lines.join("\n")}`, { issues });
}

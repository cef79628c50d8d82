// The one table of `vertex-dispatch` exit codes (README "CLI", and `vertex-dispatch --help`).
// Every command returns one of these; main() maps thrown errors onto them.
import { DispatchError, type ErrorKind } from "../shared/errors.js";

export const EXIT = {
  /** Done: the command did what was asked (submit --wait: submitted or queued; --follow: finished; cancel --wait: stopped). */
  ok: 0,
  /** The launch did not succeed: rejected by the dispatcher, or it ended failed, preempted, stopped or unknown. */
  launch_failed: 1,
  /** Bad usage or input, caught before anything was sent: a flag, a file, an environment variable, a message or queue config the dispatcher would reject. */
  usage: 2,
  /** Not found: no such launch or queue. */
  not_found: 3,
  /** Gave up waiting (--timeout) before the outcome arrived. */
  timeout: 4,
  /** A Google Cloud call failed or was refused (credentials, permissions, network). */
  cloud: 5,
  /** Interrupted (Ctrl-C); temporary subscriptions are removed first. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_TABLE: Array<[ExitCode, string]> = [
  [
    EXIT.ok,
    "done (submit --wait: submitted or queued; --follow: finished; cancel --wait: stopped)",
  ],
  [EXIT.launch_failed, "the launch was rejected, or ended failed, preempted, stopped or unknown"],
  [EXIT.usage, "bad usage or input (flags, files, environment variables); nothing was sent"],
  [EXIT.not_found, "no such launch or queue"],
  [EXIT.timeout, "gave up waiting (--timeout)"],
  [EXIT.cloud, "a Google Cloud call failed or was refused (credentials, permissions, network)"],
  [EXIT.interrupted, "interrupted (Ctrl-C)"],
];

const BY_KIND: Record<ErrorKind, ExitCode> = {
  usage: EXIT.usage,
  invalid_message: EXIT.usage,
  invalid_config: EXIT.usage,
  preflight_failed: EXIT.usage,
  queue_not_found: EXIT.not_found,
  vertex_rejected: EXIT.cloud,
  vertex_unavailable: EXIT.cloud,
  storage_unavailable: EXIT.cloud,
  storage_rejected: EXIT.cloud,
  launch_busy: EXIT.cloud,
  pubsub_unavailable: EXIT.cloud,
  shutting_down: EXIT.cloud,
  bad_environment: EXIT.usage,
  job_failed: EXIT.launch_failed,
  job_preempted: EXIT.launch_failed,
  start_timeout: EXIT.launch_failed,
  wandb_unavailable: EXIT.cloud,
  wandb_rejected: EXIT.cloud,
};

/** A command's own "not found", carried as an error so every command reports it the same way. */
export class NotFound extends Error {
  override readonly name = "NotFound";
}

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof NotFound) return EXIT.not_found;
  if (err instanceof DispatchError) return BY_KIND[err.kind] ?? EXIT.cloud;
  return EXIT.cloud;
}

/** The exit code of a launch state a --follow or --wait ended on. */
export function exitForState(state: string, accepted: ReadonlySet<string>): ExitCode {
  return accepted.has(state) ? EXIT.ok : EXIT.launch_failed;
}

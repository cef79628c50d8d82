// Prechecks a launch the way the dispatcher would check it at once, before anything is
// published (the CLI's `submit`): body size and JSON, the message schema, the queue
// config (exists, parses, resolves), and whether the run_id is already taken. Every
// failure is the DispatchError the dispatcher would record, with the same message.
//
// Invariant: only checks whose answer cannot differ between the caller and the
// dispatcher are made here. Preflight (bucket metadata, act-as) depends on the
// dispatcher's own identity, so it is left to the dispatcher and arrives as its outcome.
import { parseBody } from "./dispatch/delivery.js";
import { runIdTakenError } from "./dispatch/refusals.js";
import { DispatchError } from "./errors.js";
import { imageWarnings } from "./preflight.js";
import type { QueueSource } from "./queue_source.js";
import { idempotencyKeyFor, launchIdFor, runIdFor } from "./resolve/ids.js";
import { type ResolveDefaults, type ResolvedLaunch, resolveLaunch } from "./resolve/resolve.js";
import { type LaunchMessage, parseLaunchMessage } from "./schemas/message.js";
import type { LaunchStore, StoredRecord } from "./storage/launch_store.js";

export interface PrecheckDeps {
  queues: QueueSource;
  store: LaunchStore;
  defaults: ResolveDefaults;
  maxMessageBytes: number;
}

export interface Prechecked {
  message: LaunchMessage;
  /** The exact bytes to publish. */
  body: Buffer;
  idempotencyKey: string;
  launchId: string;
  runId: string;
  resolved: ResolvedLaunch;
  /** Resolution and image warnings, as the dispatcher would record them. */
  warnings: string[];
}

/** A launch that was already made (same idempotency key): the dispatcher would ignore it. */
export function alreadyLaunchedError(queue: string, runId: string, existing: StoredRecord) {
  const r = existing.record;
  return new DispatchError(
    "invalid_message",
    `run_id "${runId}" was already launched in queue "${queue}" (state ${r.state}, since ${r.created_at}); the dispatcher would ignore this duplicate: to launch again, use a new run_id`,
    { issues: [{ path: "run_id", message: `already launched (${r.state})` }] },
  );
}

/**
 * Checks `raw` (a launch message object) with its Pub/Sub attributes. The attributes must
 * make the idempotency key known before publishing (a run_id or an idempotency_key).
 */
export async function precheckLaunch(
  raw: unknown,
  attributes: Record<string, string>,
  deps: PrecheckDeps,
): Promise<Prechecked> {
  const body = Buffer.from(JSON.stringify(raw), "utf8");
  const parsed = parseBody(
    { body, attributes, messageId: "", deliveryAttempt: null },
    deps.maxMessageBytes,
  );
  const message = parseLaunchMessage(parsed);
  if (message.action !== "launch") {
    throw new DispatchError("usage", `precheckLaunch checks launches, not "${message.action}"`);
  }
  const idempotencyKey = idempotencyKeyFor(message, attributes, "");
  if (idempotencyKey === "") {
    throw new DispatchError(
      "usage",
      "precheckLaunch needs a run_id or an idempotency_key attribute to know the launch before it is published",
    );
  }
  const launchId = launchIdFor(idempotencyKey);
  const runId = runIdFor(message, idempotencyKey);
  const config = await deps.queues.load(message.queue);
  const resolved = resolveLaunch({
    queueName: message.queue,
    config,
    message,
    idempotencyKey,
    defaults: deps.defaults,
  });
  const existing = await deps.store.read(`launches/${message.queue}/${runId}.json`);
  if (existing && existing.record.state !== "rejected") {
    if (existing.record.idempotency_key !== idempotencyKey) {
      throw runIdTakenError(message.queue, runId, existing.record.launch_id);
    }
    throw alreadyLaunchedError(message.queue, runId, existing);
  }
  const warnings = [...resolved.warnings, ...imageWarnings(resolved.imageUris, resolved.region)];
  return { message, body, idempotencyKey, launchId, runId, resolved, warnings };
}

// One Pub/Sub delivery of a launch message in, at most one Vertex CustomJob out: decode,
// parse, then cancel, or claim the launch and drive it to submission. The lifecycle and
// its invariants are in shared/launch/table.ts.
import { type DispatchError, isRetryable } from "../errors.js";
import { newLease } from "../launch/lease.js";
import { freshRecord } from "../launch/record.js";
import { idempotencyKeyFor, launchIdFor, runIdFor } from "../resolve/ids.js";
import { type LaunchMessage, parseLaunchMessage } from "../schemas/message.js";
import { cancelLaunch } from "./cancel.js";
import { claim } from "./claim.js";
import { type Delivery, parseBody } from "./delivery.js";
import type { DispatchDeps, Outcome } from "./deps.js";
import { driveLaunch } from "./drive.js";
import { rejectUnreadable } from "./reject.js";

/** Handles one delivery; returns to acknowledge it, throws (retryable) to have it redelivered. */
export async function handleDelivery(delivery: Delivery, deps: DispatchDeps): Promise<Outcome> {
  let raw: unknown;
  let message: LaunchMessage;
  try {
    raw = parseBody(delivery, deps.options.MAX_MESSAGE_BYTES);
    message = parseLaunchMessage(raw);
  } catch (err) {
    if (isRetryable(err)) throw err;
    return rejectUnreadable(delivery, raw, err as DispatchError, deps);
  }
  if (message.action === "cancel") return cancelLaunch(message, deps);
  return launch(delivery, message, raw as Record<string, unknown>, deps);
}

async function launch(
  delivery: Delivery,
  message: LaunchMessage,
  raw: Record<string, unknown>,
  deps: DispatchDeps,
): Promise<Outcome> {
  const idempotencyKey = idempotencyKeyFor(message, delivery.attributes, delivery.messageId);
  const launchId = launchIdFor(idempotencyKey);
  const runId = runIdFor(message, idempotencyKey);
  const log = deps.log.with({
    launch_id: launchId,
    queue: message.queue,
    run_id: runId,
    message_id: delivery.messageId,
    delivery_attempt: delivery.deliveryAttempt,
  });
  const now = deps.now();
  const fresh = freshRecord({
    launchId,
    idempotencyKey,
    queue: message.queue,
    entity: message.entity ?? null,
    project: message.project ?? null,
    runId,
    state: "dispatching",
    priority: message.priority ?? 2,
    lease: newLease(deps.instanceId, now, deps.options.LEASE_SECONDS),
    message: raw,
    messageId: delivery.messageId,
    now,
  });
  const claimed = await claim(fresh, deps, log);
  if ("outcome" in claimed) return claimed.outcome;
  const how = { recovering: claimed.recovering, previousState: null, by: "dispatch" } as const;
  return driveLaunch(claimed.stored, message, how, deps, log);
}

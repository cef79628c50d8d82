// Cloud Function `dispatch` (gen2, CloudEvent, topic `launch-jobs`). Wiring only:
// decode the delivery, call the core, and map the outcome to ack (return) or retry
// (throw, so the Functions Framework answers 500 and Pub/Sub redelivers with backoff).
// SIGTERM drains the deliveries in flight, flushes the status publisher and exits 0
// (shared/shutdown.ts); a push that arrives while draining gets 503 (redelivered).
import { type CloudEvent, cloudEvent } from "@google-cloud/functions-framework";
import { makeClients } from "../../shared/clients.js";
import { decodeDelivery } from "../../shared/dispatch/delivery.js";
import { dispatchDeps } from "../../shared/dispatch/deps.js";
import { handleDelivery } from "../../shared/dispatch/handle_delivery.js";
import { DispatchError, isRetryable } from "../../shared/errors.js";
import { createLogger } from "../../shared/log.js";
import { parseOptions } from "../../shared/options.js";
import { installShutdown } from "../../shared/shutdown.js";

// Build time only: gcp-build's code cache producer runs it before saving the cache.
export { rehearseDispatch as codeCacheRehearsal } from "../../shared/dispatch/rehearse.js";

// Parsed once per instance; a bad variable fails start-up here, loudly, not per message.
const options = parseOptions(process.env);
const made = () =>
  makeClients(options).then((clients) => ({ clients, deps: dispatchDeps(options, clients) }));
let instance: ReturnType<typeof made> | undefined;

installShutdown({
  graceMs: options.SHUTDOWN_GRACE_SECONDS * 1000,
  log: createLogger({ level: options.LOG_LEVEL, secrets: [options.WANDB_API_KEY] }),
  flush: async () => (instance ? (await instance).deps.publish.flush() : undefined),
  close: async () => (instance ? (await instance).clients.close() : undefined),
});

cloudEvent("dispatch", async (event: CloudEvent<unknown>) => {
  instance ??= made();
  const d = (await instance).deps;
  const delivery = decodeDelivery(event);
  try {
    await handleDelivery(delivery, d);
  } catch (err) {
    const retryable = isRetryable(err);
    d.log.warning(`delivery failed; ${retryable ? "Pub/Sub will redeliver" : "acknowledged"}`, {
      message_id: delivery.messageId,
      delivery_attempt: delivery.deliveryAttempt,
      error: err instanceof DispatchError ? err.toJSON() : err,
    });
    // Invariant: only retryable errors reach here in practice (the core records and acks
    // permanent ones); an unexpected error is retried rather than lost.
    if (retryable) throw err;
  }
});

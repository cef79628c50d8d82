// Cloud Function `dispatch` (gen2, CloudEvent, topic `launch-jobs`). Wiring only:
// decode the delivery, call the core, and map the outcome to ack (return) or retry
// (throw, so the Functions Framework answers 500 and Pub/Sub redelivers with backoff).
import { type CloudEvent, cloudEvent } from "@google-cloud/functions-framework";
import { makeClients } from "../../shared/clients.js";
import { decodeDelivery } from "../../shared/dispatch/delivery.js";
import type { DispatchDeps } from "../../shared/dispatch/deps.js";
import { dispatchDeps } from "../../shared/dispatch/deps.js";
import { handleDelivery } from "../../shared/dispatch/handle_delivery.js";
import { DispatchError, isRetryable } from "../../shared/errors.js";
import { parseOptions } from "../../shared/options.js";

// Parsed once per instance; a bad variable fails start-up here, loudly, not per message.
const options = parseOptions(process.env);
let deps: Promise<DispatchDeps> | undefined;

cloudEvent("dispatch", async (event: CloudEvent<unknown>) => {
  deps ??= makeClients(options).then((clients) => dispatchDeps(options, clients));
  const d = await deps;
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

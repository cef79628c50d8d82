// Decoding one Pub/Sub delivery, as the Functions Framework hands it to a `cloudEvent`
// function (a `google.cloud.pubsub.topic.v1.messagePublished` event). Wire format:
//
//   event.id                         the Pub/Sub message id (also data.message.messageId)
//   event.data.message.data          base64 of the message body (UTF-8 JSON, ≤ 256 KiB)
//   event.data.message.attributes    string map; `idempotency_key` is read (SPEC §2)
//   event.data.message.messageId     the Pub/Sub message id
//   event.data.deliveryAttempt       present when the subscription has a dead-letter policy
//                                    (Google's Pub/Sub emulator never sends it)
// A push whose message has no data is not converted: its raw body is the event.
import { DispatchError } from "../errors.js";

export interface Delivery {
  /** The decoded message body (not yet parsed). */
  body: Buffer;
  attributes: Record<string, string>;
  messageId: string;
  /** 1 on first delivery; null when Pub/Sub did not say. */
  deliveryAttempt: number | null;
}

interface CloudEventLike {
  id?: string;
  data?: unknown;
}

type PushBody = {
  message?: { data?: unknown; attributes?: unknown; messageId?: unknown; message_id?: unknown };
  deliveryAttempt?: unknown;
};

export function decodeDelivery(event: CloudEventLike): Delivery {
  // The framework converts a push into a CloudEvent only when message.data is non-empty;
  // otherwise the raw push body itself arrives as the "event".
  const raw = event as CloudEventLike & PushBody;
  const data: PushBody = (event.data as PushBody | undefined)?.message
    ? (event.data as PushBody)
    : raw;
  const message = data.message ?? {};
  const messageId = String(message.messageId ?? message.message_id ?? event.id ?? "");
  const attributes: Record<string, string> = {};
  if (message.attributes && typeof message.attributes === "object") {
    for (const [k, v] of Object.entries(message.attributes as Record<string, unknown>)) {
      if (typeof v === "string") attributes[k] = v;
    }
  }
  const base64 = typeof message.data === "string" ? message.data : "";
  const attempt = Number(data.deliveryAttempt);
  return {
    body: Buffer.from(base64, "base64"),
    attributes,
    messageId,
    deliveryAttempt: Number.isInteger(attempt) && attempt > 0 ? attempt : null,
  };
}

/** Parses the body as JSON within the size limit; throws invalid_message. */
export function parseBody(delivery: Delivery, maxBytes: number): unknown {
  if (delivery.body.length === 0) {
    throw new DispatchError(
      "invalid_message",
      "the message body is empty: publish a JSON launch message (SPEC §2)",
    );
  }
  if (delivery.body.length > maxBytes) {
    throw new DispatchError(
      "invalid_message",
      `the message body is ${delivery.body.length} bytes, over the ${maxBytes}-byte limit: move large run_config values into a W&B artifact`,
    );
  }
  const text = delivery.body.toString("utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DispatchError(
      "invalid_message",
      `the message body is not JSON (${(err as Error).message}): publish a UTF-8 JSON object`,
    );
  }
}

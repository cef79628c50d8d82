// Reads a pull subscription synchronously (Pull + Acknowledge), for tests and for the
// local stack's status printer. Uses the official client's generated SubscriberClient
// with the same connection settings as the PubSub object.
import { type PubSub, v1 } from "@google-cloud/pubsub";

export interface PulledMessage {
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
  publishTime: Date | undefined;
}

export interface PullOptions {
  /** Stop once this many messages are in hand; default 1. */
  min?: number;
  /** Per Pull call; default 100. */
  maxMessages?: number;
  /** Give up after this long and return what arrived; default 10 s. */
  timeoutMs?: number;
}

/** Pulls and acknowledges until `min` messages arrived or the time is up. */
export async function pullMessages(
  client: PubSub,
  subscription: string,
  options: PullOptions = {},
): Promise<PulledMessage[]> {
  const config = (await client.getClientConfig()) as ConstructorParameters<
    typeof v1.SubscriberClient
  >[0];
  const subscriber = new v1.SubscriberClient(config);
  const name = client.subscription(subscription).name;
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const out: PulledMessage[] = [];
  try {
    while (out.length < (options.min ?? 1) && Date.now() < deadline) {
      const wait = Math.max(100, Math.min(2_000, deadline - Date.now()));
      let received: v1Received[] = [];
      try {
        const [response] = await subscriber.pull(
          { subscription: name, maxMessages: options.maxMessages ?? 100 },
          { timeout: wait, retry: null },
        );
        received = response.receivedMessages ?? [];
      } catch (err) {
        if ((err as { code?: unknown }).code !== DEADLINE_EXCEEDED) throw err;
      }
      const ackIds = received
        .map((r) => r.ackId)
        .filter((id): id is string => typeof id === "string");
      if (ackIds.length > 0) await subscriber.acknowledge({ subscription: name, ackIds });
      for (const r of received) out.push(decode(r));
    }
  } finally {
    await subscriber.close();
  }
  return out;
}

const DEADLINE_EXCEEDED = 4;
type v1Received = { ackId?: string | null; message?: v1Message | null };
type v1Message = {
  messageId?: string | null;
  data?: Uint8Array | string | null;
  attributes?: Record<string, string> | null;
  publishTime?: { seconds?: number | string | Long | null; nanos?: number | null } | null;
};
type Long = { toNumber(): number };

function decode(r: v1Received): PulledMessage {
  const m = r.message ?? {};
  const data =
    typeof m.data === "string" ? Buffer.from(m.data, "base64") : Buffer.from(m.data ?? []);
  const seconds = m.publishTime?.seconds;
  const secs =
    seconds === null || seconds === undefined
      ? undefined
      : typeof seconds === "object"
        ? seconds.toNumber()
        : Number(seconds);
  return {
    messageId: m.messageId ?? "",
    data,
    attributes: { ...(m.attributes ?? {}) },
    publishTime:
      secs === undefined
        ? undefined
        : new Date(secs * 1000 + Math.floor((m.publishTime?.nanos ?? 0) / 1e6)),
  };
}

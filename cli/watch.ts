// A temporary subscription on launch-status, for `events`, `submit --wait/--follow` and
// `cancel --wait`. It is created before anything is published (a new subscription sees
// only messages published after it exists) and deleted by close(), which every caller
// runs in a `finally`, so an exit, an error and Ctrl-C all remove it. Its expiration
// policy (1 day of inactivity, Pub/Sub's minimum) removes it even if the process is killed.
//
// Events are at-least-once: duplicates (same launch_id, attempt, state) are dropped here.
import { randomBytes } from "node:crypto";
import type { Message, PubSub, Subscription } from "@google-cloud/pubsub";
import { DispatchError } from "../shared/errors.js";
import { type StatusEvent, StatusEventSchema } from "../shared/schemas/status_event.js";

export const SUBSCRIPTION_PREFIX = "vertex-dispatch-cli-";

export type Next = StatusEvent | "timeout" | "interrupted";

export interface Watch {
  /** The subscription's short name. */
  name: string;
  /** The next matching event; "timeout" after `timeoutMs` (0: none); "interrupted" after interrupt(). */
  next(timeoutMs: number): Promise<Next>;
  /** Makes every pending and later next() answer "interrupted". */
  interrupt(): void;
  /** Deletes the subscription and closes the client. Safe to call twice. */
  close(): Promise<void>;
}

export interface WatchOptions {
  topic: string;
  /** Which events to keep (the emulator ignores server-side filters, so this always runs). */
  keep: (e: StatusEvent) => boolean;
  /** A server-side filter for real Pub/Sub, e.g. attributes.queue = "gpu". */
  filter?: string;
}

export async function openWatch(pubsub: PubSub, options: WatchOptions): Promise<Watch> {
  const name = `${SUBSCRIPTION_PREFIX}${randomBytes(6).toString("hex")}`;
  let subscription: Subscription;
  try {
    [subscription] = await pubsub.topic(options.topic).createSubscription(name, {
      ackDeadlineSeconds: 10,
      expirationPolicy: { ttl: { seconds: 24 * 3600 } },
      labels: { created_by: "vertex-dispatch-cli" },
      ...(options.filter ? { filter: options.filter } : {}),
    });
  } catch (err) {
    await pubsub.close().catch(() => {});
    throw new DispatchError(
      "pubsub_unavailable",
      `creating the temporary subscription ${name} on ${options.topic} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const queue: StatusEvent[] = [];
  const seen = new Set<string>();
  let failure: Error | null = null;
  let interrupted = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  subscription.on("message", (m: Message) => {
    m.ack();
    let parsed: ReturnType<typeof StatusEventSchema.safeParse>;
    try {
      parsed = StatusEventSchema.safeParse(JSON.parse(m.data.toString("utf8")));
    } catch {
      return; // not an event of ours: nothing to show
    }
    if (!parsed.success || !options.keep(parsed.data)) return;
    const e = parsed.data;
    const key = `${e.launch_id}/${e.attempt}/${e.state}/${e.run_id ?? ""}`;
    if (seen.has(key)) return;
    seen.add(key);
    queue.push(e);
    poke();
  });
  subscription.on("error", (err: Error) => {
    failure = err;
    poke();
  });
  let closed = false;
  return {
    name,
    async next(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          poke();
        }, timeoutMs);
      }
      try {
        for (;;) {
          const e = queue.shift();
          if (e) return e;
          if (interrupted) return "interrupted";
          if (failure) {
            throw new DispatchError(
              "pubsub_unavailable",
              `reading ${options.topic} through ${name} failed: ${(failure as Error).message}`,
            );
          }
          if (timedOut) return "timeout";
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        clearTimeout(timer);
      }
    },
    interrupt() {
      interrupted = true;
      poke();
    },
    async close() {
      if (closed) return;
      closed = true;
      subscription.removeAllListeners("message");
      await subscription.close().catch(() => {});
      try {
        await subscription.delete();
      } finally {
        await pubsub.close().catch(() => {});
      }
    },
  };
}

/** Runs `body` with a watch, deleting its subscription afterwards and on Ctrl-C. */
export async function withWatch<T>(
  pubsub: PubSub,
  options: WatchOptions,
  onInterrupt: (handler: () => void) => () => void,
  body: (watch: Watch) => Promise<T>,
): Promise<T> {
  const watch = await openWatch(pubsub, options);
  const off = onInterrupt(() => watch.interrupt());
  try {
    return await body(watch);
  } finally {
    off();
    await watch.close();
  }
}

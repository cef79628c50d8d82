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
  const subscription = await createTemporary(pubsub, name, options);
  const inbox = new Inbox(`reading ${options.topic} through ${name}`);
  const seen = new Set<string>();
  subscription.on("message", (m: Message) => {
    m.ack();
    const e = eventOf(m, options.keep);
    if (!e) return;
    const key = `${e.launch_id}/${e.attempt}/${e.state}/${e.run_id ?? ""}`;
    if (seen.has(key)) return;
    seen.add(key);
    inbox.push(e);
  });
  subscription.on("error", (err: Error) => inbox.fail(err));
  let closed = false;
  return {
    name,
    next: (timeoutMs) => inbox.next(timeoutMs),
    interrupt: () => inbox.interrupt(),
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

/**
 * The temporary subscription: ordered by the events' ordering key launch_id (SPEC §7), so
 * one launch's events arrive in order; a filter where the caller gives one (real Pub/Sub).
 */
async function createTemporary(
  pubsub: PubSub,
  name: string,
  options: WatchOptions,
): Promise<Subscription> {
  try {
    const [subscription] = await pubsub.topic(options.topic).createSubscription(name, {
      ackDeadlineSeconds: 10,
      enableMessageOrdering: true,
      expirationPolicy: { ttl: { seconds: 24 * 3600 } },
      labels: { created_by: "vertex-dispatch-cli" },
      ...(options.filter ? { filter: options.filter } : {}),
    });
    return subscription;
  } catch (err) {
    await pubsub.close().catch(() => {});
    throw new DispatchError(
      "pubsub_unavailable",
      `creating the temporary subscription ${name} on ${options.topic} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** A status event of ours that the caller keeps; null for anything else. */
function eventOf(m: Message, keep: WatchOptions["keep"]): StatusEvent | null {
  let parsed: ReturnType<typeof StatusEventSchema.safeParse>;
  try {
    parsed = StatusEventSchema.safeParse(JSON.parse(m.data.toString("utf8")));
  } catch {
    return null; // not an event of ours: nothing to show
  }
  return parsed.success && keep(parsed.data) ? parsed.data : null;
}

/** Events waiting for next(), in arrival order; a failure or an interrupt ends the wait. */
class Inbox {
  private readonly queue: StatusEvent[] = [];
  private failure: Error | null = null;
  private interrupted = false;
  private wake: (() => void) | null = null;

  constructor(private readonly doing: string) {}

  push(e: StatusEvent): void {
    this.queue.push(e);
    this.poke();
  }
  fail(err: Error): void {
    this.failure = err;
    this.poke();
  }
  interrupt(): void {
    this.interrupted = true;
    this.poke();
  }

  async next(timeoutMs: number): Promise<Next> {
    let timedOut = false;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            this.poke();
          }, timeoutMs)
        : undefined;
    try {
      for (;;) {
        const e = this.queue.shift();
        if (e) return e;
        if (this.interrupted) return "interrupted";
        if (this.failure)
          throw new DispatchError(
            "pubsub_unavailable",
            `${this.doing} failed: ${this.failure.message}`,
          );
        if (timedOut) return "timeout";
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
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

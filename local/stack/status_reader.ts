// The local stack's status events: a background reader of the pull subscription
// launch-status-local, keeping every event in arrival order, and waits on them.
import type { PubSub } from "@google-cloud/pubsub";
import { pullMessages, SUBSCRIPTIONS } from "../pubsub/index.js";

/** A status event as read from the launch-status topic. */
export type StatusEventJson = Record<string, unknown> & {
  launch_id: string;
  state: string;
  run_id: string | null;
};

export interface StatusReader {
  /** Every status event read so far, in arrival order. */
  events: StatusEventJson[];
  /** Waits for the first event (seen or still to come) matching `match`. */
  waitForEvent(
    match: (e: StatusEventJson) => boolean,
    timeoutMs?: number,
  ): Promise<StatusEventJson>;
  /** Stops reading; resolves once the last pull has returned. */
  stop(): Promise<void>;
}

/** Starts pulling at once; a failed pull is retried after 200 ms until stop(). */
export function startStatusReader(pubsub: PubSub): StatusReader {
  const events: StatusEventJson[] = [];
  const waiters = new Set<() => void>();
  let reading = true;
  const reader = (async () => {
    while (reading) {
      try {
        const got = await pullMessages(pubsub, SUBSCRIPTIONS.statusLocal, {
          min: 1,
          timeoutMs: 500,
        });
        for (const m of got) events.push(JSON.parse(m.data.toString("utf8")) as StatusEventJson);
        if (got.length > 0) for (const w of waiters) w();
      } catch {
        if (reading) await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  return {
    events,
    waitForEvent: (match, timeoutMs = 30_000) => waitFor(events, waiters, match, timeoutMs),
    async stop() {
      reading = false;
      await reader;
    },
  };
}

/** Resolves with the first matching event; each new batch of events re-checks. */
function waitFor(
  events: StatusEventJson[],
  waiters: Set<() => void>,
  match: (e: StatusEventJson) => boolean,
  timeoutMs: number,
): Promise<StatusEventJson> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const hit = events.find(match);
      if (!hit) return false;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(hit);
      return true;
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(
        new Error(
          `no matching status event within ${timeoutMs} ms; events so far: ${JSON.stringify(events)}`,
        ),
      );
    }, timeoutMs);
    if (!check()) waiters.add(check);
  });
}

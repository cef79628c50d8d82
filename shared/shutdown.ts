// Graceful shutdown of a function instance (issue 14). Cloud Run sends SIGTERM and kills
// the instance 10 s later. The Functions Framework (5.0.5, build/src/invoker.js) registers
// its own SIGTERM/SIGINT handler once its server listens: it answers the latest request
// with 500 and calls process.exit() at once, so nothing in flight finishes and nothing
// batched is sent. This file replaces that handler:
//
// 1. stop taking work: a request that arrives while draining is refused at once, before the
//    framework sees it (503, so Pub/Sub redelivers it; shared/drain_front.ts);
// 2. wait for the work in flight, up to the grace (SHUTDOWN_GRACE_SECONDS);
// 3. stop listening; flush the status publisher (topic.flush()), then close the clients,
//    each bounded;
// 4. exit 0.
//
// Invariants: work still running when the grace ends is abandoned, never cut in a way that
// loses it: its delivery is never acknowledged (the process exits before it answers), so
// Pub/Sub redelivers it, and its launch's lease expires so the next holder takes it over;
// an event it wrote to the outbox is published by whoever settles the record. Nothing in
// the shutdown itself throws: a failed flush or close is logged and the exit still happens.
import type { EventEmitter } from "node:events";
import { installDrainFront } from "./drain_front.js";
import { DispatchError } from "./errors.js";
import type { Logger } from "./log.js";

/** The clock of the drain: real timers in production, a manual one in tests. */
export interface DrainClock {
  now(): number;
  /** Resolves after `ms` milliseconds. */
  after(ms: number): Promise<void>;
}

export const realClock: DrainClock = {
  now: () => Date.now(),
  after: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
};

export interface DrainResult {
  /** Units of work that finished during the drain. */
  finished: number;
  /** Units of work still running when the grace ended (left to redelivery and the lease). */
  abandoned: number;
  waitedMs: number;
}

export interface Drain {
  /** Runs one unit of work (a delivery, a tick, a request); refuses it once draining. */
  run<T>(work: () => Promise<T>): Promise<T>;
  readonly draining: boolean;
  inFlight(): number;
  /** Stops taking work and waits for the work in flight, at most `graceMs`. */
  drain(graceMs: number): Promise<DrainResult>;
}

export function shuttingDown(): DispatchError {
  return new DispatchError(
    "shutting_down",
    "this instance is shutting down (SIGTERM): the delivery was not started; Pub/Sub redelivers it to another instance",
  );
}

export function createDrain(clock: DrainClock = realClock): Drain {
  const running = new Set<Promise<unknown>>();
  let draining = false;
  return {
    get draining() {
      return draining;
    },
    inFlight: () => running.size,
    run(work) {
      if (draining) return Promise.reject(shuttingDown());
      const p = work();
      const tracked = p.then(
        () => {},
        () => {},
      );
      running.add(tracked);
      void tracked.then(() => running.delete(tracked));
      return p;
    },
    async drain(graceMs) {
      draining = true;
      const start = clock.now();
      const before = running.size;
      const all = Promise.all([...running]).then(() => "done" as const);
      const outcome = await Promise.race([all, clock.after(graceMs).then(() => "grace" as const)]);
      // Settled work leaves `running` one microtask after it settles: count what is unsettled.
      const abandoned = outcome === "done" ? 0 : running.size;
      return { finished: before - abandoned, abandoned, waitedMs: clock.now() - start };
    },
  };
}

/** A step of the shutdown that may hang (an RPC): bounded, and never throwing. */
export async function bounded(
  what: string,
  step: () => Promise<unknown>,
  ms: number,
  clock: DrainClock,
  log: Logger,
): Promise<void> {
  try {
    const outcome = await Promise.race([
      step().then(() => "done" as const),
      clock.after(ms).then(() => "timeout" as const),
    ]);
    if (outcome === "timeout") log.warning(`shutdown: ${what} did not finish within ${ms} ms`);
  } catch (err) {
    log.warning(`shutdown: ${what} failed`, { error: (err as Error).message });
  }
}

export const SHUTDOWN_SIGNALS = ["SIGTERM", "SIGINT"] as const;
/** Each of the flush and the close gets at most this long (Cloud Run: grace + both < 10 s). */
export const STEP_MS = 500;

export interface ShutdownDeps {
  drain: Drain;
  graceMs: number;
  log: Logger;
  /** Sends every batched status event (topic.flush()); a no-op before the clients exist. */
  flush(): Promise<void>;
  /** Closes the clients; a no-op before they exist. */
  close(): Promise<void>;
  exit(code: number): void;
  /** Once drained: stop accepting connections, so a push arriving later finds another instance. */
  stopListening?(): void;
  clock?: DrainClock;
}

/** What a signal starts: drain, flush, close, exit 0. Runs once; a second signal is logged. */
export function shutdownSequence(deps: ShutdownDeps): (signal: string) => Promise<void> {
  const clock = deps.clock ?? realClock;
  let started: Promise<void> | undefined;
  return (signal) => {
    if (started) {
      deps.log.info(`shutdown: ${signal} again; the shutdown started already`);
      return started;
    }
    started = (async () => {
      deps.log.info(`shutdown: ${signal}; draining ${deps.drain.inFlight()} in flight`, {
        grace_ms: deps.graceMs,
      });
      const result = await deps.drain.drain(deps.graceMs);
      if (result.abandoned > 0)
        deps.log.warning(
          `shutdown: ${result.abandoned} still running after the grace, abandoned: their deliveries are not acknowledged, so Pub/Sub redelivers them, and their leases let the next holder take over`,
          { ...result },
        );
      // A push accepted after this would be cut by the exit (a reset); refused ones in
      // hand are answered during the flush and close.
      deps.stopListening?.();
      await bounded("flushing the status publisher", deps.flush, STEP_MS, clock, deps.log);
      await bounded("closing the clients", deps.close, STEP_MS, clock, deps.log);
      deps.log.info("shutdown: drained; exiting", { ...result });
      // Lets the answers just written leave the socket before the process ends.
      await new Promise((resolve) => setImmediate(resolve));
      deps.exit(0);
    })();
    return started;
  };
}

/**
 * Makes `onSignal` the only SIGTERM/SIGINT handler of `proc`: a handler anyone else adds
 * later (the Functions Framework's, once it listens) is removed in the same turn, before
 * any signal can be delivered (signals arrive through the event loop).
 */
export function takeOverSignals(
  proc: Pick<EventEmitter, "on" | "removeListener">,
  onSignal: (signal: string) => unknown,
): void {
  const ours = new Map<string, (...args: unknown[]) => void>();
  for (const signal of SHUTDOWN_SIGNALS) {
    const handler = () => void onSignal(signal);
    ours.set(signal, handler);
    proc.on(signal, handler);
  }
  proc.on("newListener", (event: string | symbol, listener: (...args: unknown[]) => void) => {
    if (typeof event !== "string" || !ours.has(event) || ours.get(event) === listener) return;
    queueMicrotask(() => proc.removeListener(event, listener));
  });
}

/**
 * Wiring for a function's index.ts, at module load: the drain, fed by every HTTP request
 * the framework's server gets (shared/drain_front.ts; `refuse` answers one while
 * draining), with SIGTERM/SIGINT taken over.
 */
export function installShutdown(
  deps: Omit<ShutdownDeps, "drain" | "exit"> & {
    refuse?: Parameters<typeof installDrainFront>[1];
    proc?: Pick<EventEmitter, "on" | "removeListener">;
    exit?: (code: number) => void;
  },
): Drain {
  const drain = createDrain(deps.clock);
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  const front = installDrainFront(drain, deps.refuse);
  const stopListening = () => front.stopListening();
  takeOverSignals(deps.proc ?? process, shutdownSequence({ ...deps, drain, exit, stopListening }));
  return drain;
}

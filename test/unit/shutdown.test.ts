// The drain of a SIGTERMed instance (shared/shutdown.ts), with a manual clock: work in
// flight finishes, new work is refused as retryable, work past the grace is abandoned,
// the flush and close run bounded and never throw, the framework's handler is replaced.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import http, { type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { drainListener, installDrainFront, refuse503 } from "../../shared/drain_front.js";
import { DispatchError, isRetryable } from "../../shared/errors.js";
import { createLogger } from "../../shared/log.js";
import {
  createDrain,
  type DrainClock,
  installShutdown,
  STEP_MS,
  shutdownSequence,
  takeOverSignals,
} from "../../shared/shutdown.js";
import { eventually } from "../helpers/eventually.js";

/** Time moves only when the test says; `after` resolves once the time has come. */
function manualClock(): DrainClock & { advance(ms: number): Promise<void>; waiting(): number } {
  let now = 0;
  const timers: Array<{ at: number; fire: () => void }> = [];
  return {
    now: () => now,
    after: (ms) => new Promise<void>((fire) => timers.push({ at: now + ms, fire })),
    waiting: () => timers.length,
    async advance(ms) {
      now += ms;
      for (const t of timers.filter((t) => t.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.fire();
      }
      await settle();
    },
  };
}

/** Lets every promise chain that can move, move (no timers involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    log: createLogger({ write: (line) => lines.push(JSON.parse(line)), secrets: ["s3cret"] }),
  };
}

// Through the module object, as the framework's CommonJS require("http") sees it.
async function serve(listener: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = http.createServer(listener);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    post: (): Promise<{ status: number; retryAfter: string | undefined }> =>
      new Promise((resolve, reject) => {
        const req = request(
          { host: "127.0.0.1", port, method: "POST", path: "/", agent: false },
          (res) => {
            res.resume();
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"] }),
            );
          },
        );
        req.on("error", reject);
        req.end("{}");
      }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("createDrain", () => {
  it("waits for the work in flight, then reports it finished", async () => {
    const clock = manualClock();
    const drain = createDrain(clock);
    const a = deferred<string>();
    const b = deferred<string>();
    const ra = drain.run(() => a.promise);
    const rb = drain.run(() => b.promise);
    assert.equal(drain.inFlight(), 2);
    let result: unknown;
    const draining = drain.drain(8000).then((r) => {
      result = r;
    });
    await clock.advance(1000);
    a.resolve("a");
    await settle();
    assert.equal(result, undefined, "one delivery is still running: the drain waits");
    await clock.advance(1000);
    b.reject(new Error("retry me"));
    await draining;
    assert.deepEqual(result, { finished: 2, abandoned: 0, waitedMs: 2000 });
    assert.equal(await ra, "a", "the caller still gets its answer");
    await assert.rejects(rb, /retry me/, "and a failure is still the caller's");
  });

  it("refuses new work once draining, retryable, without starting it", async () => {
    const drain = createDrain(manualClock());
    void drain.drain(8000);
    let started = false;
    await assert.rejects(
      drain.run(async () => {
        started = true;
      }),
      (err: unknown) =>
        err instanceof DispatchError && err.kind === "shutting_down" && isRetryable(err),
    );
    assert.equal(started, false);
    assert.equal(drain.draining, true);
  });

  it("abandons the work still running when the grace ends", async () => {
    const clock = manualClock();
    const drain = createDrain(clock);
    const done = deferred();
    void drain.run(() => done.promise);
    void drain.run(() => deferred().promise);
    let result: unknown;
    void drain.drain(8000).then((r) => {
      result = r;
    });
    await clock.advance(2000);
    done.resolve();
    await clock.advance(5999);
    assert.equal(result, undefined, "the grace has not ended at 7,999 ms");
    await clock.advance(1);
    assert.deepEqual(result, { finished: 1, abandoned: 1, waitedMs: 8000 });
  });

  it("with nothing in flight returns at once", async () => {
    const drain = createDrain(manualClock());
    assert.deepEqual(await drain.drain(8000), { finished: 0, abandoned: 0, waitedMs: 0 });
  });
});

describe("shutdownSequence", () => {
  it("drains, stops listening, flushes, closes, then exits 0, in that order, once", async () => {
    const clock = manualClock();
    const drain = createDrain(clock);
    const work = deferred();
    void drain.run(() => work.promise);
    const steps: string[] = [];
    const { log, lines } = captureLog();
    const run = shutdownSequence({
      drain,
      graceMs: 8000,
      log,
      clock,
      flush: async () => {
        steps.push("flush");
      },
      close: async () => {
        steps.push("close");
      },
      exit: (code) => steps.push(`exit ${code}`),
      stopListening: () => steps.push("stop listening"),
    });
    const first = run("SIGTERM");
    const second = run("SIGTERM");
    await clock.advance(100);
    assert.deepEqual(steps, [], "nothing is flushed while a delivery runs");
    work.resolve();
    await first;
    await second;
    assert.deepEqual(steps, ["stop listening", "flush", "close", "exit 0"]);
    assert.ok(lines.some((l) => /SIGTERM again/.test(String(l.message))));
  });

  it("a flush that hangs or fails and a close that throws still end in exit 0, logged", async () => {
    const clock = manualClock();
    const { log, lines } = captureLog();
    let code: number | undefined;
    const run = shutdownSequence({
      drain: createDrain(clock),
      graceMs: 8000,
      log,
      clock,
      flush: () => new Promise(() => {}),
      close: async () => {
        throw new Error("close failed for s3cret");
      },
      exit: (c) => {
        code = c;
      },
    });
    const done = run("SIGTERM");
    await settle();
    assert.equal(code, undefined);
    await clock.advance(STEP_MS);
    await done;
    assert.equal(code, 0);
    const warnings = lines.filter((l) => l.severity === "WARNING").map((l) => JSON.stringify(l));
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings[0] ?? "", /flushing the status publisher did not finish within 500 ms/);
    assert.match(warnings[1] ?? "", /closing the clients failed/);
    assert.ok(!warnings.join("").includes("s3cret"), "a secret in an error is masked");
  });

  it("logs the work it abandoned, saying who finishes it", async () => {
    const clock = manualClock();
    const drain = createDrain(clock);
    void drain.run(() => new Promise(() => {}));
    const { log, lines } = captureLog();
    const done = shutdownSequence({
      drain,
      graceMs: 1000,
      log,
      clock,
      flush: async () => {},
      close: async () => {},
      exit: () => {},
    })("SIGTERM");
    await clock.advance(1000);
    await done;
    const warning = lines.find((l) => l.severity === "WARNING");
    assert.match(String(warning?.message), /1 still running .*Pub\/Sub redelivers .*lease/);
  });
});

describe("takeOverSignals", () => {
  it("removes a SIGTERM/SIGINT handler added later (the Functions Framework's) before a signal can come", async () => {
    const proc = new EventEmitter();
    const got: string[] = [];
    takeOverSignals(proc, (s) => got.push(`ours ${s}`));
    // As the framework's ErrorHandler.register() does once its server listens.
    for (const s of ["SIGINT", "SIGTERM"]) proc.on(s, () => got.push(`framework ${s}`));
    proc.on("exit", () => got.push("framework exit"));
    await settle();
    proc.emit("SIGTERM");
    proc.emit("SIGINT");
    proc.emit("exit");
    assert.deepEqual(got, ["ours SIGTERM", "ours SIGINT", "framework exit"]);
  });

  it("installShutdown: a SIGTERM drains through the process-like emitter and exits 0", async () => {
    const proc = new EventEmitter();
    const exits: number[] = [];
    const drain = installShutdown({
      graceMs: 8000,
      log: captureLog().log,
      clock: manualClock(),
      flush: async () => {},
      close: async () => {},
      proc,
      exit: (c) => exits.push(c),
    });
    // The next server made is the framework's: its requests feed the drain.
    const s = await serve((_req, res) => res.writeHead(204).end());
    const work = deferred();
    const answered = drain.run(() => work.promise);
    proc.emit("SIGTERM");
    await settle();
    assert.deepEqual(exits, []);
    assert.equal((await s.post()).status, 503, "a push during the drain is refused");
    await s.close();
    work.resolve();
    await answered;
    // The exit comes one setImmediate after the close (the answer leaves the socket first).
    for (let turn = 0; turn < 50 && exits.length === 0; turn++)
      await new Promise((r) => setImmediate(r));
    assert.deepEqual(exits, [0], "exited 0 within 50 event-loop turns of the work's end");
  });
});

describe("drain front (shared/drain_front.ts), over a real HTTP server", () => {
  it("tracks a request until its answer is written, and answers one arriving while draining with 503", async () => {
    const drain = createDrain(manualClock());
    const hold = deferred();
    let reached = 0;
    const app = (_req: IncomingMessage, res: ServerResponse) => {
      reached++;
      void hold.promise.then(() => res.writeHead(204).end());
    };
    const s = await serve(drainListener(drain, app, refuse503));
    try {
      const first = s.post();
      await eventually(() => drain.inFlight(), {
        until: (n) => n === 1,
        timeout: 10_000,
        what: "the first request to be in flight",
      });
      let drained: unknown;
      const draining = drain.drain(8000).then((r) => {
        drained = r;
      });
      const second = await s.post();
      assert.deepEqual(second, { status: 503, retryAfter: "1" }, "refused at once, redeliverable");
      assert.equal(reached, 1, "the refused request never reached the framework");
      assert.equal(drained, undefined, "the first request is still in flight");
      hold.resolve();
      assert.equal((await first).status, 204);
      await draining;
      assert.deepEqual(drained, { finished: 1, abandoned: 0, waitedMs: 0 });
    } finally {
      await s.close();
    }
  });

  it("installDrainFront wraps only the next server created", async () => {
    const drain = createDrain(manualClock());
    installDrainFront(drain);
    const app = (_req: IncomingMessage, res: ServerResponse) => res.writeHead(204).end();
    const wrapped = await serve(app);
    const plain = await serve(app);
    try {
      void drain.drain(8000);
      assert.equal((await wrapped.post()).status, 503);
      assert.equal((await plain.post()).status, 204);
    } finally {
      await wrapped.close();
      await plain.close();
    }
  });
});

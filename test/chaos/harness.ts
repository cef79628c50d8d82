// The chaos run (issue 14, SPEC §12): the whole local stack (Google's Pub/Sub emulator, the
// GCS and Vertex emulators, dispatch and poll as Functions Framework processes), N launches
// each published 1-3 times, poison, injected faults, SIGKILLs, then a check of everything.
// Used by `npm run chaos` (scripts/chaos.mjs) and test/chaos/chaos.test.ts.
import { randomBytes } from "node:crypto";
import type { Storage } from "@google-cloud/storage";
import type { WriteRateReport } from "../../local/gcs/index.js";
import { pullMessages, pushEndpoint, SUBSCRIPTIONS, TOPICS } from "../../local/pubsub/index.js";
import { queueYaml, startTestStack, type TestStack } from "../helpers/stack.js";
import { injectFaults } from "./faults.js";
import { type CountingProxy, countingProxy, type PushAnswer, type PushCounts } from "./proxy.js";
import {
  chaosLine,
  type Figures,
  passed,
  type SeenJob,
  type SeenRecord,
  type Verdict,
  verify,
  writesLine,
} from "./verify.js";
import { makePlan, type Plan, QUEUES } from "./workload.js";

export interface ChaosOptions {
  launches: number;
  seed: number;
  /** Share (0..1) of matching calls each injected fault hits. */
  faultRate: number;
  kills: number;
  /** SIGKILL (a crash) or SIGTERM (a graceful shutdown: the Functions Framework's own handler). */
  killSignal: "kill" | "stop";
  /** Kill only this function (default: dispatch or poll, chosen by the seed). */
  killOnly?: "dispatch" | "poll";
  poison: number;
  maxJobs: number;
  /** Share of launches sent to the max_jobs queue. */
  limitedShare: number;
  /** Each launch is published 1 to this many times (default 3). */
  maxCopies?: number;
  /** Publishes in flight at once. */
  concurrency: number;
  leaseSeconds: number;
  createDeadlineSeconds: number;
  /** How long, from the first publish, every launch may take to finish. */
  settleTimeoutMs: number;
  log: (line: string) => void;
  /** Every function log line, for a post-mortem (e.g. written to a file by the CLI). */
  functionLines?: (lines: string[]) => void;
}

export const DEFAULTS: ChaosOptions = {
  launches: 1000,
  seed: 1,
  faultRate: 0.05,
  kills: 8,
  killSignal: "kill",
  poison: 12,
  maxJobs: 3,
  limitedShare: 0.05,
  concurrency: 16,
  leaseSeconds: 6,
  createDeadlineSeconds: 4,
  settleTimeoutMs: 600_000,
  log: () => {},
};

export interface ChaosResult {
  figures: Figures;
  verdict: Verdict;
  ok: boolean;
  line: string;
  /** Writes per object per second by kind (slots, launch records, markers): printed before `line`. */
  writesLine: string;
  faultsByKind: Record<string, number>;
  writeRates: WriteRateReport;
  push: PushCounts;
  publishes: number;
  elapsedMs: number;
  /** Per SIGTERM (killSignal "stop"): the deliveries in flight at the signal and what each was answered. */
  sigterms: Array<{ inFlight: number; answers: PushAnswer[] }>;
  /** Per status event, ms from its `time` (when its change was committed) to the harness seeing it. */
  eventDelaysMs: number[];
}

function noFaults() {
  return { fired: (): Record<string, number> => ({}), clear: () => {} };
}

export async function runChaos(partial: Partial<ChaosOptions>): Promise<ChaosResult> {
  const o = { ...DEFAULTS, ...partial };
  const started = Date.now();
  const canary = `chaos-canary-${randomBytes(8).toString("hex")}`;
  const spreadMs = Math.max(10_000, o.launches * 25);
  const plan = makePlan({ ...o, spreadMs, canary });
  const stack = await startTestStack({
    functions: ["dispatch", "poll"],
    pollIntervalMs: 1000,
    vertexClock: {
      mode: "timed",
      queuedSeconds: 0.3,
      pendingSeconds: 0.3,
      runningSeconds: 0.6,
      cancellingSeconds: 0.2,
    },
    retry: { minimumBackoffSeconds: 1, maximumBackoffSeconds: 3 },
    maxDeliveryAttempts: 5,
    functionEnv: {
      WANDB_API_KEY: canary,
      LEASE_SECONDS: String(o.leaseSeconds),
      CREATE_DEADLINE_SECONDS: String(o.createDeadlineSeconds),
    },
  });
  const proxy = await countingProxy(
    () => stack.functions.get("dispatch")?.url ?? "http://127.0.0.1:1",
  );
  try {
    await setUp(stack, o, proxy.url);
    const faults =
      o.faultRate > 0 ? injectFaults(stack.vertex, stack.gcs, o.faultRate) : noFaults();
    o.log(
      `chaos: ${o.launches} launches, ${plan.poison.length} poison, ${plan.kills.length} kills, publishes over ${spreadMs} ms, fault rate ${o.faultRate}, seed ${o.seed}`,
    );
    const deadline = Date.now() + o.settleTimeoutMs;
    const seen = stampArrivals(stack);
    const sigterms: ChaosResult["sigterms"] = [];
    const killing = killAll(stack, plan, o, deadline, proxy, sigterms);
    const publishes = await publishAll(stack, plan, o, spreadMs);
    // Faults stay on until every launch has been dispatched (dispatch lags publishing: the
    // emulator pushes at most 2 messages at once), then the run settles without them.
    await until(() => progress(stack, plan).dispatched === plan.launches.length, deadline);
    const kills = await killing;
    faults.clear();
    o.log(
      `chaos: ${publishes} publishes, ${kills} kills, ${progress(stack, plan).dispatched} launches dispatched after ${Date.now() - started} ms; faults cleared`,
    );
    await settle(stack, plan, o, deadline);
    const eventDelaysMs = seen.stop();
    const verdict = verify(await collect(stack, plan, o, canary));
    const faultsByKind = faults.fired();
    const figures: Figures = {
      launches: o.launches,
      deliveries: proxy.counts.deliveries,
      faults: Object.values(faultsByKind).reduce((a, b) => a + b, 0),
      kills,
    };
    return {
      figures,
      verdict,
      ok: passed(verdict, o.maxJobs),
      line: chaosLine(figures, verdict),
      writesLine: writesLine(verdict.writes),
      faultsByKind,
      writeRates: stack.gcs.control.writeRates(5),
      push: { ...proxy.counts, unreachableCodes: [...proxy.counts.unreachableCodes] },
      publishes,
      elapsedMs: Date.now() - started,
      sigterms,
      eventDelaysMs,
    };
  } finally {
    o.functionLines?.(stack.functionLines);
    await stack.close();
    await proxy.close();
  }
}

async function setUp(stack: TestStack, o: ChaosOptions, proxyUrl: string): Promise<void> {
  stack.writeQueue(QUEUES.plain, queueYaml({ extra: "start_timeout: 600" }));
  stack.writeQueue(
    QUEUES.limited,
    queueYaml({ extra: `max_jobs: ${o.maxJobs}\nstart_timeout: 600` }),
  );
  stack.writeQueue(QUEUES.multiRegion, queueYaml({ staging: "chaos-multi-staging" }));
  await stack.storage.createBucket("chaos-multi-staging", { location: "US" });
  // Pushes go through the counting proxy (a delivery is a push, whatever its answer).
  await stack.pubsub
    .subscription(SUBSCRIPTIONS.dispatch)
    .modifyPushConfig({ pushEndpoint: pushEndpoint(proxyUrl, stack.project, TOPICS.jobs) });
}

async function publishAll(
  stack: TestStack,
  plan: Plan,
  o: ChaosOptions,
  spreadMs: number,
): Promise<number> {
  const sends: Array<{ atMs: number; data: Buffer }> = [];
  plan.launches.forEach((l, i) => {
    const turn = (i / plan.launches.length) * spreadMs;
    for (const d of l.delaysMs)
      sends.push({ atMs: turn + d, data: Buffer.from(JSON.stringify(l.body)) });
  });
  plan.poison.forEach((p, i) => {
    sends.push({ atMs: ((i + 0.5) / plan.poison.length) * spreadMs, data: p.data });
  });
  sends.sort((a, b) => a.atMs - b.atMs);
  const start = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < sends.length) {
      const send = sends[next++] as { atMs: number; data: Buffer };
      const wait = start + send.atMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await publishWithRetry(stack, send.data);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return sends.length;
}

/** The harness's own publish is not under test: retried until the emulator takes it. */
async function publishWithRetry(stack: TestStack, data: Buffer): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await stack.pubsub.topic(TOPICS.jobs).publishMessage({ data });
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** Valid launches that reached Vertex or the backlog (any event past claiming), and those finished. */
function progress(stack: TestStack, plan: Plan): { dispatched: number; finished: number } {
  const valid = new Set(plan.launches.map((l) => `${l.queue}/${l.runId}`));
  const dispatched = new Set<string>();
  const finished = new Set<string>();
  for (const e of stack.events) {
    const key = `${String(e.queue)}/${String(e.run_id)}`;
    if (!valid.has(key) || e.state === "rejected") continue;
    dispatched.add(key);
    if (e.state === "finished") finished.add(key);
  }
  return { dispatched: dispatched.size, finished: finished.size };
}

async function until(check: () => boolean, deadline: number): Promise<boolean> {
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
  return true;
}

/**
 * When each status event reached the harness (checked every 50 ms), as ms after the event's
 * own `time`: an event left in an outbox by a dead instance comes 30 s or more late.
 */
function stampArrivals(stack: TestStack): { stop(): number[] } {
  const delays: number[] = [];
  const stamp = () => {
    while (delays.length < stack.events.length) {
      const e = stack.events[delays.length] as { time?: unknown };
      delays.push(Date.now() - Date.parse(String(e.time)));
    }
  };
  const timer = setInterval(stamp, 50);
  return {
    stop() {
      clearInterval(timer);
      stamp();
      return delays;
    },
  };
}

/** Deliveries the function has had for at least 100 ms (so it surely received them), waited for up to 20 s. */
async function inFlightAtLeast100ms(proxy: CountingProxy): Promise<number[]> {
  const old = () => proxy.inFlight().filter((d) => d.sinceMs >= 100);
  await until(() => old().length > 0, Date.now() + 20_000);
  return old().map((d) => d.id);
}

/** Each kill waits for its share of launches to be dispatched, so kills land mid-burst whatever the machine's speed. */
async function killAll(
  stack: TestStack,
  plan: Plan,
  o: ChaosOptions,
  deadline: number,
  proxy: CountingProxy,
  sigterms: ChaosResult["sigterms"],
): Promise<number> {
  let kills = 0;
  for (const k of plan.kills) {
    const want = Math.ceil(k.atShare * plan.launches.length);
    if (!(await until(() => progress(stack, plan).dispatched >= want, deadline))) break;
    // A SIGTERM is sent while the function has deliveries in hand (the drain's case).
    const target = o.killOnly ?? k.fn;
    const drains = o.killSignal === "stop" && target === "dispatch";
    const held = drains ? await inFlightAtLeast100ms(proxy) : [];
    await stack.restartFunction(target, o.killSignal);
    if (drains) {
      await until(() => held.every((id) => proxy.answer(id) !== undefined), Date.now() + 10_000);
      sigterms.push({ inFlight: held.length, answers: held.map((id) => proxy.answer(id) ?? 0) });
    }
    kills++;
    o.log(
      `chaos: ${o.killSignal === "kill" ? "SIGKILLed" : "SIGTERMed"} and restarted ${o.killOnly ?? k.fn} at ${progress(stack, plan).dispatched}/${plan.launches.length} dispatched (${kills}/${plan.kills.length})`,
    );
  }
  return kills;
}

/** Waits until every valid launch has a `finished` event, or the deadline passes. */
async function settle(
  stack: TestStack,
  plan: Plan,
  o: ChaosOptions,
  deadline: number,
): Promise<void> {
  let lastLog = Date.now();
  const done = await until(() => {
    const p = progress(stack, plan);
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      o.log(`chaos: ${p.dispatched} dispatched, ${p.finished} finished of ${plan.launches.length}`);
    }
    return p.finished === plan.launches.length;
  }, deadline);
  const p = progress(stack, plan);
  o.log(
    `chaos: ${p.finished}/${plan.launches.length} launches finished${done ? "" : " (the settle timeout passed)"}`,
  );
  // Late repeats and the poison's events: a few more poll ticks.
  await new Promise((r) => setTimeout(r, 2500));
}

async function collect(stack: TestStack, plan: Plan, o: ChaosOptions, canary: string) {
  const jobs: SeenJob[] = stack.vertex.control.jobs().map((j) => {
    const full = stack.vertex.control.job(j.name);
    return {
      name: j.name,
      labels: j.labels,
      state: j.state,
      ...(typeof full.createTime === "string" ? { createTime: full.createTime } : {}),
      ...(typeof full.endTime === "string" ? { endTime: full.endTime } : {}),
    };
  });
  const stateBucket = stack.env.STATE_BUCKET ?? "local-state";
  const records = await readAll(stack.storage, stateBucket);
  const dead = await pullMessages(stack.pubsub, SUBSCRIPTIONS.deadLetterLocal, {
    min: Number.MAX_SAFE_INTEGER,
    timeoutMs: 3000,
  });
  return {
    plan,
    maxJobs: o.maxJobs,
    limitedQueue: QUEUES.limited,
    jobs,
    records,
    events: stack.events,
    functionLines: stack.functionLines,
    deadLetters: dead.map((m) => m.data.toString("utf8")),
    canary,
    writeRates: stack.gcs.control.writeRates(Number.MAX_SAFE_INTEGER),
    stateBucket,
  };
}

/** Every object in the state bucket (records, markers, slots), read over the SDK. */
async function readAll(storage: Storage, bucketName: string): Promise<SeenRecord[]> {
  const [files] = await storage.bucket(bucketName).getFiles();
  const out: SeenRecord[] = [];
  const queue = [...files];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const [data] = await f.download();
      const text = data.toString("utf8");
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = {};
      }
      out.push({ path: f.name, text, json });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return out;
}

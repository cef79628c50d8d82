// Dispatch benchmarks (SPEC §12): cold start beside Google's sample pattern, warm dispatch
// beside the bare calls, launches/s at concurrency 1, 8 and 32, peak RSS in a burst.

import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DEMO_JOB_SERVICE_ACCOUNT, demoMessage } from "../local/stack/demo.js";
import type { Stack } from "../local/stack/stack.js";
import { confine, confinedCommand, memoryCgroup } from "./cgroup.js";
import { functionEnv, type Running, runtimeNodeOptions, startFunction } from "./functions.js";
import { firstLine, peakRssMb, push, pushBody, pushWhenListening } from "./lib.js";

const SUBSCRIPTION = "projects/local-project/subscriptions/launch-jobs-dispatch";
let launches = 0;

export interface DispatchContext {
  stack: Stack;
  /** The deployed copy of dist/functions/dispatch. */
  app: string;
  root: string;
}

function nextLaunch(prefix: string): { runId: string; body: string } {
  const runId = `${prefix}-${++launches}-${process.pid}`;
  return { runId, body: pushBody(demoMessage(runId), `bench-${runId}`, SUBSCRIPTION) };
}

/** The CustomJob a dispatch creates for the demo queue (what the sample creates too). */
export function demoCustomJob(displayName: string): Record<string, unknown> {
  return {
    displayName,
    jobSpec: {
      serviceAccount: DEMO_JOB_SERVICE_ACCOUNT,
      workerPoolSpecs: [
        {
          machineSpec: { machineType: "n1-standard-4" },
          replicaCount: 1,
          containerSpec: { imageUri: "us-central1-docker.pkg.dev/acme-ml/train/resnet:2026-11-01" },
        },
      ],
    },
  };
}

async function expectAck(status: number, what: string): Promise<void> {
  if (status < 200 || status > 299)
    throw new Error(`${what}: the push was answered ${status}, not an ack`);
}

function startDispatch(ctx: DispatchContext): Promise<Running> {
  return startFunction({
    name: "dispatch",
    app: ctx.app,
    env: {
      ...functionEnv(ctx.stack, ctx.stack.env.STATE_BUCKET ?? ""),
      // What Terraform deploys dispatch with: the framework preload and the heap flags.
      NODE_OPTIONS: runtimeNodeOptions("dispatch"),
    },
    project: ctx.stack.project,
  });
}

/** One cold start: exec to the first launch acknowledged; checks that its job exists. */
async function coldDispatch(ctx: DispatchContext): Promise<number> {
  const { runId, body } = nextLaunch("cold");
  const fn = await startDispatch(ctx);
  try {
    await expectAck(await pushWhenListening(fn, body, 180_000), "cold dispatch");
    const ms = performance.now() - fn.t0;
    const jobs = ctx.stack.vertex.control.jobs().filter((j) => j.labels["wandb-run-id"] === runId);
    if (jobs.length !== 1) throw new Error(`cold dispatch of ${runId} made ${jobs.length} jobs`);
    return ms;
  } finally {
    await fn.stop();
  }
}

/**
 * One run of Google's sample pattern: exec to its CustomJob created. With `procs`, the
 * process joins that cgroup first (bash, then exec: the same process).
 */
async function coldSample(ctx: DispatchContext, procs?: string): Promise<number> {
  const env = functionEnv(ctx.stack, "");
  const script = join(ctx.root, "bench", "google_sample.cjs");
  const [cmd, args] = procs
    ? ["/bin/bash", ["-c", confinedCommand(procs, `${process.execPath} ${script}`)]]
    : [process.execPath, [script]];
  const t0 = performance.now();
  const child = spawn(cmd, args, {
    cwd: ctx.root,
    env: {
      PATH: process.env.PATH,
      ...env,
      BENCH_CUSTOM_JOB: JSON.stringify(demoCustomJob(`sample-${++launches}`)),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const ms = await firstLine(child, /^created projects\//m, t0, "the Google sample");
  await new Promise((r) => child.once("exit", r));
  return ms;
}

/**
 * The emulators warmed before any cold start is timed: 40 launches through one dispatch
 * instance (the Pub/Sub emulator's JVM, our GCS and Vertex emulators). Cloud services are
 * always warm; a cold start timed against an emulator that is still compiling its own code
 * measures the emulator (a cold-only run here: 736 and 772 ms against 590 ms after the poll
 * phase had warmed them).
 */
export async function warmEmulators(ctx: DispatchContext): Promise<void> {
  const fn = await startDispatch(ctx);
  try {
    await expectAck(await pushWhenListening(fn, nextLaunch("emuwarm").body, 60_000), "warm-up");
    await fire(fn, 40, 1, "emuwarm");
  } finally {
    await fn.stop();
  }
}

/**
 * Cold starts, alternating ours and the sample's so load hits both alike; one warm-up each.
 * With `procs`, each process runs inside that memory cgroup (ctx.app confined to it).
 */
export async function coldStart(ctx: DispatchContext, rounds: number, procs?: string) {
  const ours: number[] = [];
  const sample: number[] = [];
  await warmEmulators(ctx);
  await coldDispatch(ctx);
  await coldSample(ctx, procs);
  for (let i = 0; i < rounds; i++) {
    ours.push(await coldDispatch(ctx));
    sample.push(await coldSample(ctx, procs));
  }
  return { ours, sample };
}

/**
 * SPEC §12's cold starts and burst again, with every process inside a `memoryMb` cgroup, as
 * Cloud Run confines an instance (Node sizes its heap from it): a copy of the deployed package
 * whose framework bin joins the cgroup, and the sample joining it too. Where no cgroup can be
 * made, why, and nothing measured.
 */
export async function confinedRun(ctx: DispatchContext, rounds: number, memoryMb: number) {
  let cgroup: ReturnType<typeof memoryCgroup>;
  try {
    cgroup = memoryCgroup(memoryMb);
  } catch (err) {
    return { memoryMb, skipped: (err as Error).message };
  }
  const app = mkdtempSync(join(tmpdir(), "vd-confined-dispatch-"));
  try {
    cpSync(ctx.app, app, { recursive: true, verbatimSymlinks: true });
    confine(app, cgroup.procs, process.execPath);
    const inside = { ...ctx, app };
    const cold = await coldStart(inside, rounds, cgroup.procs);
    return { memoryMb, ...cold, burst: await burstRss(inside, 1000, 32) };
  } finally {
    rmSync(app, { recursive: true, force: true });
    cgroup.remove();
  }
}

/** Sequential launches on a warm instance, each push timed to its ack. */
async function warmBlock(fn: Running, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const { body } = nextLaunch("warm");
    const t0 = performance.now();
    await expectAck(await push(fn.url, body), "warm dispatch");
    out.push(performance.now() - t0);
  }
  return out;
}

/** The bare calls, timed in their own process (bench/bare_calls.cjs). */
async function bareBlock(ctx: DispatchContext, count: number, record: string) {
  const env = functionEnv(ctx.stack, ctx.stack.env.STATE_BUCKET ?? "");
  const child = spawn(process.execPath, [join(ctx.root, "bench", "bare_calls.cjs")], {
    cwd: ctx.root,
    env: {
      PATH: process.env.PATH,
      ...env,
      BENCH_ROUNDS: String(count),
      BENCH_RECORD: record,
      BENCH_CUSTOM_JOB: JSON.stringify(demoCustomJob("bare")),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  const code = await new Promise((r) => child.once("exit", r));
  if (code !== 0) throw new Error(`bench/bare_calls.cjs exited with ${code}`);
  return JSON.parse(out) as Record<
    "record_create" | "create_custom_job" | "record_update",
    number[]
  >;
}

/** Warm per-launch time beside the bare calls, in alternating blocks. */
export async function warmDispatch(ctx: DispatchContext, perBlock: number, record: string) {
  const fn = await startDispatch(ctx);
  try {
    await expectAck(await pushWhenListening(fn, nextLaunch("warmup").body, 60_000), "warm-up");
    const ours: number[] = [];
    const bare = {
      record_create: [] as number[],
      create_custom_job: [] as number[],
      record_update: [] as number[],
    };
    for (let block = 0; block < 2; block++) {
      ours.push(...(await warmBlock(fn, perBlock)));
      const b = await bareBlock(ctx, perBlock, record);
      for (const k of Object.keys(bare) as Array<keyof typeof bare>) bare[k].push(...b[k]);
    }
    const throughput = await launchesPerSecond(fn, [1, 8, 32]);
    return { ours, bare, throughput };
  } finally {
    await fn.stop();
  }
}

/** `count` launches through `concurrency` workers; every one must be acknowledged. */
async function fire(fn: Running, count: number, concurrency: number, prefix: string) {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < count) {
      next++;
      await expectAck(await push(fn.url, nextLaunch(prefix).body), `${prefix} launch`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - t0;
}

async function launchesPerSecond(fn: Running, levels: number[]) {
  const out: Record<string, number> = {};
  for (const c of levels) {
    const count = Math.max(40, c * 8);
    const ms = await fire(fn, count, c, `tput${c}`);
    out[String(c)] = (count / ms) * 1000;
  }
  return out;
}

/** A fresh instance, one launch, then `count` more at `concurrency`: the node process's VmHWM. */
export async function burstRss(ctx: DispatchContext, count: number, concurrency: number) {
  const fn = await startDispatch(ctx);
  try {
    await expectAck(await pushWhenListening(fn, nextLaunch("burst").body, 60_000), "burst");
    const afterFirst = peakRssMb(fn.pid());
    const ms = await fire(fn, count, concurrency, "burst");
    return { peakMb: peakRssMb(fn.pid()), afterFirstMb: afterFirst, ms };
  } finally {
    await fn.stop();
  }
}

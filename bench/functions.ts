// The built function packages (dist/functions/<name>/), deployed out of the repo the way
// Cloud Run functions runs them (test/helpers/bundles.ts: npm ci of the package's own lock,
// `bash -c node_modules/.bin/functions-framework`), started with the clock on exec.
import { type ChildProcess, spawn } from "node:child_process";
import { readlinkSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { freePort, pushEndpoint, TOPICS } from "../local/pubsub/index.js";
import { type Stack, startStack } from "../local/stack/stack.js";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import { COMPILE_CACHE_DIR } from "../scripts/code_cache.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import { PRELOAD_NODE_OPTION } from "../scripts/framework_preload.mjs";

export interface Running {
  child: ChildProcess;
  /** performance.now() just before exec. */
  t0: number;
  url: string;
  /** Rejects (with the process's last stderr) if it exits before it is stopped. */
  died: Promise<never>;
  /** The node process's pid (bash execs it for a single command; checked). */
  pid(): number;
  stop(): Promise<void>;
}

/**
 * The V8 heap flags Terraform gives dispatch (`dispatch.node_options`' default in
 * terraform/variables.tf; test/terraform/wiring.test.ts checks they agree): a small young
 * generation and an old-space limit, so a burst's garbage is collected instead of grown into.
 */
export const DISPATCH_NODE_OPTIONS = "--max-old-space-size=104 --max-semi-space-size=4";

/**
 * The memory Terraform gives dispatch (`dispatch.memory`'s default, 512Mi; checked by
 * test/terraform/wiring.test.ts): the bench's confined cold starts run inside a cgroup of it.
 */
export const DISPATCH_MEMORY_MB = 512;

/** What the bench runs dispatch with: BENCH_NODE_OPTIONS to try other flags, else Terraform's. */
export function dispatchNodeOptions(): string {
  return process.env.BENCH_NODE_OPTIONS ?? DISPATCH_NODE_OPTIONS;
}

/**
 * NODE_OPTIONS as Terraform sets them (terraform/functions.tf; test/terraform/wiring.test.ts
 * checks they agree): every function requires the framework preload first
 * (scripts/framework_preload.mjs), and dispatch adds its heap flags.
 */
export function runtimeNodeOptions(name: string): string {
  return `${PRELOAD_NODE_OPTION} ${name === "dispatch" ? dispatchNodeOptions() : ""}`.trim();
}

/** The emulators every bench starts: free ports, no functions of their own, Vertex's clock manual. */
export function benchStack(): Promise<Stack> {
  return startStack({
    env: {},
    ports: "free",
    functions: [],
    pollIntervalMs: 0,
    vertexClock: { mode: "manual" },
  });
}

/** What Terraform gives dispatch and poll, pointed at the stack's emulators. */
export function functionEnv(stack: Stack, stateBucket: string): Record<string, string> {
  const e = stack.env;
  return {
    GOOGLE_CLOUD_PROJECT: stack.project,
    VERTEX_REGION: stack.region,
    STATE_BUCKET: stateBucket,
    CONFIG_BUCKET: e.CONFIG_BUCKET ?? "",
    DEFAULT_JOB_SERVICE_ACCOUNT: e.DEFAULT_JOB_SERVICE_ACCOUNT ?? "",
    STATUS_TOPIC: TOPICS.status,
    LAUNCH_TOPIC: TOPICS.jobs,
    WANDB_API_KEY: "bench-secret-0123456789abcdef",
    PUBSUB_EMULATOR_HOST: e.PUBSUB_EMULATOR_HOST ?? "",
    GCS_ENDPOINT: e.GCS_ENDPOINT ?? "",
    VERTEX_ENDPOINT: e.VERTEX_ENDPOINT ?? "",
    METADATA_SERVER_DETECTION: "none",
    LOG_LEVEL: "warning",
  };
}

export async function startFunction(options: {
  name: "dispatch" | "poll";
  app: string;
  env: Record<string, string>;
  project: string;
}): Promise<Running> {
  const port = await freePort();
  const env = {
    ...options.env,
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    PORT: String(port),
    FUNCTION_TARGET: options.name,
    FUNCTION_SIGNATURE_TYPE: "http",
    K_SERVICE: options.name,
    K_REVISION: `${options.name}-00001-abc`,
    K_CONFIGURATION: options.name,
    NODE_ENV: "production",
    // Node's compile cache gcp-build fills (Node 22; Node 20 ignores it), as Terraform sets it:
    // relative to the package, so only the deployed function gets it (not the sample or the
    // bare calls, which run in the repo).
    NODE_COMPILE_CACHE: COMPILE_CACHE_DIR,
  };
  const t0 = performance.now();
  // BENCH_PROFILE_DIR=dir: a V8 CPU profile of each function process (to find what to trim).
  const profile = process.env.BENCH_PROFILE_DIR;
  const command = profile
    ? `node --cpu-prof --cpu-prof-interval=200 --cpu-prof-dir=${profile} node_modules/.bin/functions-framework`
    : "node_modules/.bin/functions-framework";
  const child = spawn("/bin/bash", ["-c", command], {
    cwd: options.app,
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString("utf8")).slice(-4000);
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const died = exited.then(() => {
    throw new Error(
      `${options.name} exited ${stopping ? "when stopped" : "unexpectedly"}:\n${stderr}`,
    );
  });
  died.catch(() => {});
  const topic = options.name === "dispatch" ? TOPICS.jobs : TOPICS.poll;
  return {
    child,
    t0,
    died,
    url: pushEndpoint(`http://127.0.0.1:${port}`, options.project, topic),
    pid() {
      const pid = child.pid ?? 0;
      const exe = readlinkSync(`/proc/${pid}/exe`);
      if (!/node/.test(exe)) throw new Error(`pid ${pid} is ${exe}, not node; stderr: ${stderr}`);
      return pid;
    },
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// Runs one of our Cloud Functions locally the way Cloud Run functions does: a separate
// Node process under the Functions Framework (its own `functions-framework` entry point),
// loading the TypeScript source through tsx. Killing it is a real crash.
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { portToAsk, waitForListener } from "./listening.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// The package exports only its index (build/src/index.js); main.js sits beside it.
const FRAMEWORK_MAIN = join(
  dirname(createRequire(import.meta.url).resolve("@google-cloud/functions-framework")),
  "main.js",
);

export interface LocalFunction {
  name: string;
  /** e.g. http://127.0.0.1:8081 */
  url: string;
  port: number;
  process: ChildProcess;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL 10 s later, as Cloud Run does. */
  stop(): Promise<void>;
  /** SIGKILL at once: a crash, for tests. */
  kill(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface FunctionOptions {
  name: string;
  /** Source file relative to the repo root, e.g. functions/dispatch/index.ts */
  source: string;
  /** 0: the function binds a port and it is read back from its process (./listening.ts). */
  port: number;
  env: Record<string, string | undefined>;
  /** The framework's signature type; default cloudevent (the registered one wins anyway). */
  signatureType?: "cloudevent" | "http";
  /** Each line the function prints (its structured logs). */
  onLine?: (line: string) => void;
}

/** The framework's process for the function, asked to listen on `port`. */
function spawnFramework(options: FunctionOptions, port: number): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      FRAMEWORK_MAIN,
      `--target=${options.name}`,
      `--signature-type=${options.signatureType ?? "cloudevent"}`,
      `--source=${join(ROOT, options.source)}`,
      `--port=${port}`,
    ],
    {
      cwd: ROOT,
      env: { ...options.env, NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  forwardLines(child, options.onLine);
  return child;
}

/**
 * Each non-blank line of the child's stdout and stderr, whole: a chunk may end mid-line, and
 * a line split across two chunks must not reach `onLine` as two pieces.
 */
export function forwardLines(child: ChildProcess, onLine?: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr])
    if (stream)
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
        if (line.trim()) onLine?.(line);
      });
}

export async function startFunction(options: FunctionOptions): Promise<LocalFunction> {
  // Port 0: the child binds one and it is read back (./listening.ts), so no other process
  // can take it in between.
  const asked = await portToAsk(options.port, freePort);
  const child = spawnFramework(options, asked);
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? 0)),
  );
  const port = await waitForListener({
    pid: child.pid ?? 0,
    port: asked,
    exited,
    what: `function ${options.name}`,
  });
  const end = async (signal: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    name: options.name,
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    exited,
    // Cloud Run's grace: SIGKILL 10 s after SIGTERM (the function drains within it).
    stop: () => end("SIGTERM", 10_000),
    kill: () => end("SIGKILL", 0),
  };
}

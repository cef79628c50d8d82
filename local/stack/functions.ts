// Runs one of our Cloud Functions locally the way Cloud Run functions does: a separate
// Node process under the Functions Framework (its own `functions-framework` entry point),
// loading the TypeScript source through tsx. Killing it is a real crash.
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { connect, createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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

export async function startFunction(options: {
  name: string;
  /** Source file relative to the repo root, e.g. functions/dispatch/index.ts */
  source: string;
  port: number;
  env: Record<string, string | undefined>;
  /** The framework's signature type; default cloudevent (the registered one wins anyway). */
  signatureType?: "cloudevent" | "http";
  /** Each line the function prints (its structured logs). */
  onLine?: (line: string) => void;
}): Promise<LocalFunction> {
  const port = options.port === 0 ? await freePort() : options.port;
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
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? 0)),
  );
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) options.onLine?.(line);
  };
  child.stdout?.on("data", forward);
  child.stderr?.on("data", forward);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilListening(url, exited, options.name);
  const end = async (signal: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    name: options.name,
    url,
    port,
    process: child,
    exited,
    // Cloud Run's grace: SIGKILL 10 s after SIGTERM (the function drains within it).
    stop: () => end("SIGTERM", 10_000),
    kill: () => end("SIGKILL", 0),
  };
}

async function waitUntilListening(
  url: string,
  exited: Promise<number | string>,
  name: string,
): Promise<void> {
  let done = false;
  let code: number | string = 0;
  void exited.then((c) => {
    done = true;
    code = c;
  });
  const port = Number(new URL(url).port);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (done)
      throw new Error(
        `function ${name} exited with ${code} before it listened (see its log lines above)`,
      );
    // A TCP connect, not an HTTP request: a GET would make the framework log a conversion error.
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`function ${name} did not listen on ${url} within 60 s`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

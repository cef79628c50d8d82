// Runs Google's Pub/Sub emulator (`gcloud beta emulators pubsub start`) so that it can
// always be torn down. gcloud's Python (exec'd by the gcloud shell script) puts itself in
// a new process group and starts Java in it. A small `sh` watchdog starts gcloud, reports
// Python's pid (= that group's id), and waits on its stdin: when close() ends stdin, or when
// this Node process dies for any reason (its end of the pipe closes), the watchdog sends
// SIGTERM to the group, waits for gcloud, then SIGKILLs the group. close() then waits
// until no process of the group is left. No java process outlives us.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PubsubEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: a free port (0). The local stack passes 8085. */
  port?: number;
  /** Default local-project. */
  projectId?: string;
  /** The emulator's output, line by line; default: kept only for error messages. */
  log?: (line: string) => void;
  /** How long to wait for the emulator to answer; default 90 s (it boots in ~3-10 s). */
  bootTimeoutMs?: number;
  /** Picks the free port when none is asked for; default freePort (a test loses the race with it). */
  pickPort?: (hostname: string) => Promise<number>;
}

export interface PubsubEmulator {
  /** "127.0.0.1:PORT": the value of PUBSUB_EMULATOR_HOST and the client's apiEndpoint. */
  host: string;
  port: number;
  projectId: string;
  /** Stops the emulator and every process it started; resolves once they are gone. */
  close(): Promise<void>;
}

export const DEFAULT_PUBSUB_PORT = 8085;
const GROUP_LINE = "vertex-dispatch: pubsub emulator group ";

// $1.. are gcloud's arguments.
const WATCHDOG = `gcloud "$@" &
child=$!
echo "${GROUP_LINE}$child" >&2
read -r _ignored
kill -TERM -"$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null
wait "$child" 2>/dev/null
kill -KILL -"$child" 2>/dev/null
exit 0`;

/** Why the Pub/Sub emulator cannot run here, or null when it can. */
export function pubsubMissing(env: NodeJS.ProcessEnv = process.env): string | null {
  let versions: string;
  try {
    versions = execFileSync("gcloud", ["--version"], { encoding: "utf8", timeout: 60_000, env });
  } catch {
    return "gcloud is not installed: install the Google Cloud CLI to run the Pub/Sub emulator";
  }
  if (!/^pubsub-emulator /m.test(versions)) {
    return "the gcloud component pubsub-emulator is not installed (gcloud components install pubsub-emulator beta)";
  }
  if (!/^beta /m.test(versions)) {
    return "the gcloud component beta is not installed (gcloud components install beta)";
  }
  try {
    execFileSync("java", ["-version"], { stdio: "ignore", timeout: 60_000, env });
  } catch {
    return "java is not installed: the Pub/Sub emulator needs a Java runtime (JRE 11+)";
  }
  return null;
}

/** How many free ports to try when another process binds the chosen one first. */
const FREE_PORT_TRIES = 3;

export async function startPubsubEmulator(
  options: PubsubEmulatorOptions = {},
): Promise<PubsubEmulator> {
  const hostname = options.host ?? "127.0.0.1";
  for (let attempt = 1; ; attempt++) {
    const port = await choosePort(hostname, options.port, options.pickPort ?? freePort);
    try {
      return await startOn(hostname, port, options);
    } catch (err) {
      // A free port is picked, then Java binds it seconds later: another process may bind
      // it in between. Only then is another free port tried; an asked-for port fails.
      const lost = /java\.net\.BindException/.test(String(err));
      if (!lost || options.port || attempt >= FREE_PORT_TRIES) throw err;
      options.log?.(
        `the Pub/Sub emulator lost ${hostname}:${port} to another process; trying another free port`,
      );
    }
  }
}

async function startOn(
  hostname: string,
  port: number,
  options: PubsubEmulatorOptions,
): Promise<PubsubEmulator> {
  const projectId = options.projectId ?? "local-project";
  const host = `${hostname}:${port}`;
  const config = mkdtempSync(join(tmpdir(), "vd-pubsub-"));
  mkdirSync(join(config, "data"));
  const child = spawnWatchdog(host, projectId, config);
  const watched = watchOutput(child, options.log);
  unref(child);

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= stop(child, watched.group).finally(() =>
      rmSync(config, { recursive: true, force: true }),
    );
    return closed;
  };
  try {
    await waitReady(host, options.bootTimeoutMs ?? 90_000, watched.failed);
  } catch (err) {
    await close();
    const tail = watched.output.slice(-15).join("\n");
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}\n--- emulator output ---\n${tail}`,
    );
  }
  return { host, port, projectId, close };
}

/** The port asked for (refused when taken), or a free one. */
async function choosePort(
  hostname: string,
  asked: number | undefined,
  pick: (hostname: string) => Promise<number>,
): Promise<number> {
  if (asked && !(await portFree(hostname, asked))) {
    throw new Error(`cannot start the Pub/Sub emulator: ${hostname}:${asked} is already in use`);
  }
  return asked || (await pick(hostname));
}

/** The sh watchdog running `gcloud beta emulators pubsub start` with its own gcloud config. */
function spawnWatchdog(host: string, projectId: string, config: string): ChildProcess {
  const args = [
    "beta",
    "emulators",
    "pubsub",
    "start",
    `--host-port=${host}`,
    `--project=${projectId}`,
    `--data-dir=${join(config, "data")}`,
  ];
  return spawn("sh", ["-c", WATCHDOG, "watchdog", ...args], {
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, CLOUDSDK_CONFIG: config, CLOUDSDK_CORE_DISABLE_PROMPTS: "1" },
  });
}

/**
 * Reads the watchdog's output: the group line gives gcloud's process group; the last 50
 * other lines are kept for error messages; the first ERROR:/Exception line is the failure.
 */
function watchOutput(child: ChildProcess, log: ((line: string) => void) | undefined) {
  const output: string[] = [];
  let failed: string | undefined;
  let group: number | undefined;
  const onLine = (line: string) => {
    if (line.startsWith(GROUP_LINE)) {
      group = Number(line.slice(GROUP_LINE.length));
      return;
    }
    output.push(line);
    if (output.length > 50) output.shift();
    if (line.startsWith("ERROR:") || /Exception/.test(line)) failed ??= line;
    log?.(line);
  };
  lines(child.stdout, onLine);
  lines(child.stderr, onLine);
  return { output, failed: () => failed, group: () => group };
}

/** Ends the watchdog's stdin, waits for it, then until no process of gcloud's group is left. */
async function stop(watchdog: ChildProcess, group: () => number | undefined): Promise<void> {
  if (watchdog.exitCode === null && watchdog.signalCode === null) {
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise<void>((resolve) => {
      watchdog.once("exit", () => resolve());
      timer = setTimeout(resolve, 15_000);
    });
    watchdog.stdin?.end();
    await exited;
    clearTimeout(timer);
  }
  const pgid = group();
  if (pgid === undefined) {
    signalGroup(watchdog.pid, "SIGKILL");
    return;
  }
  const deadline = Date.now() + 10_000;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) {
      signalGroup(pgid, "SIGKILL");
      await sleep(500);
      if (!groupAlive(pgid)) break;
      throw new Error(`the Pub/Sub emulator's process group ${pgid} would not die`);
    }
    await sleep(100);
  }
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(group: number | undefined, signal: NodeJS.Signals): void {
  if (group === undefined) return;
  try {
    process.kill(-group, signal);
  } catch {}
}

async function waitReady(
  host: string,
  timeoutMs: number,
  failed: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed();
    if (why) throw new Error(`the Pub/Sub emulator did not start: ${why}`);
    try {
      const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok && (await res.text()).trim() === "Ok") return;
    } catch {}
    if (Date.now() > deadline)
      throw new Error(`the Pub/Sub emulator did not answer on ${host} within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** A port free right now on the host (the OS picks it). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buffer = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf("\n");
    }
  });
}

/** Lets Node exit without close(); the watchdog then sees its stdin close and cleans up. */
function unref(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Small helpers the benchmarks share: medians, timed child processes, Pub/Sub push bodies,
// peak RSS from /proc, and a description of the machine the figures come from.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, freemem, loadavg, release, totalmem } from "node:os";
import { performance } from "node:perf_hooks";

export function median(samples: number[]): number {
  if (samples.length === 0) throw new Error("median of no samples: a phase measured nothing");
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** Runs a command to exit; resolves with its wall time in ms (exec to exit) and output. */
export function timedRun(
  cmd: string,
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined> },
): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ ms: performance.now() - t0, code, stdout, stderr }));
  });
}

/** Resolves with ms from `t0` to the first stdout line matching `pattern`. */
export function firstLine(child: ChildProcess, pattern: RegExp, t0: number, what: string) {
  return new Promise<number>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      if (pattern.test(out)) resolve(performance.now() - t0);
    });
    child.stderr?.on("data", (c: Buffer) => {
      err += c.toString("utf8");
    });
    child.once("exit", (code) =>
      reject(new Error(`${what} exited with ${code} before printing ${pattern}:\n${out}\n${err}`)),
    );
  });
}

/** The body Pub/Sub pushes for one message (what the Functions Framework turns into a CloudEvent). */
export function pushBody(data: unknown, messageId: string, subscription: string): string {
  return JSON.stringify({
    message: {
      data: Buffer.from(JSON.stringify(data)).toString("base64"),
      attributes: {},
      messageId,
      message_id: messageId,
      publishTime: new Date().toISOString(),
    },
    subscription,
  });
}

/** POSTs a push; resolves with the HTTP status (2xx is an ack, as Pub/Sub reads it). */
export async function push(url: string, body: string): Promise<number> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

/** Pushes until the function accepts the connection, then resolves with the status. */
export async function pushWhenListening(
  fn: { url: string; died: Promise<never> },
  body: string,
  deadlineMs: number,
): Promise<number> {
  return Promise.race([fn.died, pushUntilAccepted(fn.url, body, deadlineMs)]);
}

async function pushUntilAccepted(url: string, body: string, deadlineMs: number): Promise<number> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    try {
      return await push(url, body);
    } catch (err) {
      const refused = (err as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED";
      if (!refused || performance.now() > deadline)
        throw new Error(
          `the function did not accept a push within ${deadlineMs} ms: ${err} (${(err as { cause?: unknown }).cause})`,
        );
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

/** Peak resident set (VmHWM) of a process and of its node descendants, in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  if (!hwm) throw new Error(`/proc/${pid}/status has no VmHWM line`);
  return Number(hwm[1]) / 1024;
}

/** The machine, so a reader can judge the absolute figures (ratios are what count). */
export function machine(extra: Record<string, unknown>): Record<string, unknown> {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpu_model: cpu[0]?.model ?? "unknown",
    load_avg_1m_5m_15m: loadavg().map((l) => round(l, 2)),
    memory_total_mb: Math.round(totalmem() / 1024 / 1024),
    memory_free_mb: Math.round(freemem() / 1024 / 1024),
    node: process.version,
    platform: `${process.platform}-${process.arch} ${release()}`,
    ...extra,
  };
}

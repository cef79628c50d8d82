// Waits until a child process listens, and learns its port from the process itself.
//
// Why: a port picked free and then handed to a child can be taken by any other process
// before the child binds it. A check that only connects to the port then passes against the
// other process (seen in CI: a test's ingest requests answered 404 by another test file's
// Vertex emulator, which had bound the port in between). On Linux the child's own listening
// sockets are read from /proc (its socket descriptors matched against the LISTEN sockets of
// its network namespace), so the child can bind port 0 and there is no race at all.
// Elsewhere the caller picks a free port first and a TCP connect is the best check there is.
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect } from "node:net";

/** Whether listeningPorts can see a process's sockets (Linux's /proc). */
export const CAN_READ_LISTENERS = process.platform === "linux" && existsSync("/proc/self/net/tcp");

/**
 * The port to start a child on for `port`: 0 stays 0 where the bound port can be read back
 * from the child; elsewhere a free one from `pickFree` (and the race stays possible there).
 */
export async function portToAsk(port: number, pickFree: () => Promise<number>): Promise<number> {
  return port === 0 && !CAN_READ_LISTENERS ? await pickFree() : port;
}

/** The TCP ports process `pid` listens on (IPv4 and IPv6), read from /proc; [] if none. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    }
  } catch {
    return []; // the process is gone
  }
  const ports = new Set<number>();
  for (const table of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    // sl local_address rem_address st ... inode: st 0A is LISTEN, the port is hex.
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === "0A" && f[9] && inodes.has(f[9]))
        ports.add(Number.parseInt(f[1]?.split(":")[1] ?? "", 16));
    }
  }
  return [...ports];
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
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

/**
 * Resolves with the port `pid` listens on: `port`, or (port 0, Linux only) the one it bound.
 * Rejects if `exited` settles first, or after `deadlineMs`, naming `what`.
 */
export async function waitForListener(options: {
  pid: number;
  port: number;
  exited: Promise<unknown>;
  what: string;
  deadlineMs?: number;
}): Promise<number> {
  const { pid, port, what } = options;
  if (port === 0 && !CAN_READ_LISTENERS)
    throw new Error(
      `${what}: port 0 needs Linux's /proc to learn the port; pick a free port first`,
    );
  let code: unknown;
  void options.exited.then((c) => {
    code = c ?? "exit";
  });
  const waitMs = options.deadlineMs ?? 60_000;
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (code !== undefined)
      throw new Error(`${what} exited with ${code} before it listened (see its log lines above)`);
    if (CAN_READ_LISTENERS) {
      const ports = listeningPorts(pid);
      const found = port === 0 ? ports[0] : ports.find((p) => p === port);
      if (found !== undefined) return found;
    } else if (await canConnect(port)) return port;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `${what} did not listen on ${port === 0 ? "a port" : `port ${port}`} within ${waitMs / 1000} s`,
  );
}

// Runs the CLI in-process: `main(argv, env, io)` with captured stdout/stderr, a chosen TTY
// flag, and a simulated Ctrl-C. Also the wait-for-condition helper the CLI tests share.
import { main } from "../../cli/main.js";

export interface CliRun {
  /** Resolves with the exit code once the command returns. */
  done: Promise<{ code: number; out: string; err: string }>;
  out(): string;
  err(): string;
  /** What Ctrl-C does: calls every registered interrupt handler. */
  interrupt(): void;
}

export function startCli(
  argv: string[],
  env: Record<string, string | undefined>,
  options: { tty?: boolean } = {},
): CliRun {
  let out = "";
  let err = "";
  const handlers = new Set<() => void>();
  const io = {
    stdout: { write: (s: string) => (out += s), isTTY: options.tty ?? false },
    stderr: { write: (s: string) => (err += s), isTTY: options.tty ?? false },
    onInterrupt(h: () => void) {
      handlers.add(h);
      return () => handlers.delete(h);
    },
    now: () => Date.now(),
  };
  const done = main(argv, env, io).then((code) => ({ code, out, err }));
  return {
    done,
    out: () => out,
    err: () => err,
    interrupt: () => {
      for (const h of [...handlers]) h();
    },
  };
}

export function cli(
  argv: string[],
  env: Record<string, string | undefined>,
  options: { tty?: boolean } = {},
) {
  return startCli(argv, env, options).done;
}

/** Polls `check` until it returns a value other than undefined/false; fails saying what it waited for. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

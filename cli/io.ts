// Where the CLI writes and how it hears Ctrl-C. Commands never touch process.stdout or
// process signals directly: `main(argv, env, io)` gets them, so tests run every command
// in-process with captured streams and a simulated interrupt.
//
// Invariants: results go to stdout, diagnostics (warnings, progress, the live line) to
// stderr; colour only when that stream is a terminal and NO_COLOR is unset or empty.
import type { Env } from "./env_types.js";

export interface Stream {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
}

export interface Io {
  stdout: Stream;
  stderr: Stream;
  /** Calls `handler` on Ctrl-C (SIGINT) or SIGTERM; returns a function that unregisters it. */
  onInterrupt(handler: () => void): () => void;
  /** The clock for elapsed times on live lines. */
  now(): number;
}

/** The real process: its streams and signals. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    onInterrupt(handler) {
      process.on("SIGINT", handler);
      process.on("SIGTERM", handler);
      return () => {
        process.off("SIGINT", handler);
        process.off("SIGTERM", handler);
      };
    },
    now: () => Date.now(),
  };
}

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

const plain: Style = {
  bold: (s) => s,
  dim: (s) => s,
  red: (s) => s,
  green: (s) => s,
  yellow: (s) => s,
};

const sgr = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const ansi: Style = { bold: sgr(1), dim: sgr(2), red: sgr(31), green: sgr(32), yellow: sgr(33) };

/** One output stream with its line writer and its colours. */
export interface Printer {
  tty: boolean;
  style: Style;
  line(text?: string): void;
  write(text: string): void;
}

function printer(stream: Stream, env: Env): Printer {
  const tty = stream.isTTY === true;
  const color = tty && !env.NO_COLOR;
  return {
    tty,
    style: color ? ansi : plain,
    line: (text = "") => {
      stream.write(`${text}\n`);
    },
    write: (text) => {
      stream.write(text);
    },
  };
}

/** What every command receives besides its flags. */
export interface Ctx {
  env: Env;
  io: Io;
  /** stdout: results. */
  out: Printer;
  /** stderr: warnings, progress, errors. */
  err: Printer;
}

export function makeCtx(env: Env, io: Io): Ctx {
  return { env, io, out: printer(io.stdout, env), err: printer(io.stderr, env) };
}

// Waiting on a condition, never on a sleep: `eventually` polls `check` until it returns
// something other than undefined/false, or fails after `timeout` ms saying what it waited
// for and what it saw last.

export interface Wait<T> {
  /** Milliseconds before giving up. */
  timeout: number;
  /** What is waited for, for the failure message ("six acknowledgements of dup1"). */
  what: string;
  /** What was seen, for the failure message (default: the last value check returned). */
  seen?: () => unknown;
  /** Milliseconds between checks; default 50. */
  every?: number;
  /** Only accept a value when this holds (default: any value but undefined/false/null). */
  until?: (value: T) => boolean;
}

export async function eventually<T>(
  check: () => T | Promise<T>,
  wait: Wait<Awaited<T>>,
): Promise<Exclude<Awaited<T>, undefined | false | null>> {
  const deadline = Date.now() + wait.timeout;
  const done = wait.until ?? ((v: Awaited<T>) => v !== undefined && v !== false && v !== null);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      last = value;
      if (done(value)) return value as Exclude<Awaited<T>, undefined | false | null>;
    } catch (err) {
      last = err instanceof Error ? `threw ${err.message}` : err;
    }
    if (Date.now() >= deadline) {
      const seen = wait.seen ? wait.seen() : last;
      throw new Error(
        `waited ${wait.timeout} ms for ${wait.what}; last seen: ${JSON.stringify(seen) ?? String(seen)}`,
      );
    }
    await new Promise((r) => setTimeout(r, wait.every ?? 50));
  }
}

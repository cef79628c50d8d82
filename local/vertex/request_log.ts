// A log of every call the emulator answered (both transports), with per-method counts.
import type { Transport } from "./faults.js";

export interface LoggedRequest {
  seq: number;
  time: string;
  transport: Transport;
  method: string;
  /** The parent or name the call was about, when it had one. */
  resource: string;
  /** gRPC status code of the answer (0 = OK). */
  code: number;
  status: string;
  durationMs: number;
}

export interface MethodCounts {
  total: number;
  ok: number;
  errors: number;
}

export class RequestLog {
  private entries: LoggedRequest[] = [];
  private seq = 0;
  constructor(private readonly limit = 10000) {}

  add(entry: Omit<LoggedRequest, "seq">): void {
    this.entries.push({ seq: ++this.seq, ...entry });
    if (this.entries.length > this.limit) this.entries.shift();
  }

  list(): LoggedRequest[] {
    return [...this.entries];
  }

  counts(): Record<string, MethodCounts> {
    const counts: Record<string, MethodCounts> = {};
    for (const e of this.entries) {
      const c = counts[e.method] ?? { total: 0, ok: 0, errors: 0 };
      c.total++;
      if (e.code === 0) c.ok++;
      else c.errors++;
      counts[e.method] = c;
    }
    return counts;
  }

  clear(): void {
    this.entries = [];
  }
}

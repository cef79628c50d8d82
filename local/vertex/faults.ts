// Injected faults, per method, applied to gRPC and REST calls alike. A rule fails a call with a
// gRPC code (its first `count` matching calls, or a `rate` share of them, or every one), and/or
// delays it. `when: "after"` fails the call after it has taken effect (e.g. a create that
// created the job but answered DEADLINE_EXCEEDED), the trap SPEC §6 describes.
import { ApiError, CODE_NAMES, parseCode } from "./errors.js";

export type Transport = "grpc" | "rest";

export interface FaultInput {
  /** RPC name, e.g. "CreateCustomJob", or "*" for every method. */
  method: string;
  /** gRPC code (number or name); absent for a delay-only rule. */
  code?: number | string;
  message?: string;
  /** Fail only this many matching calls, then the rule is spent. */
  count?: number;
  /** Fail this share (0..1) of matching calls. */
  rate?: number;
  /** Delay every matching call by this many milliseconds. */
  delayMs?: number;
  /** "before" (default): the call does nothing; "after": the call takes effect, then fails. */
  when?: "before" | "after";
  /** Only calls over this transport. */
  transport?: Transport;
}

export interface FaultRule {
  id: number;
  method: string;
  code: number | null;
  message: string;
  remaining: number | null;
  rate: number | null;
  delayMs: number;
  when: "before" | "after";
  transport: Transport | null;
  fired: number;
}

const DEFAULT_MESSAGES: Record<string, string> = {
  UNAVAILABLE: "The service is currently unavailable.",
  DEADLINE_EXCEEDED: "Deadline exceeded.",
  INTERNAL: "Internal error encountered.",
  RESOURCE_EXHAUSTED:
    "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_training_cpus",
  PERMISSION_DENIED: "Permission denied.",
  UNAUTHENTICATED: "Request had invalid authentication credentials.",
  ABORTED: "The operation was aborted.",
};

export interface FaultDecision {
  delayMs: number;
  before: ApiError | null;
  after: ApiError | null;
}

export class Faults {
  private rules: FaultRule[] = [];
  private nextId = 1;
  private readonly random: () => number;

  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  add(input: FaultInput): FaultRule {
    if (typeof input.method !== "string" || input.method === "") {
      throw new Error("a fault needs a method (an RPC name or *)");
    }
    let code: number | null = null;
    if (input.code !== undefined) {
      code = parseCode(input.code);
      if (code === null || code === 0) throw new Error(`not an error code: ${String(input.code)}`);
    }
    if (code === null && !input.delayMs)
      throw new Error("a fault needs a code, a delayMs, or both");
    if (input.rate !== undefined && !(input.rate >= 0 && input.rate <= 1)) {
      throw new Error("rate must be between 0 and 1");
    }
    if (input.count !== undefined && !(Number.isInteger(input.count) && input.count > 0)) {
      throw new Error("count must be a positive integer");
    }
    const name = code === null ? "" : (CODE_NAMES[code] as string);
    const rule: FaultRule = {
      id: this.nextId++,
      method: input.method,
      code,
      message: input.message ?? DEFAULT_MESSAGES[name] ?? `Injected ${name} fault.`,
      remaining: input.count ?? null,
      rate: input.rate ?? null,
      delayMs: Math.max(0, input.delayMs ?? 0),
      when: input.when === "after" ? "after" : "before",
      transport: input.transport ?? null,
      fired: 0,
    };
    this.rules.push(rule);
    return rule;
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  remove(id: number): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  /** What happens to one call: the total delay and at most one error. */
  decide(method: string, transport: Transport): FaultDecision {
    const decision: FaultDecision = { delayMs: 0, before: null, after: null };
    for (const rule of this.rules) {
      if (rule.method !== "*" && rule.method !== method) continue;
      if (rule.transport && rule.transport !== transport) continue;
      if (rule.code === null) {
        decision.delayMs += rule.delayMs;
        continue;
      }
      if (decision.before || decision.after) continue;
      if (rule.remaining !== null && rule.remaining <= 0) continue;
      if (rule.rate !== null && this.random() >= rule.rate) continue;
      if (rule.remaining !== null) rule.remaining--;
      rule.fired++;
      decision.delayMs += rule.delayMs;
      const error = new ApiError(rule.code, rule.message);
      if (rule.when === "after") decision.after = error;
      else decision.before = error;
    }
    this.rules = this.rules.filter((r) => r.remaining === null || r.remaining > 0);
    return decision;
  }
}

/** A small seeded PRNG (mulberry32) for reproducible `rate` faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

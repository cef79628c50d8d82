// Faults of the emulated W&B API, set through the control API. A rule matches the
// GraphQL operation (its first top-level field, e.g. popFromRunQueue) or "*", and acts
// `count` times:
//   - status: answer that HTTP status before doing anything (401: a bad key; 5xx: down);
//   - drop: do the operation, then close the connection without an answer (a lost
//     answer: the client cannot tell whether it happened).

export interface FaultRule {
  operation: string;
  kind: "status" | "drop";
  status: number;
  remaining: number;
}

export class Faults {
  rules: FaultRule[] = [];

  add(input: Record<string, unknown>): FaultRule {
    const operation = typeof input.operation === "string" ? input.operation : "*";
    const kind = input.kind === "drop" ? "drop" : "status";
    const status = typeof input.status === "number" ? input.status : 503;
    const count = typeof input.count === "number" && input.count > 0 ? input.count : 1;
    if (kind === "status" && (status < 400 || status > 599)) {
      throw new Error("status must be an HTTP error status (400-599)");
    }
    const rule: FaultRule = { operation, kind, status, remaining: count };
    this.rules.push(rule);
    return rule;
  }

  /** The rule that fires for this operation now (spending one of its count), if any. */
  take(operation: string): FaultRule | undefined {
    const rule = this.rules.find(
      (r) => r.remaining > 0 && (r.operation === "*" || r.operation === operation),
    );
    if (rule) rule.remaining -= 1;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule;
  }

  clear(): void {
    this.rules = [];
  }
}

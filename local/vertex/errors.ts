// Errors as Google APIs return them: a gRPC status code, its canonical name, and a message.
// Over gRPC they become the call's status; over REST the body is
// {"error": {"code": <HTTP status>, "message": ..., "status": <name>}}.

export const CODE_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

export type CodeName = (typeof CODE_NAMES)[number];

/** HTTP status Google's REST front end uses for each gRPC code (google/rpc/code.proto). */
const HTTP_STATUS: Record<CodeName, number> = {
  OK: 200,
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

export class ApiError extends Error {
  readonly code: number;
  constructor(code: number | CodeName, message: string) {
    super(message);
    this.code = typeof code === "number" ? code : CODE_NAMES.indexOf(code);
    if (this.code < 0 || this.code >= CODE_NAMES.length) {
      throw new Error(`not a gRPC status code: ${String(code)}`);
    }
  }
  get status(): CodeName {
    return CODE_NAMES[this.code] ?? "UNKNOWN";
  }
  get httpStatus(): number {
    return HTTP_STATUS[this.status];
  }
  toRestBody(): { error: { code: number; message: string; status: CodeName } } {
    return { error: { code: this.httpStatus, message: this.message, status: this.status } };
  }
}

/** Parses a code given as a number (3) or a name ("INVALID_ARGUMENT"); null when neither. */
export function parseCode(value: unknown): number | null {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value < 17) {
    return value;
  }
  if (typeof value === "string") {
    const index = CODE_NAMES.indexOf(value.toUpperCase() as CodeName);
    return index >= 0 ? index : null;
  }
  return null;
}

export function invalidArgument(message: string): ApiError {
  return new ApiError("INVALID_ARGUMENT", message);
}

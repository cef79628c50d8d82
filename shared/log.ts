// Structured logging for Cloud Logging: one JSON line per event on stdout, with
// `severity`, `message` and the launch's fields (launch_id, queue, run_id, job_name,
// attempt). Invariant: logging never throws and never fails the work, and no secret
// value reaches a line (secrets registered with `redact` are masked everywhere).

export type Severity = "DEBUG" | "INFO" | "WARNING" | "ERROR";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warning(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  with(fields: LogFields): Logger;
}

const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };
export const REDACTED = "<redacted>";

export interface LoggerOptions {
  level?: "debug" | "info" | "warning" | "error";
  /** Secret values that must never appear in a line (e.g. the W&B API key). */
  secrets?: Array<string | undefined>;
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = RANK[(options.level ?? "info").toUpperCase() as Severity];
  const secrets = (options.secrets ?? []).filter(
    (s): s is string => typeof s === "string" && s.length >= 4,
  );
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));

  function emit(severity: Severity, message: string, fields: LogFields = {}): void {
    if (RANK[severity] < min) return;
    try {
      let line = JSON.stringify(
        { severity, message, ...base, ...fields, time: new Date().toISOString() },
        replacer,
      );
      for (const secret of secrets) line = line.split(secret).join(REDACTED);
      write(line);
    } catch {
      // Telemetry must never fail the work.
    }
  }

  return {
    debug: (m, f) => emit("DEBUG", m, f),
    info: (m, f) => emit("INFO", m, f),
    warning: (m, f) => emit("WARNING", m, f),
    error: (m, f) => emit("ERROR", m, f),
    with: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** Errors become plain objects; values under a key that names a secret are masked. */
function replacer(key: string, value: unknown): unknown {
  if (/api_?key|token|secret|password/i.test(key) && typeof value === "string") return REDACTED;
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    return out;
  }
  return value;
}

/** A logger that writes nothing, for tests and tools. */
export const silentLogger: Logger = createLogger({ write: () => {} });

// How launches read on a terminal: one line per state change, the error lines that say
// what is wrong and how to fix it, the console URL and the command that streams the job's
// logs. Pure: events and records in, lines out.
import { howToFix } from "../shared/error_hints.js";
import type { StatusEvent } from "../shared/schemas/status_event.js";
import type { Style } from "./io.js";

type Err = { kind: string; message: string; issues?: Array<{ path: string; message: string }> };

/** The first line of an error that says what is wrong: a header such as `invalid queue config "q":` gives way to its first issue. */
export function errorSummary(error: Err | null): string | null {
  if (!error) return null;
  const lines = error.message
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const first = lines[0] ?? error.kind;
  if (first.endsWith(":") && lines.length > 1) return `${first} ${lines[1]}`;
  if (first.endsWith(":") && error.issues?.[0]) {
    const i = error.issues[0];
    return `${first} ${i.path ? `${i.path}: ` : ""}${i.message}`;
  }
  return first;
}

/** Every line of an error, then how to fix it. */
export function errorLines(error: Err, local: boolean): string[] {
  const lines = error.message.split("\n").filter((l) => l.trim() !== "");
  const hints = howToFix(error, { local }).map((h) => `fix: ${h}`);
  return [`${error.kind}: ${lines[0] ?? ""}`, ...lines.slice(1), ...hints];
}

/** `gcloud ai custom-jobs stream-logs` for a job name projects/P/locations/R/customJobs/ID. */
export function streamLogsCommand(jobName: string): string | null {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/customJobs\/([^/]+)$/.exec(jobName);
  if (!m) return null;
  return `gcloud ai custom-jobs stream-logs ${m[3]} --project=${m[1]} --region=${m[2]}`;
}

const GOOD = new Set(["finished", "submitted", "queued", "starting", "running"]);

export function colourState(state: string, style: Style): string {
  const padded = state.padEnd(9);
  if (state === "finished") return style.green(padded);
  if (GOOD.has(state)) return style.bold(padded);
  if (state === "unknown") return style.yellow(padded);
  return style.red(padded);
}

/** The lines of one state change; `showJob` adds the console URL and logs command (once per launch). */
export function eventLines(
  e: StatusEvent,
  opts: { style: Style; local: boolean; showJob: boolean; place?: number | null; who?: string },
): string[] {
  const time = e.time.slice(11, 19);
  const who = opts.who ?? e.run_id ?? "-";
  const head = `${time}  ${colourState(e.state, opts.style)} ${who}`;
  const lines: string[] = [];
  switch (e.state) {
    case "submitted":
      lines.push(`${head}  job ${e.job_name ?? "-"}`);
      break;
    case "queued":
      lines.push(
        `${head}  held: queue ${e.queue ?? "-"} is at max_jobs${opts.place ? `; place ${opts.place} in the backlog` : ""}`,
      );
      break;
    case "starting":
    case "running":
    case "unknown":
      lines.push(`${head}  ${e.vertex_state ?? ""}`.trimEnd());
      break;
    case "finished":
      lines.push(`${head}  ${e.vertex_state ?? "JOB_STATE_SUCCEEDED"}`);
      break;
    default:
      lines.push(`${head}${e.vertex_state ? `  ${e.vertex_state}` : ""}`);
  }
  if (e.error) for (const l of errorLines(e.error, opts.local)) lines.push(`  ${l}`);
  if (opts.showJob && e.job_name) {
    if (e.console_url) lines.push(`  console: ${e.console_url}`);
    const logs = streamLogsCommand(e.job_name);
    if (logs) lines.push(`  logs:    ${logs}`);
  }
  return lines;
}

/** "1m05s" */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

// `vertex-dispatch status [--queue NAME] [--run-id R] [--json]`: launches and their states,
// read from the launch records in the state bucket (through the store's read API).
// The table shows, per launch, the first error line that says what is wrong, the warnings
// count and the console URL; --json gives the same rows with exact types (numbers as
// numbers, absent values as null).
import type { LaunchRecord } from "../shared/schemas/launch_record.js";
import { launchStore } from "../shared/storage/launch_store.js";
import { bool, type FlagValues, str, usageError } from "./args.js";
import { cliEnv, storageFor } from "./cli_env.js";
import { SPECS } from "./commands.js";
import { EXIT, NotFound } from "./exit_codes.js";
import type { Ctx } from "./io.js";
import { errorLines, errorSummary, streamLogsCommand } from "./present.js";

const spec = SPECS.status;

/** One launch as `status --json` prints it. */
export interface StatusRow {
  launch_id: string;
  queue: string | null;
  run_id: string | null;
  entity: string | null;
  project: string | null;
  state: string;
  attempt: number;
  priority: number;
  job_name: string | null;
  vertex_state: string | null;
  console_url: string | null;
  /** The first line of the error that says what is wrong. */
  error_summary: string | null;
  error: { kind: string; message: string; issues: Array<{ path: string; message: string }> } | null;
  warnings: string[];
  created_at: string;
  updated_at: string;
}

export function statusRow(r: LaunchRecord): StatusRow {
  return {
    launch_id: r.launch_id,
    queue: r.queue,
    run_id: r.run_id,
    entity: r.entity,
    project: r.project,
    state: r.state,
    attempt: r.attempt,
    priority: r.priority,
    job_name: r.job_name,
    vertex_state: r.vertex_state,
    console_url: r.console_url,
    error_summary: errorSummary(r.error),
    error: r.error,
    warnings: r.warnings,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

export async function status(values: FlagValues, _p: string[], ctx: Ctx): Promise<number> {
  const queue = str(values, "queue");
  const runId = str(values, "run-id");
  const json = bool(values, "json");
  if (runId && !queue) throw usageError(spec, "--run-id needs --queue (run ids are per queue)");
  const c = cliEnv(ctx.env, { project: str(values, "project") });
  const store = launchStore(storageFor(c).bucket(c.stateBucket));
  if (queue && runId) {
    const path = `launches/${queue}/${runId}.json`;
    const stored = await store.read(path);
    if (!stored) {
      throw new NotFound(
        `no launch with run_id ${runId} in queue ${queue} (gs://${c.stateBucket}/launches/${queue}/): list the queue's launches with: vertex-dispatch status --queue ${queue}`,
      );
    }
    const row = statusRow(stored.record);
    if (json) ctx.out.line(JSON.stringify(row, null, 2));
    else printOne(row, ctx, c.local);
    return EXIT.ok;
  }
  const rows: StatusRow[] = [];
  for (const prefix of queue ? [`launches/${queue}/`] : ["launches/", "rejected/"]) {
    for (const entry of await store.list(prefix)) {
      const stored = await store.read(entry.path);
      if (stored) rows.push(statusRow(stored.record));
    }
  }
  rows.sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  if (json) ctx.out.line(JSON.stringify(rows, null, 2));
  else ctx.out.write(table(rows));
  return EXIT.ok;
}

function printOne(row: StatusRow, ctx: Ctx, local: boolean): void {
  const pairs: Array<[string, string | number | null]> = [
    ["queue", row.queue],
    ["run_id", row.run_id],
    ["state", row.state],
    ["attempt", row.attempt],
    ["job", row.job_name],
    ["vertex_state", row.vertex_state],
    ["console", row.console_url],
    ["logs", row.job_name ? streamLogsCommand(row.job_name) : null],
    ["launch_id", row.launch_id],
    ["created", row.created_at],
    ["updated", row.updated_at],
  ];
  for (const [k, v] of pairs) if (v !== null) ctx.out.line(`${`${k}:`.padEnd(14)}${v}`);
  if (row.error) {
    ctx.out.line("error:");
    for (const l of errorLines(row.error, local)) ctx.out.line(`  ${l}`);
  }
  for (const w of row.warnings) ctx.out.line(`warning:      ${w}`);
}

const COLUMNS = [
  "queue",
  "run_id",
  "state",
  "attempt",
  "job",
  "warn",
  "updated",
  "error",
  "console",
];

function table(rows: StatusRow[]): string {
  if (rows.length === 0) return "no launches\n";
  const cells = rows.map((r) => [
    r.queue ?? "-",
    r.run_id ?? "-",
    r.state,
    String(r.attempt),
    r.job_name?.split("/").pop() ?? "-",
    String(r.warnings.length),
    r.updated_at.replace(/\.\d+Z$/, "Z"),
    r.error_summary ?? "",
    r.console_url ?? "",
  ]);
  const widths = COLUMNS.map((col, i) =>
    Math.max(col.length, ...cells.map((row) => (row[i] ?? "").length)),
  );
  const line = (row: string[]) =>
    `${row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()}\n`;
  return line(COLUMNS.map((c) => c.toUpperCase())) + cells.map(line).join("");
}

// `vertex-dispatch status [--queue Q] [--run-id R] [--json]`: launches and their states,
// read from the launch records in the state bucket.
import { storageClient } from "../shared/clients.js";
import { launchStore } from "../shared/storage/launch_store.js";
import { cliEnv, flags, required } from "./cli_env.js";
import type { Env } from "./main.js";

const USAGE = "status [--queue Q] [--run-id R] [--json]";

export async function status(argv: string[], env: Env): Promise<number> {
  const f = flags(
    argv,
    { queue: { type: "string" }, "run-id": { type: "string" }, json: { type: "boolean" } },
    USAGE,
  );
  const c = cliEnv(env);
  const store = launchStore(
    storageClient({ GOOGLE_CLOUD_PROJECT: c.project, GCS_ENDPOINT: c.gcsEndpoint }).bucket(
      c.stateBucket,
    ),
  );
  if (f["run-id"]) {
    const queue = required(f.queue, "queue", USAGE);
    const stored = await store.read(`launches/${queue}/${f["run-id"]}.json`);
    if (!stored) {
      process.stderr.write(
        `no launch with run_id ${f["run-id"]} in queue ${queue} (gs://${c.stateBucket}/launches/${queue}/)\n`,
      );
      return 1;
    }
    process.stdout.write(`${JSON.stringify({ ...stored.record, message: undefined }, null, 2)}\n`);
    return 0;
  }
  const prefixes = f.queue ? [`launches/${f.queue}/`] : ["launches/", "rejected/"];
  const rows: Array<Record<string, string>> = [];
  for (const prefix of prefixes) {
    for (const entry of await store.list(prefix)) {
      const stored = await store.read(entry.path);
      if (!stored) continue;
      const r = stored.record;
      rows.push({
        queue: r.queue ?? "-",
        run_id: r.run_id ?? "-",
        state: r.state,
        attempt: String(r.attempt),
        job: r.job_name?.split("/").pop() ?? "-",
        updated: r.updated_at,
        error: r.error ? (r.error.message.split("\n")[0] ?? "") : "",
      });
    }
  }
  if (f.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    table(rows, ["queue", "run_id", "state", "attempt", "job", "updated", "error"]),
  );
  return 0;
}

function table(rows: Array<Record<string, string>>, columns: string[]): string {
  if (rows.length === 0) return "no launches\n";
  const widths = columns.map((col) =>
    Math.max(col.length, ...rows.map((r) => (r[col] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `${cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()}\n`;
  return (
    line(columns.map((c) => c.toUpperCase())) +
    rows.map((r) => line(columns.map((c) => r[c] ?? ""))).join("")
  );
}

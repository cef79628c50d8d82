// bench/results.json in the SPEC §12 format (medians; ratio = ours / anchor, or
// ms_5000 / ms_500 for poll; the CLI ratio is the slower of help and render over gcloud),
// and the table `npm run bench` prints with each target beside its figure.
import { median, round } from "./lib.js";

type Samples = number[];
interface Raw {
  cold?: { ours: Samples; sample: Samples };
  /** The same cold starts and burst inside a memory cgroup of the function's size, or why not. */
  confined?: {
    memoryMb: number;
    ours?: Samples;
    sample?: Samples;
    burst?: { peakMb: number; afterFirstMb: number; ms: number };
    skipped?: string;
  };
  warm?: {
    ours: Samples;
    bare: Record<"record_create" | "create_custom_job" | "record_update", Samples>;
    throughput: Record<string, number>;
  };
  poll?: {
    at500: { ms: Samples; calls: Samples };
    at5000: { ms: Samples; calls: Samples };
    pageSize: number;
  };
  memory?: { peakMb: number; afterFirstMb: number; ms: number };
  size?: { functions: Record<string, { package_bytes: number }> };
  cli?: { help: Samples; render: Samples; gcloud: Samples };
}

export type Results = Record<string, Record<string, unknown>>;

const mb = (bytes: number | undefined) =>
  bytes === undefined ? null : round(bytes / 1024 / 1024, 2);
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a / b) ? round(a / b, 3) : null);

function cold(r: NonNullable<Raw["cold"]>) {
  const ours = median(r.ours);
  const sample = median(r.sample);
  return { dispatch_ms: round(ours), google_sample_ms: round(sample), ratio: ratio(ours, sample) };
}

/** Not SPEC §12 figures: the cold start and burst as a 512 MiB instance runs them. */
function confined(r: NonNullable<Raw["confined"]>) {
  if (!r.ours || !r.sample || !r.burst)
    return { memory_mb: r.memoryMb, skipped: r.skipped ?? "not run" };
  return {
    memory_mb: r.memoryMb,
    ...cold({ ours: r.ours, sample: r.sample }),
    peak_rss_mb: round(r.burst.peakMb),
  };
}

function warm(r: NonNullable<Raw["warm"]>) {
  const per = median(r.ours);
  const bare =
    median(r.bare.record_create) + median(r.bare.create_custom_job) + median(r.bare.record_update);
  const lps = Object.fromEntries(Object.entries(r.throughput).map(([c, v]) => [c, round(v, 1)]));
  return {
    per_launch_ms: round(per),
    bare_calls_ms: round(bare),
    ratio: ratio(per, bare),
    launches_per_s: lps,
  };
}

function poll(r: NonNullable<Raw["poll"]>) {
  const ms500 = median(r.at500.ms);
  const ms5000 = median(r.at5000.ms);
  return {
    page_size: r.pageSize,
    calls_500: Math.max(...r.at500.calls),
    calls_5000: Math.max(...r.at5000.calls),
    ms_500: round(ms500),
    ms_5000: round(ms5000),
    ratio: ratio(ms5000, ms500),
  };
}

function cli(r: NonNullable<Raw["cli"]>) {
  const help = median(r.help);
  const render = median(r.render);
  const g = r.gcloud.length > 0 ? median(r.gcloud) : Number.NaN;
  return {
    help_ms: round(help),
    render_ms: round(render),
    gcloud_help_ms: Number.isNaN(g) ? null : round(g),
    ratio: ratio(Math.max(help, render), g),
  };
}

export function results(input: Record<string, unknown>, machine: Record<string, unknown>): Results {
  const r = input as Raw;
  const out: Results = {};
  if (r.cold) out.cold_start = cold(r.cold);
  if (r.confined) out.confined = confined(r.confined);
  if (r.warm) out.warm_dispatch = warm(r.warm);
  if (r.poll) out.poll = poll(r.poll);
  if (r.memory) out.memory = { peak_rss_mb: round(r.memory.peakMb) };
  if (r.size) {
    const f = r.size.functions;
    out.bundle_mb = {
      dispatch: mb(f.dispatch?.package_bytes),
      poll: mb(f.poll?.package_bytes),
      ingest: mb(f.ingest?.package_bytes),
    };
  }
  if (r.cli) out.cli = cli(r.cli);
  out.machine = machine;
  return out;
}

const TARGETS: Array<[string, string, string, (v: number) => boolean]> = [
  ["cold_start", "ratio", "<= 0.2", (v) => v <= 0.2],
  ["warm_dispatch", "ratio", "<= 1.25", (v) => v <= 1.25],
  ["poll", "ratio", "<= 12", (v) => v <= 12],
  ["memory", "peak_rss_mb", "<= 160", (v) => v <= 160],
  ["cli", "ratio", "<= 0.25", (v) => v <= 0.25],
];

const spread = (s: Samples | undefined) =>
  s && s.length > 0
    ? `n=${s.length} min ${round(Math.min(...s))} max ${round(Math.max(...s))}`
    : "";

/** A plain-text table: section, figure, value, target and whether it is met. */
export function table(out: Results, input: Record<string, unknown>): string {
  const r = input as Raw;
  const rows: string[][] = [["section", "figure", "value", "target", ""]];
  for (const [section, figures] of Object.entries(out)) {
    if (section === "machine") continue;
    for (const [k, v] of Object.entries(figures)) {
      const t = TARGETS.find(([s, f]) => s === section && f === k);
      const shown = typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
      const ok = t && typeof v === "number" ? (t[3](v) ? "met" : "MISSED") : "";
      rows.push([section, k, shown, t?.[2] ?? "", ok]);
    }
  }
  if (out.poll) {
    const p = out.poll as { page_size: number; calls_5000: number; calls_500: number };
    const limit = 1 + Math.ceil(5000 / p.page_size);
    rows.push([
      "poll",
      "calls_5000 limit",
      String(limit),
      `<= ${limit}`,
      p.calls_5000 <= limit ? "met" : "MISSED",
    ]);
  }
  if (out.bundle_mb)
    for (const [k, v] of Object.entries(out.bundle_mb))
      rows.push([
        "bundle_mb",
        `${k} (limit)`,
        String(v),
        "<= 10",
        typeof v === "number" && v <= 10 ? "met" : "MISSED",
      ]);
  const widths =
    rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? [];
  const lines = rows.map((row) =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
  lines.push(
    "",
    `samples: cold ours ${spread(r.cold?.ours)}; sample ${spread(r.cold?.sample)}; warm ${spread(r.warm?.ours)}`,
  );
  if (r.confined?.skipped)
    lines.push(
      `in ${r.confined.memoryMb} MB: SKIPPED (${r.confined.skipped}); run the bench as root for it`,
    );
  else if (r.confined)
    lines.push(
      `in ${r.confined.memoryMb} MB: cold ours ${spread(r.confined.ours)}; sample ${spread(r.confined.sample)}; burst ${round((r.confined.burst?.ms ?? 0) / 1000, 1)} s (not SPEC figures: every process inside the function's memory, as Cloud Run runs it)`,
    );
  if (r.memory)
    lines.push(
      `memory: ${round(r.memory.afterFirstMb)} MB after the first launch; burst of 1000 took ${round(r.memory.ms / 1000, 1)} s`,
    );
  lines.push(`machine: ${JSON.stringify(out.machine)}`);
  return lines.join("\n");
}

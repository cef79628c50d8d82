// What a chaos run proves, computed from what it collected at the end (pure): jobs counted
// by `launch-id` label in the Vertex emulator, records from the state bucket, status events,
// dead letters and every function log line. The SPEC §12 line is built from the result.
import type { WriteRateReport } from "../../local/gcs/index.js";
import type { Plan } from "./workload.js";

export interface SeenJob {
  name: string;
  labels: Record<string, unknown>;
  state: string;
  createTime?: string;
  endTime?: string;
}

export interface SeenRecord {
  path: string;
  text: string;
  json: Record<string, unknown>;
}

export interface Collected {
  plan: Plan;
  maxJobs: number;
  limitedQueue: string;
  jobs: SeenJob[];
  records: SeenRecord[];
  events: Array<Record<string, unknown>>;
  functionLines: string[];
  deadLetters: string[];
  canary: string;
  /** The GCS emulator's writes per object per second, every object (`top` unbounded). */
  writeRates: WriteRateReport;
  stateBucket: string;
}

export interface Verdict {
  launches: number;
  jobs: number;
  duplicates: number;
  lost: number;
  stuck: number;
  poison: number;
  poison_jobs: number;
  poison_unrejected: number;
  leaks: number;
  /** Launches whose record, last event and Vertex job do not all agree. */
  disagree: number;
  /** The most jobs of the max_jobs queue alive at one instant (from Vertex's create/end times). */
  max_jobs_peak: number;
  dead_letters_valid: number;
  dead_letters_poison: number;
  /** Events seen more than once for one (launch_id, state, attempt). */
  event_repeats: number;
  /** Writes per object per second, the busiest object of each kind in the state bucket. */
  writes: WritesByKind;
  /** Up to 20 examples, one line each, of what went wrong. */
  problems: string[];
}

const RANK: Record<string, number> = { queued: 0, submitted: 1, starting: 2, running: 3 };
const rank = (state: unknown) => RANK[String(state)] ?? 4;

export function verify(c: Collected): Verdict {
  const problems: string[] = [];
  const note = (line: string) => {
    if (problems.length < 20) problems.push(line);
  };
  const byLaunchId = groupJobs(c.jobs);
  const records = new Map(c.records.map((r) => [r.path, r]));
  const lastEvent = lastEvents(c.events);
  let lost = 0;
  let duplicates = 0;
  let stuck = 0;
  let disagree = 0;
  const validIds = new Set<string>();
  for (const l of c.plan.launches) {
    const record = records.get(`launches/${l.queue}/${l.runId}.json`);
    const launchId = String(record?.json.launch_id ?? "");
    validIds.add(launchId);
    const jobs = byLaunchId.get(launchId) ?? [];
    const byRun = c.jobs.filter((j) => j.labels["wandb-run-id"] === l.runId);
    const state = String(record?.json.state ?? "missing");
    if (state === "dispatching") stuck++;
    if (byRun.length === 0) {
      lost++;
      note(
        `lost: ${l.queue}/${l.runId} record=${state} lease=${JSON.stringify(record?.json.lease ?? null)} job_name=${String(record?.json.job_name ?? null)}`,
      );
      continue;
    }
    if (byRun.length > 1 || jobs.length > 1) {
      duplicates += Math.max(byRun.length, jobs.length) - 1;
      note(
        `duplicate: ${l.queue}/${l.runId} launch_id=${launchId} jobs=${byRun.map((j) => j.name).join(",")}`,
      );
    }
    const job = byRun[0] as SeenJob;
    const event = lastEvent.get(launchId);
    const agrees =
      record?.json.job_name === job.name &&
      state === "finished" &&
      job.state === "JOB_STATE_SUCCEEDED" &&
      event?.state === state;
    if (!agrees) {
      disagree++;
      note(
        `disagree: ${l.queue}/${l.runId} record=${state} record.job=${String(record?.json.job_name ?? null)} vertex=${job.name} ${job.state} last_event=${String(event?.state ?? "none")}`,
      );
    }
  }
  const poison = poisonChecks(c, records, note);
  const dead = deadLetterSplit(c);
  return {
    launches: c.plan.launches.length,
    jobs: c.jobs.length,
    duplicates,
    lost,
    stuck: stuck + poison.stuck,
    poison: c.plan.poison.length,
    poison_jobs: poison.jobs,
    poison_unrejected: poison.unrejected,
    leaks: countLeaks(c),
    disagree,
    max_jobs_peak: peakConcurrent(
      c.jobs.filter((j) => j.labels["launch-queue"] === c.limitedQueue),
    ),
    dead_letters_valid: dead.valid,
    dead_letters_poison: dead.poison,
    event_repeats: eventRepeats(c.events),
    writes: writesByKind(c.writeRates, c.stateBucket),
    problems,
  };
}

function groupJobs(jobs: SeenJob[]): Map<string, SeenJob[]> {
  const out = new Map<string, SeenJob[]>();
  for (const j of jobs) {
    const id = String(j.labels["launch-id"] ?? "");
    out.set(id, [...(out.get(id) ?? []), j]);
  }
  return out;
}

/** The furthest event of each launch (states only move forward in a chaos run: no preemption). */
function lastEvents(events: Array<Record<string, unknown>>): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const e of events) {
    const id = String(e.launch_id);
    const seen = out.get(id);
    if (!seen || rank(e.state) >= rank(seen.state)) out.set(id, e);
  }
  return out;
}

/** Poison a queue can be named from: its record is launches/{queue}/{run_id}.json, its event names the run. */
const NAMED_POISON = new Set(["missing_queue", "multi_region_staging"]);

function poisonChecks(
  c: Collected,
  records: Map<string, SeenRecord>,
  note: (line: string) => void,
): { jobs: number; unrejected: number; stuck: number } {
  let jobs = 0;
  let unrejected = 0;
  let stuck = 0;
  const validIds = new Set(
    c.plan.launches.map((l) =>
      String(records.get(`launches/${l.queue}/${l.runId}.json`)?.json.launch_id),
    ),
  );
  const rejected = c.events.filter(
    (e) => e.state === "rejected" && !validIds.has(String(e.launch_id)),
  );
  const rejectedRuns = new Set(rejected.map((e) => String(e.run_id)));
  for (const p of c.plan.poison) {
    const made = c.jobs.filter((j) => j.labels["wandb-run-id"] === p.runId);
    jobs += made.length;
    if (made.length > 0) note(`poison job: ${p.kind} ${p.runId} -> ${made[0]?.name}`);
    const record = [...records.values()].find((r) => r.json.run_id === p.runId);
    if (record?.json.state === "dispatching") stuck++;
    if (NAMED_POISON.has(p.kind) && !rejectedRuns.has(p.runId)) {
      unrejected++;
      note(
        `poison not rejected: ${p.kind} ${p.runId} record=${String(record?.json.state ?? "missing")}`,
      );
    }
  }
  // Too broken to name a run (invalid JSON or schema): recorded under rejected/{launch_id}
  // by message id, so each one sent must have its own rejected launch id.
  const unnamed = c.plan.poison.filter((p) => !NAMED_POISON.has(p.kind)).length;
  const namedRuns = new Set(
    c.plan.poison.filter((p) => NAMED_POISON.has(p.kind)).map((p) => p.runId),
  );
  const unnamedIds = new Set(
    rejected.filter((e) => !namedRuns.has(String(e.run_id))).map((e) => String(e.launch_id)),
  );
  const unnamedRecords = c.records.filter((r) => r.path.startsWith("rejected/")).length;
  if (unnamedIds.size < unnamed || unnamedRecords < unnamed) {
    unrejected += unnamed - Math.min(unnamedIds.size, unnamedRecords);
    note(
      `unnamed poison: ${unnamed} sent, ${unnamedIds.size} rejected events, ${unnamedRecords} rejected/ records`,
    );
  }
  return { jobs, unrejected, stuck };
}

function deadLetterSplit(c: Collected): { valid: number; poison: number } {
  const poisonRuns = new Set(c.plan.poison.map((p) => p.runId));
  let valid = 0;
  let poison = 0;
  for (const text of c.deadLetters) {
    const run = /"run_id":\s*"([^"]+)"/.exec(text)?.[1];
    if (run && !poisonRuns.has(run)) valid++;
    else poison++;
  }
  return { valid, poison };
}

/** Times the canary secret appears in a log line, an event or a stored object. */
function countLeaks(c: Collected): number {
  const count = (text: string) => text.split(c.canary).length - 1;
  let leaks = 0;
  for (const line of c.functionLines) leaks += count(line);
  for (const e of c.events) leaks += count(JSON.stringify(e));
  for (const r of c.records) leaks += count(r.text);
  for (const d of c.deadLetters) leaks += count(d);
  return leaks;
}

function eventRepeats(events: Array<Record<string, unknown>>): number {
  const seen = new Set<string>();
  let repeats = 0;
  for (const e of events) {
    const key = `${String(e.launch_id)}/${String(e.state)}/${String(e.attempt)}`;
    if (seen.has(key)) repeats++;
    seen.add(key);
  }
  return repeats;
}

/** The most intervals [createTime, endTime) open at one instant; a job not ended counts until now. */
export function peakConcurrent(jobs: SeenJob[]): number {
  const points: Array<[number, number]> = [];
  for (const j of jobs) {
    if (!j.createTime) continue;
    points.push([Date.parse(j.createTime), 1]);
    points.push([j.endTime ? Date.parse(j.endTime) : Number.POSITIVE_INFINITY, -1]);
  }
  // An end and a start at the same instant: the end first (the slot was free).
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of points) {
    open += d;
    peak = Math.max(peak, open);
  }
  return peak;
}

/**
 * The most writes one max_jobs slot object may take in one second: a slot given back and
 * taken again in the same second. A holding lasts longer than a second (the run's Vertex
 * clock runs a job 1.2 s; slots are given back when the poll sees the job end), so no object
 * takes a third. The one-object design wrote slots/{queue}.json once per admission.
 */
export const SLOT_WRITES_PER_SECOND_BOUND = 2;

export interface KindWrites {
  /** The most writes one object of this kind took in one second. */
  max_per_second: number;
  objects: number;
  writes: number;
  /** The object that took them (bucket/name), or null. */
  busiest: string | null;
}

export interface WritesByKind {
  /** `slots/{queue}/{index}`: the max_jobs slot objects. */
  slots: KindWrites;
  /** `launches/...` and `rejected/...`: launch records. */
  records: KindWrites;
  /** `active/...`: the active markers. */
  markers: KindWrites;
  /** Everything else (queue configs, other buckets). */
  other: KindWrites;
}

const KIND_PREFIXES: Array<[keyof WritesByKind, string[]]> = [
  ["slots", ["slots/"]],
  ["records", ["launches/", "rejected/"]],
  ["markers", ["active/"]],
];

/** Splits the emulator's per-object write rates by what the object is. */
export function writesByKind(report: WriteRateReport, stateBucket: string): WritesByKind {
  const empty = (): KindWrites => ({ max_per_second: 0, objects: 0, writes: 0, busiest: null });
  const out: WritesByKind = { slots: empty(), records: empty(), markers: empty(), other: empty() };
  for (const o of report.busiest) {
    const name = o.object.startsWith(`${stateBucket}/`)
      ? o.object.slice(stateBucket.length + 1)
      : null;
    const kind =
      (name !== null && KIND_PREFIXES.find(([, ps]) => ps.some((p) => name.startsWith(p)))?.[0]) ||
      "other";
    const k = out[kind];
    k.objects++;
    k.writes += o.total;
    if (o.writes > k.max_per_second) {
      k.max_per_second = o.writes;
      k.busiest = o.object;
    }
  }
  return out;
}

/** The write-rate line printed after the SPEC §12 line. */
export function writesLine(w: WritesByKind): string {
  const part = (label: string, k: KindWrites) =>
    `${label} max ${k.max_per_second}/s (${k.objects} objects, ${k.writes} writes)`;
  return `chaos writes per object per second: ${part("slots", w.slots)}; ${part("launch records", w.records)}; ${part("markers", w.markers)}`;
}

export interface Figures {
  launches: number;
  deliveries: number;
  faults: number;
  kills: number;
}

/** The SPEC §12 line. */
export function chaosLine(f: Figures, v: Verdict): string {
  return `chaos: launches=${f.launches} deliveries=${f.deliveries} faults=${f.faults} kills=${f.kills} jobs=${v.jobs} duplicates=${v.duplicates} lost=${v.lost} stuck=${v.stuck} poison=${v.poison} poison_jobs=${v.poison_jobs} leaks=${v.leaks}`;
}

/** True when the run proves what it must. */
export function passed(v: Verdict, maxJobs: number): boolean {
  return (
    v.jobs === v.launches &&
    v.duplicates === 0 &&
    v.lost === 0 &&
    v.stuck === 0 &&
    v.poison_jobs === 0 &&
    v.poison_unrejected === 0 &&
    v.leaks === 0 &&
    v.disagree === 0 &&
    v.max_jobs_peak <= maxJobs &&
    v.writes.slots.max_per_second <= SLOT_WRITES_PER_SECOND_BOUND
  );
}

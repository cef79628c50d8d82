// `npm run bench` (SPEC §12; not part of npm test): starts the local emulators, deploys the
// built bundles out of the repo, measures everything in one run and prints a table; writes
// bench/results.json in the SPEC §12 format. Every figure is a median of at least 5.
//   --phases cold,confined,warm,poll,memory,size,cli   a subset (results.json is then partial)
//   --rounds N                                samples per figure (default 7; SPEC: at least 5)
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Storage } from "@google-cloud/storage";
import type { Stack } from "../local/stack/stack.js";
import { deployLocally, ensureBuilt, ROOT } from "../test/helpers/bundles.js";
import { cliStartup } from "./cli.js";
import { burstRss, coldStart, confinedRun, warmDispatch } from "./dispatch.js";
import { benchStack, DISPATCH_MEMORY_MB, dispatchNodeOptions } from "./functions.js";
import { machine } from "./lib.js";
import { pollScale } from "./poll.js";
import { type Results, results, table } from "./report.js";

const ALL = ["cold", "confined", "warm", "poll", "memory", "size", "cli"];
let ROUNDS = 7;

function gcloudPath(): string | null {
  const r = spawnSync("sh", ["-c", "command -v gcloud"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The last launch record the warm phase wrote: the bare calls write one of the same size. */
async function sampleRecord(stack: Stack): Promise<string> {
  // A fresh client: the stack's may hold a keep-alive socket the emulator has since closed.
  const storage = new Storage({ projectId: stack.project, apiEndpoint: stack.gcs.url });
  const [files] = await storage
    .bucket(stack.env.STATE_BUCKET ?? "")
    .getFiles({ prefix: "launches/" });
  const file = files.at(-1);
  if (!file) throw new Error("no launch record in the state bucket to size the bare calls by");
  const [data] = await file.download();
  return data.toString("utf8");
}

/** A package deployed as Cloud Build does: npm ci, then gcp-build (the V8 code cache). */
function deployed(name: "dispatch" | "poll"): string {
  return deployLocally(name, process.execPath, name === "dispatch" ? dispatchNodeOptions() : "");
}

async function measure(stack: Stack, phases: Set<string>, raw: Record<string, unknown>) {
  const app = {
    dispatch: deployed("dispatch"),
    poll: deployed("poll"),
  };
  const ctx = { stack, app: app.dispatch, root: ROOT };
  try {
    if (phases.has("poll")) raw.poll = await step("poll", () => pollScale(stack, app.poll, ROUNDS));
    if (phases.has("cold")) raw.cold = await step("cold start", () => coldStart(ctx, ROUNDS));
    if (phases.has("confined"))
      raw.confined = await step(`cold start and burst in ${DISPATCH_MEMORY_MB} MB`, () =>
        confinedRun(ctx, ROUNDS, DISPATCH_MEMORY_MB),
      );
    if (phases.has("warm")) {
      // One launch first, so there is a real record to size the bare calls' record by.
      await coldStart(ctx, 0);
      const record = await sampleRecord(stack);
      raw.warm = await step("warm dispatch", () => warmDispatch(ctx, 15, record));
    }
    if (phases.has("memory")) raw.memory = await step("memory", () => burstRss(ctx, 1000, 32));
  } finally {
    rmSync(app.dispatch, { recursive: true, force: true });
    rmSync(app.poll, { recursive: true, force: true });
  }
}

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  process.stderr.write(`bench: ${name}...\n`);
  const value = await fn();
  process.stderr.write(`bench: ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      phases: { type: "string", default: ALL.join(",") },
      rounds: { type: "string", default: String(ROUNDS) },
    },
  });
  ROUNDS = Number(values.rounds);
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1)
    throw new Error(
      `--rounds: expected a whole number of at least 1 (5 or more for reported medians), got ${values.rounds}`,
    );
  const phases = new Set((values.phases ?? "").split(",").filter(Boolean));
  const unknown = [...phases].filter((p) => !ALL.includes(p));
  if (unknown.length > 0)
    throw new Error(`--phases: unknown ${unknown.join(", ")}; expected some of ${ALL.join(",")}`);
  const startMachine = machine({});
  await step("build (npm run build, if stale)", () => ensureBuilt());
  const raw: Record<string, unknown> = {};
  if (["poll", "cold", "confined", "warm", "memory"].some((p) => phases.has(p))) {
    const stack = await step("emulators", () => benchStack());
    try {
      await measure(stack, phases, raw);
    } finally {
      await stack.close();
    }
  }
  if (phases.has("size"))
    raw.size = JSON.parse(readFileSync(join(ROOT, "dist", "functions", "sizes.json"), "utf8"));
  if (phases.has("cli")) raw.cli = await step("cli", () => cliStartup(ROOT, ROUNDS, gcloudPath()));
  const out: Results = results(
    raw,
    machine({ load_avg_at_start: startMachine.load_avg_1m_5m_15m, rounds: ROUNDS }),
  );
  writeFileSync(join(ROOT, "bench", "results.json"), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${table(out, raw)}\nwrote bench/results.json\n`);
}

await main();

// `npm run bench:ab` (not part of npm test): cold starts of the built dispatch package under
// several NODE_OPTIONS, side by side. Each variant is deployed as the bench deploys (its code
// cache made under its own flags), the emulators are warmed, then every round starts one fresh
// instance of each variant, in alternating order, and times exec to its first launch
// acknowledged; bench/gc_probe.cjs reports the process's CPU time and GC pauses to that point.
// With --memory-mb, each instance runs inside a memory cgroup of that size, as Cloud Run
// confines an instance to its memory (Node sizes its heap from it): root and a writable
// cgroup file system are needed, else it stops and says so.
//
// Each variant's NODE_OPTIONS are used as given: Terraform deploys dispatch with the framework
// preload first (`--require ./preload.cjs`, scripts/framework_preload.mjs), so a variant
// measured as deployed names it too. `--top-level-cache LABEL` deploys that variant with
// CODE_CACHE_REHEARSAL=off (its code cache of the bundle's top level only, as before the
// rehearsal in shared/dispatch/rehearse.ts), to compare the two caches under the same flags.
//
//   npm run bench:ab -- --rounds 12 \
//     --variant "flags=--require ./preload.cjs --max-old-space-size=104 --max-semi-space-size=4" \
//     --variant "defaults=--require ./preload.cjs" [--memory-mb 512] [--top-level-cache defaults]
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { demoMessage } from "../local/stack/demo.js";
import { deployLocally, ensureBuilt, ROOT } from "../test/helpers/bundles.js";
import { confine, memoryCgroup } from "./cgroup.js";
import { warmEmulators } from "./dispatch.js";
import { benchStack, functionEnv, startFunction } from "./functions.js";
import { median, pushBody, pushWhenListening } from "./lib.js";

export interface Variant {
  label: string;
  nodeOptions: string;
}

/** `label=NODE_OPTIONS` (a label of letters, digits, `_.-`; options empty for Node's defaults). */
export function parseVariants(specs: string[]): Variant[] {
  const variants = specs.map((spec) => {
    const at = spec.indexOf("=");
    if (at < 1 || !/^[A-Za-z0-9][\w.-]*$/.test(spec.slice(0, at)))
      throw new Error(
        `--variant ${JSON.stringify(spec)}: expected label=NODE_OPTIONS, e.g. "defaults=" or "flags=--max-semi-space-size=4"`,
      );
    return { label: spec.slice(0, at), nodeOptions: spec.slice(at + 1).trim() };
  });
  const labels = variants.map((v) => v.label);
  const twice = labels.find((l, i) => labels.indexOf(l) !== i);
  if (twice)
    throw new Error(`--variant: the label ${twice} is given twice; name each variant once`);
  if (variants.length < 2) throw new Error("--variant: give at least two variants to compare");
  return variants;
}

/** The labels `--top-level-cache` names; each must be a variant's. */
export function topLevelCacheLabels(labels: string[], variants: Variant[]): Set<string> {
  const known = variants.map((v) => v.label);
  const unknown = labels.find((l) => !known.includes(l));
  if (unknown !== undefined)
    throw new Error(
      `--top-level-cache ${unknown}: no variant has that label; give one of ${known.join(", ")}`,
    );
  return new Set(labels);
}

/** One cold start: wall ms to the ack, and what bench/gc_probe.cjs recorded. */
export interface Sample {
  wallMs: number;
  cpuMs: number;
  gcs: Array<{ kind: number; ms: number }>;
  cache: string | null;
}

/** perf_hooks' kind of a scavenge (NODE_PERFORMANCE_GC_MINOR); every other kind is not one. */
const SCAVENGE = 1;

/** Medians per variant: wall, CPU, GC pause total, GC count, pauses other than scavenges. */
export function summarize(samples: Record<string, Sample[]>) {
  return Object.entries(samples).map(([label, runs]) => ({
    label,
    n: runs.length,
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    gcMs: median(runs.map((r) => r.gcs.reduce((sum, g) => sum + g.ms, 0))),
    gcCount: median(runs.map((r) => r.gcs.length)),
    nonScavengeMs: median(
      runs.map((r) => r.gcs.filter((g) => g.kind !== SCAVENGE).reduce((s, g) => s + g.ms, 0)),
    ),
  }));
}

const SUB = "projects/local-project/subscriptions/launch-jobs-dispatch";

async function coldStart(
  stack: Awaited<ReturnType<typeof benchStack>>,
  app: string,
  variant: Variant,
  id: string,
): Promise<Sample> {
  const probeDir = join(tmpdir(), `vd-gc-probe-${process.pid}-${id}`);
  mkdirSync(probeDir, { recursive: true });
  const env = {
    ...functionEnv(stack, stack.env.STATE_BUCKET ?? ""),
    NODE_OPTIONS: `${variant.nodeOptions} --require ${join(ROOT, "bench", "gc_probe.cjs")}`,
    GC_PROBE_DIR: probeDir,
    VD_CODE_CACHE_DEBUG: "1",
  };
  const fn = await startFunction({ name: "dispatch", app, env, project: stack.project });
  try {
    const status = await pushWhenListening(fn, pushBody(demoMessage(id), id, SUB), 180_000);
    const wallMs = performance.now() - fn.t0;
    if (status < 200 || status > 299) throw new Error(`${variant.label}: answered ${status}`);
    return { wallMs, ...(await probeRecord(probeDir, variant.label)) };
  } finally {
    await fn.stop();
    rmSync(probeDir, { recursive: true, force: true });
  }
}

/** The probe's record, written one turn after the answer: waits for the file, up to 10 s. */
async function probeRecord(dir: string, label: string): Promise<Omit<Sample, "wallMs">> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const file = readdirSync(dir).find((f) => f.endsWith(".json")); // not a .partial one
    if (file) return JSON.parse(readFileSync(join(dir, file), "utf8"));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(
    `${label}: bench/gc_probe.cjs wrote no record in ${dir} within 10 s of the first answer`,
  );
}

async function measure(apps: Map<Variant, string>, rounds: number) {
  const stack = await benchStack();
  const samples: Record<string, Sample[]> = {};
  try {
    const [first] = apps;
    if (!first) throw new Error("no variants");
    // The emulators warmed, as the bench does before its cold starts (its own flags: the
    // warm-up is not timed, so its code cache need not match).
    await warmEmulators({ stack, app: first[1], root: ROOT });
    for (let round = -1; round < rounds; round++) {
      const order = [...apps];
      if (round % 2 !== 0) order.reverse();
      for (const [variant, app] of order) {
        const sample = await coldStart(
          stack,
          app,
          variant,
          `ab-${variant.label}-${round}-${process.pid}`,
        );
        if (sample.cache !== "used")
          throw new Error(
            `${variant.label}: its code cache was ${sample.cache}, not used; the comparison would time a compile`,
          );
        // Round -1 is one warm-up of each variant.
        if (round >= 0) samples[variant.label] = [...(samples[variant.label] ?? []), sample];
      }
    }
  } finally {
    await stack.close();
  }
  return samples;
}

function cgroupOrExplain(mb: number) {
  try {
    return memoryCgroup(mb);
  } catch (err) {
    throw new Error(`--memory-mb: ${(err as Error).message}, or leave --memory-mb out`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "12" },
      variant: { type: "string", multiple: true, default: [] },
      "memory-mb": { type: "string" },
      "top-level-cache": { type: "string", multiple: true, default: [] },
    },
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds: expected a whole number of at least 1, got ${values.rounds}`);
  const variants = parseVariants(values.variant ?? []);
  const topLevelOnly = topLevelCacheLabels(values["top-level-cache"] ?? [], variants);
  const memory = values["memory-mb"] === undefined ? null : Number(values["memory-mb"]);
  if (memory !== null && !(Number.isInteger(memory) && memory >= 128))
    throw new Error(
      `--memory-mb: expected a whole number of megabytes, 128 or more, got ${values["memory-mb"]}`,
    );
  await ensureBuilt();
  const cgroup = memory === null ? null : cgroupOrExplain(memory);
  const apps = new Map<Variant, string>();
  try {
    for (const v of variants) {
      const buildEnv: Record<string, string> = topLevelOnly.has(v.label)
        ? { CODE_CACHE_REHEARSAL: "off" }
        : {};
      const app = deployLocally("dispatch", process.execPath, v.nodeOptions, undefined, buildEnv);
      apps.set(v, app);
      if (cgroup) confine(app, cgroup.procs, process.execPath);
    }
    print(summarize(await measure(apps, rounds)), memory);
  } finally {
    for (const app of apps.values()) rmSync(app, { recursive: true, force: true });
    cgroup?.remove();
  }
}

function print(rows: ReturnType<typeof summarize>, memory: number | null): void {
  const where = memory === null ? "no memory limit" : `each in a ${memory} MB memory cgroup`;
  process.stdout.write(`cold starts of dispatch, exec to the first ack (medians; ${where}):\n`);
  for (const r of rows)
    process.stdout.write(
      `${r.label.padEnd(14)} wall ${r.wallMs.toFixed(0).padStart(5)} ms  cpu ${r.cpuMs.toFixed(0).padStart(5)} ms  gc ${r.gcMs.toFixed(1)} ms in ${r.gcCount} pauses (not scavenges: ${r.nonScavengeMs.toFixed(1)} ms)  n=${r.n}\n`,
    );
}

if (process.argv[1]?.endsWith("cold_ab.ts")) await main();

// `npm run bench:modules` (not part of npm test): where a cold start's module loading goes.
// Builds dispatch unminified into a temporary dist (esbuild writes a `// <path>` line before
// each module and keeps each module's path as its initialiser's key), rewrites the bundle's
// two module helpers (`__commonJS`, `__esm`) and its `require` of Node's own modules to time
// every initialiser, deploys it as the bench does, runs cold starts against the emulators
// (exec to the first launch acknowledged) and prints, per package, the median milliseconds
// spent in its own module top levels (exclusive of the modules they start), split into the
// bundle's top level and the first delivery. It is not the deployed bundle (unminified, every
// initialiser wrapped): read it for where the time goes, not for the cold start's total.
//
//   npm run bench:modules -- --rounds 7 [--top 30]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { demoMessage } from "../local/stack/demo.js";
import { buildFunctions } from "../scripts/build.mjs";
import { deployLocally, ROOT } from "../test/helpers/bundles.js";
import {
  benchStack,
  dispatchNodeOptions,
  functionEnv,
  runtimeNodeOptions,
  startFunction,
} from "./functions.js";
import { median, pushBody, pushWhenListening } from "./lib.js";

/**
 * esbuild's helpers as it writes them unminified (0.2x; `e2` stands for the catch binding,
 * which esbuild renames); the rewrite fails if they change.
 */
const HELPERS = [
  `var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e2) {
    throw err = [e2], e2;
  }
};`,
  `var __commonJS = (cb, mod) => function __require() {
  try {
    return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;
  } catch (e2) {
    throw mod = 0, e2;
  }
};`,
];

/**
 * The timed helpers. Each initialiser's time is recorded inclusive and exclusive (less the
 * initialisers it ran), with when it started; a module the bundle leaves to Node's require
 * (Node's own, `node:<id>`, or an external package, `external:<id>`) on its first require.
 * The process writes them, and when the bundle's top level ended, to VD_MODULE_TIMES_DIR.
 */
const TIMED = `
var __vdT = { mods: {}, stack: [], t0: performance.now(), seen: new Set() };
process.on("exit", () => require("node:fs").writeFileSync(require("node:path").join(process.env.VD_MODULE_TIMES_DIR, process.pid + ".json"), JSON.stringify(__vdT)));
var __vdTimed = (key, run) => {
  const frame = { child: 0 }; __vdT.stack.push(frame); const t = performance.now();
  try { return run(); } finally {
    const incl = performance.now() - t; __vdT.stack.pop();
    const parent = __vdT.stack.at(-1); if (parent) parent.child += incl;
    __vdT.mods[key] = { at: t - __vdT.t0, incl, excl: incl - frame.child };
  }
};
var __vdRequire = require;
var __vdKind = (id) => (require("node:module").isBuiltin(id) ? "node:" + id.replace(/^node:/, "") : "external:" + id);
require = Object.assign((id) => __vdT.seen.has(id) ? __vdRequire(id) : (__vdT.seen.add(id), __vdTimed(__vdKind(id), () => __vdRequire(id))), __vdRequire);
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    if (!fn) return res;
    const key = __getOwnPropNames(fn)[0], f = fn;
    return __vdTimed(key, () => (res = (0, f[key])(fn = 0)));
  } catch (e2) { throw err = [e2], e2; }
};
var __commonJS = (cb, mod) => function __require() {
  try {
    if (mod) return mod.exports;
    const key = __getOwnPropNames(cb)[0];
    __vdTimed(key, () => (0, cb[key])((mod = { exports: {} }).exports, mod));
    return mod.exports;
  } catch (e2) { throw mod = 0, e2; }
};`;

const helperPattern = (helper: string) =>
  new RegExp(helper.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll("e2", "\\w+"));

export function instrument(source: string): string {
  const [esm, cjs] = HELPERS.map((helper) => {
    const pattern = helperPattern(helper);
    if (!pattern.test(source))
      throw new Error(
        `bench:modules: esbuild's helper ${helper.split(" =")[0]} is not written as expected (esbuild changed?); update HELPERS in bench/module_times.ts`,
      );
    return pattern;
  }) as [RegExp, RegExp];
  const end = "\n;__vdT.top = performance.now() - __vdT.t0;\n";
  return source.replace(esm, "").replace(cjs, () => TIMED) + end;
}

interface Run {
  top: number;
  mods: Record<string, { at: number; excl: number }>;
}

/** The package under the last node_modules of a module's path, else its first two parts. */
export function packageOf(key: string): string {
  if (/^(node|external):/.test(key)) return key;
  const m = key.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/);
  if (m?.[1]) return m[1];
  // The build's generated descriptors sit in the temporary dist, outside the repository.
  const path = key.replace(/^.*\/dist\/generated\//, "dist/generated/").replace(/^(\.\.\/)+/, "");
  return path.split("/").slice(0, 2).join("/");
}

/** Median exclusive ms per package and phase over the runs, largest first. */
export function report(runs: Run[]): Array<{ what: string; phase: string; ms: number }> {
  const per = new Map<string, number[]>();
  runs.forEach((run, i) => {
    for (const [key, m] of Object.entries(run.mods)) {
      const id = `${packageOf(key)}\0${m.at < run.top ? "top level" : "first delivery"}`;
      const sums = per.get(id) ?? new Array(runs.length).fill(0);
      sums[i] += m.excl;
      per.set(id, sums);
    }
  });
  return [...per]
    .map(([id, sums]) => {
      const [what = "", phase = ""] = id.split("\0");
      return { what, phase, ms: median(sums) };
    })
    .sort((a, b) => b.ms - a.ms);
}

async function coldStarts(app: string, outDir: string, rounds: number): Promise<void> {
  const stack = await benchStack();
  try {
    const env = {
      ...functionEnv(stack, stack.env.STATE_BUCKET ?? ""),
      NODE_OPTIONS: runtimeNodeOptions("dispatch"),
      VD_MODULE_TIMES_DIR: outDir,
    };
    const sub = "projects/local-project/subscriptions/launch-jobs-dispatch";
    for (let i = 0; i <= rounds; i++) {
      const fn = await startFunction({ name: "dispatch", app, env, project: stack.project });
      const body = pushBody(demoMessage(`modules-${i}-${process.pid}`), `m${i}`, sub);
      const status = await pushWhenListening(fn, body, 180_000).finally(() => fn.stop());
      if (status < 200 || status > 299) throw new Error(`cold start ${i}: answered ${status}`);
      if (i === 0) for (const f of readdirSync(outDir)) rmSync(join(outDir, f)); // warm-up
    }
  } finally {
    await stack.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: "string", default: "7" }, top: { type: "string", default: "30" } },
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds: expected a whole number of at least 1, got ${values.rounds}`);
  const work = mkdtempSync(join(tmpdir(), "vd-module-times-"));
  try {
    const outRoot = join(work, "dist");
    await buildFunctions({
      root: ROOT,
      names: ["dispatch"],
      outRoot,
      readable: true,
      log: () => {},
    });
    const index = join(outRoot, "functions", "dispatch", "index.js");
    writeFileSync(index, instrument(readFileSync(index, "utf8")));
    const packageDir = join(outRoot, "functions", "dispatch");
    const app = deployLocally("dispatch", process.execPath, dispatchNodeOptions(), packageDir);
    const times = join(work, "times");
    mkdirSync(times);
    try {
      await coldStarts(app, times, rounds);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
    const runs = readdirSync(times).map((f) => JSON.parse(readFileSync(join(times, f), "utf8")));
    print(runs, Number(values.top));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function print(runs: Run[], top: number): void {
  const tops = runs.map((r) => r.top);
  const inits = runs.map((r) =>
    Object.values(r.mods).reduce((sum, m) => sum + (m.at < r.top ? m.excl : 0), 0),
  );
  process.stdout.write(
    `${runs.length} cold starts; the bundle's top level took ${median(tops).toFixed(1)} ms (median; ${Math.min(...tops).toFixed(0)}-${Math.max(...tops).toFixed(0)}), ${median(inits).toFixed(1)} ms of it in module initialisers (the rest: hoisted ES modules, the product's own top level)\n` +
      "    ms  phase           package (its modules' own top levels, exclusive)\n",
  );
  for (const row of report(runs).slice(0, top))
    process.stdout.write(`${row.ms.toFixed(1).padStart(6)}  ${row.phase.padEnd(15)} ${row.what}\n`);
}

if (process.argv[1]?.endsWith("module_times.ts")) await main();

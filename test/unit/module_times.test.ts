// bench/module_times.ts: esbuild's module helpers rewritten to time each initialiser, on a
// real unminified bundle (the build's own `bundle`), run in a fresh process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, it } from "node:test";
import { instrument, packageOf, report } from "../../bench/module_times.js";
import { bundle } from "../../scripts/build.mjs";

const ROOT = join(import.meta.dirname, "..", "..");
const dir = join(ROOT, "node_modules", ".cache", "vertex-dispatch", `module-times-${process.pid}`);
after(() => rmSync(dir, { recursive: true, force: true }));

it("times each module of a bundle, and Node's modules on first require", async () => {
  mkdirSync(join(dir, "out"), { recursive: true });
  // A CommonJS package (wrapped in __commonJS) and an ES module required lazily (__esm).
  writeFileSync(
    join(dir, "late.mjs"),
    "export const late = Array.from({ length: 3 }, (_, i) => i);\n",
  );
  writeFileSync(
    join(dir, "entry.cjs"),
    'const ms = require("ms");\nrequire("node:os");\nmodule.exports = { ms: ms("1s"), late: () => require("./late.mjs").late };\n',
  );
  const outfile = join(dir, "bundle.cjs");
  await bundle({ entry: join(dir, "entry.cjs"), outfile, readable: true });
  writeFileSync(outfile, instrument(readFileSync(outfile, "utf8")));
  const run = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(outfile)}).late()`], {
    env: { PATH: process.env.PATH, VD_MODULE_TIMES_DIR: join(dir, "out") },
    encoding: "utf8",
  });
  assert.equal(run.status, 0, run.stderr);
  const [file] = readdirSync(join(dir, "out"));
  const times = JSON.parse(readFileSync(join(dir, "out", file ?? ""), "utf8"));
  const keys = Object.keys(times.mods).map(packageOf).sort();
  assert.ok(keys.includes("ms"), `ms timed: ${keys}`);
  assert.ok(keys.includes("node:os"), `node:os timed: ${keys}`);
  assert.ok(
    Object.keys(times.mods).some((k) => k.endsWith("late.mjs")),
    "the lazy ES module",
  );
  for (const m of Object.values(times.mods) as Array<{ incl: number; excl: number }>)
    assert.ok(m.excl <= m.incl + 1e-9 && m.excl >= 0);
  const late = Object.entries(times.mods).find(([k]) => k.endsWith("late.mjs"))?.[1] as {
    at: number;
  };
  assert.ok(late.at >= times.top, "the lazy module ran after the top level");
});

it("fails naming the helper when esbuild writes it another way", () => {
  assert.throws(() => instrument("var __esm = () => {};"), /__esm is not written as expected/);
});

it("reports the median per package and phase", () => {
  const run = (a: number, b: number) => ({
    top: 10,
    mods: {
      "node_modules/x/a.js": { at: 1, excl: a },
      "node_modules/x/b.js": { at: 2, excl: b },
      "node_modules/y/node_modules/z/c.js": { at: 20, excl: 1 },
    },
  });
  assert.deepEqual(report([run(1, 1), run(2, 2), run(3, 9)]), [
    { what: "x", phase: "top level", ms: 4 },
    { what: "z", phase: "first delivery", ms: 1 },
  ]);
});

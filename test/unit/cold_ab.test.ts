// bench/cold_ab.ts, bench/cgroup.ts and bench/gc_probe.cjs: variants parsed with instructive errors, medians
// summarised, the probe run in a real process, the cgroup wrapper exec'd by bash, the cgroup
// made under a stand-in /sys/fs/cgroup of each layout.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { confine, memoryCgroup } from "../../bench/cgroup.js";
import { parseVariants, summarize, topLevelCacheLabels } from "../../bench/cold_ab.js";

const ROOT = join(import.meta.dirname, "..", "..");
const work = mkdtempSync(join(tmpdir(), "vd-cold-ab-test-"));
after(() => rmSync(work, { recursive: true, force: true }));

describe("parseVariants", () => {
  it("takes label=NODE_OPTIONS, the options possibly empty", () => {
    assert.deepEqual(
      parseVariants(["flags=--max-semi-space-size=4 --max-old-space-size=104", "defaults="]),
      [
        { label: "flags", nodeOptions: "--max-semi-space-size=4 --max-old-space-size=104" },
        { label: "defaults", nodeOptions: "" },
      ],
    );
  });
  it("says how to write a variant, and refuses a repeated label or a lone variant", () => {
    assert.throws(
      () => parseVariants(["--max-semi-space-size=4", "b="]),
      /expected label=NODE_OPTIONS, e\.g\./,
    );
    assert.throws(() => parseVariants(["a=", "a=--jitless"]), /the label a is given twice/);
    assert.throws(() => parseVariants(["a="]), /at least two variants/);
  });

  it("--top-level-cache names variants by label, and refuses one that is not a variant", () => {
    const variants = parseVariants([
      "rehearsed=--require ./preload.cjs",
      "top=--require ./preload.cjs",
    ]);
    assert.deepEqual([...topLevelCacheLabels(["top"], variants)], ["top"]);
    assert.deepEqual([...topLevelCacheLabels([], variants)], []);
    assert.throws(
      () => topLevelCacheLabels(["tpo"], variants),
      /--top-level-cache tpo: no variant has that label; give one of rehearsed, top/,
    );
  });
});

it("summarize: medians of wall, CPU, GC time and count, and the pauses that are not scavenges", () => {
  const sample = (wallMs: number, cpuMs: number, gcs: Array<[number, number]>) => ({
    wallMs,
    cpuMs,
    gcs: gcs.map(([kind, ms]) => ({ kind, ms })),
    cache: "used",
  });
  const [row] = summarize({
    a: [
      sample(500, 400, [
        [1, 2],
        [4, 10],
      ]),
      sample(700, 600, [[1, 3]]),
      sample(600, 500, [
        [1, 1],
        [1, 1],
        [8, 6],
      ]),
    ],
  });
  assert.deepEqual(row, {
    label: "a",
    n: 3,
    wallMs: 600,
    cpuMs: 500,
    gcMs: 8,
    gcCount: 2,
    nonScavengeMs: 6,
  });
});

it("gc_probe records GC pauses, CPU time and the code cache line at the first answer", () => {
  const out = join(work, "probe");
  mkdirSync(out);
  // Garbage through a 1 MB young generation (scavenges for certain), the line start.cjs
  // prints, then one request to a server: the probe writes when that answer ends.
  const script = `
    const keep = []; for (let i = 0; i < 200000; i++) { const a = [i, i + 1]; if (i % 1000 === 0) keep.push(a); }
    console.error("code cache used");
    const http = require("node:http");
    const server = http.createServer((req, res) => res.end("ok")).listen(0, () => {
      http.get({ port: server.address().port }, (res) => { res.resume(); res.on("end", () => setTimeout(() => server.close(), 50)); });
    });`;
  const run = spawnSync(
    process.execPath,
    ["--max-semi-space-size=1", "--require", join(ROOT, "bench", "gc_probe.cjs"), "-e", script],
    { env: { PATH: process.env.PATH, GC_PROBE_DIR: out }, encoding: "utf8" },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /code cache used/, "the line still reaches stderr");
  const files = readdirSync(out);
  assert.equal(files.length, 1, `one record: ${files}`);
  const record = JSON.parse(readFileSync(join(out, files[0] ?? ""), "utf8"));
  assert.equal(record.cache, "used");
  assert.ok(record.cpuMs > 0, `CPU time: ${record.cpuMs}`);
  assert.ok(record.gcs.length > 0, "the scavenges were seen");
  assert.ok(record.gcs.every((g: { kind: number; ms: number }) => g.kind > 0 && g.ms >= 0));
});

it("confine: the bin joins the cgroup with its own pid, then execs the framework with its arguments", () => {
  const app = join(work, "app");
  const src = join(app, "node_modules", "@google-cloud", "functions-framework", "build", "src");
  mkdirSync(src, { recursive: true });
  mkdirSync(join(app, "node_modules", ".bin"));
  writeFileSync(
    join(src, "main.js"),
    "console.log(process.pid + ' ' + process.argv.slice(2).join(' '));\n",
  );
  const procs = join(work, "cgroup.procs");
  writeFileSync(procs, "");
  confine(app, procs, process.execPath);
  const run = spawnSync(
    "/bin/bash",
    ["-c", "node_modules/.bin/functions-framework --target=dispatch"],
    {
      cwd: app,
      encoding: "utf8",
    },
  );
  assert.equal(run.status, 0, run.stderr);
  const [pid, arg] = run.stdout.trim().split(" ");
  assert.equal(arg, "--target=dispatch");
  assert.equal(readFileSync(procs, "utf8").trim(), pid, "the pid that joined is the one that ran");
});

describe("memoryCgroup", () => {
  it("writes memory.max under a v2 hierarchy with the memory controller", () => {
    const root = join(work, "v2");
    mkdirSync(root);
    writeFileSync(join(root, "cgroup.controllers"), "cpuset cpu io memory pids\n");
    const cg = memoryCgroup(512, root);
    assert.equal(cg.procs, join(root, "vd-bench", "cgroup.procs"));
    assert.equal(
      readFileSync(join(root, "vd-bench", "memory.max"), "utf8"),
      String(512 * 1024 * 1024),
    );
  });
  it("writes memory.limit_in_bytes under a v1 memory hierarchy", () => {
    const root = join(work, "v1");
    mkdirSync(join(root, "memory"), { recursive: true });
    const cg = memoryCgroup(256, root);
    assert.equal(cg.procs, join(root, "memory", "vd-bench", "cgroup.procs"));
    assert.equal(
      readFileSync(join(root, "memory", "vd-bench", "memory.limit_in_bytes"), "utf8"),
      String(256 * 1024 * 1024),
    );
  });
  it("says what to do when no cgroup can be made", () => {
    const file = join(work, "not-a-dir");
    writeFileSync(file, "");
    assert.throws(
      () => memoryCgroup(512, file),
      /could not make a 512 MB memory cgroup at .*not-a-dir.*; run as root on a machine with a writable cgroup file system/,
    );
  });
});

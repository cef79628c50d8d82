// start.cjs (scripts/code_cache.mjs) loads a package's index.js exactly as `require` would,
// with the V8 code cache gcp-build makes when V8 accepts it, and without it otherwise: the
// module sees the same require, module, exports, __filename and __dirname in every case.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as codeCache from "../../scripts/code_cache.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as codeCacheLoad from "../../scripts/code_cache_load.mjs";

const { writeCodeCacheFiles, makeCodeCache, REJECTED_WARNING } = codeCache as {
  writeCodeCacheFiles(dir: string): void;
  makeCodeCache(dir: string, nodeBin?: string, nodeOptions?: string): void;
  REJECTED_WARNING: string;
};

const { assertAscii } = codeCacheLoad as {
  assertAscii(file: string, fs: { readFileSync: typeof readFileSync }): void;
};

// The heap flags Terraform gives dispatch (V8 flags: they change what V8 accepts).
const HEAP_FLAGS = "--max-old-space-size=104 --max-semi-space-size=4";

// A module that reports what the CommonJS wrapper gave it, and fails if the producer's
// placeholder environment is missing (so the top level really ran at gcp-build).
const INDEX = `"use strict";
if (!process.env.GOOGLE_CLOUD_PROJECT) throw new Error("no GOOGLE_CLOUD_PROJECT");
const { basename } = require("node:path");
module.exports = {
  file: basename(__filename),
  dir: __dirname,
  sameExports: module.exports === exports,
  square: (n) => n * n,
};
`;

/** Loads start.cjs in a fresh process; `line` is what became of the cache, `warnings` the rest of stderr. */
function load(dir: string, nodeOptions = "") {
  const script = `const m = require(${JSON.stringify(join(dir, "start.cjs"))}); console.log(JSON.stringify({ ...m, square: m.square(7) }));`;
  const run = spawnSync(process.execPath, ["-e", script], {
    env: {
      PATH: process.env.PATH,
      VD_CODE_CACHE_DEBUG: "1",
      GOOGLE_CLOUD_PROJECT: "p",
      NODE_OPTIONS: nodeOptions,
    },
    encoding: "utf8",
  });
  assert.equal(run.status, 0, run.stderr);
  const [line, ...warnings] = run.stderr.trim().split("\n");
  return { line, warnings, value: JSON.parse(run.stdout) as Record<string, unknown> };
}

const REJECTED_LINE = JSON.stringify({ severity: "WARNING", message: REJECTED_WARNING });

describe("start.cjs and the V8 code cache", () => {
  const dir = mkdtempSync(join(tmpdir(), "vd-code-cache-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.js"), INDEX);
  writeCodeCacheFiles(dir);
  const expected = { file: "index.js", dir, sameExports: true, square: 49 };

  it("without a cache: index.js loads as require would", () => {
    const { line, warnings, value } = load(dir);
    assert.equal(line, "code cache missing");
    assert.deepEqual(warnings, []);
    assert.deepEqual(value, expected);
  });

  it("gcp-build makes a cache that V8 accepts, and the module is the same", () => {
    makeCodeCache(dir);
    const { line, warnings, value } = load(dir);
    assert.equal(line, "code cache used");
    assert.deepEqual(warnings, []);
    assert.deepEqual(value, expected);
  });

  it("a cache is used only under the V8 flags it was made with; gcp-build makes it under the runtime's", () => {
    makeCodeCache(dir); // a build without CODE_CACHE_NODE_OPTIONS' flags
    const other = load(dir, HEAP_FLAGS);
    assert.equal(other.line, "code cache rejected", "V8 rejects a cache made under other flags");
    assert.deepEqual(other.warnings, [REJECTED_LINE]);
    assert.deepEqual(other.value, expected);

    makeCodeCache(dir, process.execPath, HEAP_FLAGS);
    const same = load(dir, HEAP_FLAGS);
    assert.equal(same.line, "code cache used");
    assert.deepEqual(same.warnings, []);
    assert.deepEqual(same.value, expected);
    assert.equal(load(dir).line, "code cache rejected", "and that cache only under those flags");
  });

  it("a cache V8 rejects (another Node, other bytes) costs nothing but the cache, and says so", () => {
    writeFileSync(join(dir, "index.js.cache"), Buffer.from("not a V8 code cache"));
    const { line, warnings, value } = load(dir);
    assert.equal(line, "code cache rejected");
    assert.deepEqual(warnings, [REJECTED_LINE]);
    assert.deepEqual(value, expected);
  });
});

// A bundle whose rehearsal (when the file rehearse.on or rehearse.fails is beside it) calls
// a large function its top level never calls: V8 compiles that function only if the
// rehearsal ran before the producer saved the cache.
const REHEARSED_INDEX = `"use strict";
if (!process.env.GOOGLE_CLOUD_PROJECT) throw new Error("no GOOGLE_CLOUD_PROJECT");
const fs = require("node:fs");
const path = require("node:path");
function onlyWhenRehearsed(x) {
${Array.from({ length: 400 }, (_, i) => `  x = (x * 31 + ${i}) % 1000003;`).join("\n")}
  return x;
}
module.exports.square = (n) => n * n;
if (fs.existsSync(path.join(__dirname, "rehearse.on")))
  module.exports.codeCacheRehearsal = async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    fs.writeFileSync(path.join(__dirname, "rehearsed"), String(onlyWhenRehearsed(1)));
  };
if (fs.existsSync(path.join(__dirname, "rehearse.fails")))
  module.exports.codeCacheRehearsal = async () => {
    throw new Error("the loopback listeners could not start");
  };
`;

/** The producer as gcp-build runs it: its stderr, and the size of the cache it left. */
function produce(dir: string, buildEnv: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, ["code_cache.cjs"], {
    cwd: dir,
    env: { PATH: process.env.PATH, ...buildEnv },
    encoding: "utf8",
  });
  assert.equal(run.status, 0, run.stderr);
  return { stderr: run.stderr, bytes: readFileSync(join(dir, "index.js.cache")).length };
}

describe("gcp-build's rehearsal before the cache is saved", () => {
  const dir = mkdtempSync(join(tmpdir(), "vd-rehearsal-cache-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.js"), REHEARSED_INDEX);
  writeCodeCacheFiles(dir);
  const flag = (name: string, on: boolean) =>
    on ? writeFileSync(join(dir, name), "") : rmSync(join(dir, name), { force: true });

  it("runs the bundle's codeCacheRehearsal, then saves what it compiled too; a rerun without it starts from nothing", () => {
    const topLevel = produce(dir);
    assert.equal(topLevel.stderr, "");
    flag("rehearse.on", true);
    const rehearsed = produce(dir);
    assert.equal(rehearsed.stderr, "");
    assert.ok(existsSync(join(dir, "rehearsed")), "the rehearsal ran");
    assert.ok(
      rehearsed.bytes > topLevel.bytes + 2_000,
      `the rehearsed function is in the cache: ${rehearsed.bytes} against ${topLevel.bytes} bytes`,
    );
    assert.equal(load(dir).line, "code cache used");
    flag("rehearse.on", false);
    const again = produce(dir);
    assert.ok(
      Math.abs(again.bytes - topLevel.bytes) < (rehearsed.bytes - topLevel.bytes) / 4,
      `not compiled from the earlier cache: ${again.bytes} bytes, ${topLevel.bytes} the first time`,
    );
  });

  it("CODE_CACHE_REHEARSAL=off saves the cache of the top level only", () => {
    flag("rehearse.on", true);
    rmSync(join(dir, "rehearsed"), { force: true });
    const rehearsed = produce(dir);
    const off = produce(dir, { CODE_CACHE_REHEARSAL: "off" });
    assert.equal(off.stderr, "");
    assert.ok(
      off.bytes < rehearsed.bytes - 2_000,
      `without the rehearsal: ${off.bytes} against ${rehearsed.bytes} bytes`,
    );
    rmSync(join(dir, "rehearsed"));
    produce(dir, { CODE_CACHE_REHEARSAL: "off" });
    assert.ok(!existsSync(join(dir, "rehearsed")), "the rehearsal did not run");
    assert.equal(load(dir).line, "code cache used");
    flag("rehearse.on", false);
  });

  it("a CODE_CACHE_REHEARSAL other than on or off is a warning that says what to set, and the rehearsal runs", () => {
    flag("rehearse.on", true);
    rmSync(join(dir, "rehearsed"), { force: true });
    const wrong = produce(dir, { CODE_CACHE_REHEARSAL: "false" });
    assert.equal(
      wrong.stderr.trim(),
      'CODE_CACHE_REHEARSAL="false" is not on or off: set it to off to save the cache of the top level only, or leave it unset; the rehearsal runs',
    );
    assert.ok(existsSync(join(dir, "rehearsed")), "the rehearsal ran");
    flag("rehearse.on", false);
  });

  it("a rehearsal that fails is a warning, and the cache of the top level is still made; the tests' deploy refuses it", () => {
    flag("rehearse.fails", true);
    rmSync(join(dir, "index.js.cache"), { force: true });
    const failed = produce(dir);
    assert.equal(
      failed.stderr.trim(),
      "code cache: the rehearsal failed (the cache holds the top level only): the loopback listeners could not start",
    );
    assert.equal(load(dir).line, "code cache used");
    assert.throws(
      () => makeCodeCache(dir),
      /code_cache\.cjs warned in .*\n.*the rehearsal failed .*: the loopback listeners could not start/,
    );
    flag("rehearse.fails", false);
  });
});

describe("the loader's latin1 read of an ASCII bundle", () => {
  const dir = mkdtempSync(join(tmpdir(), "vd-ascii-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("passes an ASCII bundle (esbuild escapes the rest) and stops the build on any other byte, saying how to fix it", async () => {
    const { build } = await import("esbuild");
    const source = join(dir, "source.js");
    writeFileSync(source, 'module.exports = "café ✓ 🚀";');
    const ascii = join(dir, "ascii.js");
    await build({ entryPoints: [source], outfile: ascii, format: "cjs", logLevel: "silent" });
    assertAscii(ascii, { readFileSync });
    // Read as latin1, the escaped bundle still yields the original text.
    const m = { exports: {} as unknown };
    new Function("module", readFileSync(ascii, "latin1"))(m);
    assert.equal(m.exports, "café ✓ 🚀");

    const utf8 = join(dir, "utf8.js");
    await build({
      entryPoints: [source],
      outfile: utf8,
      format: "cjs",
      charset: "utf8",
      logLevel: "silent",
    });
    assert.throws(
      () => assertAscii(utf8, { readFileSync }),
      /utf8\.js: byte \d+ is 0xc3, not ASCII; the code cache loader reads bundles as latin1 \(scripts\/code_cache_load\.mjs\), so build them with esbuild's default charset \("ascii"\)/,
    );
  });
});

// The built CLI (scripts/build-cli.mjs): one CommonJS bundle, dist/cli/main.cjs, that the
// bin loads with the V8 code cache made at build time. The cache only ever saves time: the
// output is the same when V8 uses it, rejects it (another Node, other bytes, other V8
// flags) or finds none, a call that could not use it leaves one it can, and a cache that
// cannot be made is a reason the build prints, not a failed build.
// The bin runs from a copy (bin/, dist/cli/, the loader), so corrupting the cache here
// never races another test that runs the repo's bin.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildCli, CLI_BUNDLE, makeCliCodeCache } from "../../scripts/build-cli.mjs";
import { FIXTURES, REPO_ROOT } from "../helpers/resolve_fixtures.js";

const copy = mkdtempSync(join(tmpdir(), "vd-cli-build-"));
const cache = join(copy, "dist", "cli", `${CLI_BUNDLE}.cache`);
const renderArgs = [
  "render",
  "--file",
  join(FIXTURES, "queues", "gpu-template.yaml"),
  "--message",
  join(FIXTURES, "messages", "template-vars.json"),
  "--project",
  "acme-ml",
];

/** Runs the copied bin; the first stderr line is what became of the code cache. */
function bin(args: string[], nodeOptions = "") {
  const r = spawnSync(process.execPath, [join(copy, "bin", "vertex-dispatch.mjs"), ...args], {
    env: { PATH: process.env.PATH ?? "", VD_CODE_CACHE_DEBUG: "1", NODE_OPTIONS: nodeOptions },
    encoding: "utf8",
  });
  const [cacheLine, ...rest] = r.stderr.split("\n");
  return { code: r.status, stdout: r.stdout, cacheLine, stderr: rest.join("\n") };
}

describe("the built CLI and its V8 code cache", () => {
  let reference: ReturnType<typeof bin>;
  before(async () => {
    await buildCli({ quiet: true });
    cpSync(join(REPO_ROOT, "dist", "cli"), join(copy, "dist", "cli"), { recursive: true });
    cpSync(join(REPO_ROOT, "bin"), join(copy, "bin"), { recursive: true });
    mkdirSync(join(copy, "scripts"));
    cpSync(
      join(REPO_ROOT, "scripts", "code_cache_load.mjs"),
      join(copy, "scripts", "code_cache_load.mjs"),
    );
    reference = bin(renderArgs);
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  it("the build makes a cache and the bin uses it, for --help and for render", () => {
    assert.ok(existsSync(cache), "no main.cjs.cache after the build");
    assert.equal(reference.cacheLine, "code cache used", reference.stderr);
    assert.equal(reference.code, 0, reference.stderr);
    assert.equal(JSON.parse(reference.stdout).parent, "projects/acme-ml/locations/us-central1");
    const help = bin(["--help"]);
    assert.equal(help.cacheLine, "code cache used");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: vertex-dispatch COMMAND/m);
  });

  it("under V8 flags the build's cache was not made with, the first call makes a cache for them", () => {
    const flags = "--max-old-space-size=300"; // a V8 flag: V8 refuses the build's cache
    const cacheFiles = () =>
      readdirSync(join(copy, "dist", "cli")).filter((f) => f.endsWith(".cache"));
    const first = bin(renderArgs, flags);
    assert.equal(first.cacheLine, "code cache rejected");
    assert.deepEqual({ ...first, cacheLine: "" }, { ...reference, cacheLine: "" });
    const made = cacheFiles().filter((f) => f !== `${CLI_BUNDLE}.cache`);
    assert.equal(made.length, 1, `one cache for the flags beside the build's: ${cacheFiles()}`);
    const second = bin(renderArgs, flags);
    assert.equal(second.cacheLine, "code cache used", second.stderr);
    assert.deepEqual({ ...second, cacheLine: "" }, { ...reference, cacheLine: "" });
    assert.equal(bin(["--help"]).cacheLine, "code cache used", "the build's cache, unchanged");
    // A Node flag that is not a V8 flag keeps the build's cache.
    assert.equal(bin(["--help"], "--no-warnings").cacheLine, "code cache used");
    rmSync(join(copy, "dist", "cli", made[0] as string));
  });

  it("a cache V8 rejects changes nothing but the time", () => {
    writeFileSync(cache, Buffer.from("not a V8 code cache"));
    const r = bin(renderArgs);
    assert.equal(r.cacheLine, "code cache rejected");
    assert.deepEqual({ ...r, cacheLine: "" }, { ...reference, cacheLine: "" });
    assert.equal(bin(renderArgs).cacheLine, "code cache used", "the call remade the cache");
  });

  it("without a cache the output is the same", () => {
    rmSync(cache, { force: true });
    const r = bin(renderArgs);
    assert.equal(r.cacheLine, "code cache missing");
    assert.deepEqual({ ...r, cacheLine: "" }, { ...reference, cacheLine: "" });
  });

  it("a bundle the warm-up cannot run gives the reason and no cache (the build then warns)", () => {
    const dir = mkdtempSync(join(tmpdir(), "vd-cli-broken-"));
    try {
      writeFileSync(join(dir, CLI_BUNDLE), 'throw new Error("a broken bundle");\n');
      const why = makeCliCodeCache(dir);
      assert.match(why ?? "", /a broken bundle/);
      assert.ok(!existsSync(join(dir, `${CLI_BUNDLE}.cache`)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// preload.cjs (scripts/framework_preload.mjs) gives a framework the packages its files
// require from one bundle, only when the bundle holds exactly what is installed, and
// otherwise leaves them to node_modules with a WARNING that says why. Checked on a small
// stand-in framework in a temporary package (the real one, deployed, is checked by
// test/integration/bundle_deployed.test.ts), each case in a fresh Node process run as
// Terraform runs a function: NODE_OPTIONS=--require ./preload.cjs, in the package.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as codeCache from "../../scripts/code_cache.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as preload from "../../scripts/framework_preload.mjs";

const { writeCodeCacheFiles, makeCodeCache } = codeCache as {
  writeCodeCacheFiles(dir: string): void;
  makeCodeCache(dir: string, nodeBin?: string, nodeOptions?: string): void;
};
const P = preload as {
  FRAMEWORK_SRC: string;
  PRELOAD_NODE_OPTION: string;
  PRELOAD_UNUSED: string;
  frameworkRequires(srcDir: string): string[];
  writeFrameworkPreload(
    dir: string,
    installRoot: string,
  ): Promise<{
    framework: { dir: string; version: string };
    requires: Record<string, string>;
    packages: Record<string, string>;
  }>;
};

function write(root: string, file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

function pkg(root: string, dir: string, version: string, index: string): void {
  write(root, `${dir}/package.json`, JSON.stringify({ name: dir.split("/").pop(), version }));
  write(root, `${dir}/index.js`, index);
}

// A framework whose main.js requires two packages (one with a dependency of its own), a
// module of Node's and one of its own files, and says where each package came from.
function standIn(root: string): void {
  const src = P.FRAMEWORK_SRC;
  write(root, `${dirname(dirname(src))}/package.json`, '{"name":"fw","version":"1.0.0"}');
  write(root, `${src}/own.js`, "module.exports = 'own';");
  write(
    root,
    `${src}/main.js`,
    `const alpha = require("alpha");
const gamma = require('gamma');
require("path"); require("node:fs"); require("./own");
// Node's Domain has enter(); the preload's (scripts/request_domain.mjs) has not.
const nodeDomain = typeof require("domain").Domain.prototype.enter === "function";
console.log(JSON.stringify({ alpha: alpha.file, beta: alpha.beta, gamma: gamma.file, square: gamma.square(9), nodeDomain }));`,
  );
  pkg(
    root,
    "node_modules/alpha",
    "1.2.3",
    'exports.file = __filename; exports.beta = require("beta");',
  );
  pkg(root, "node_modules/beta", "2.0.0", "module.exports = 'beta ' + 2;");
  pkg(
    root,
    "node_modules/gamma",
    "0.1.0",
    "module.exports = { file: __filename, square: (n) => n * n };",
  );
  // What code_cache.cjs runs first (any function bundle).
  write(root, "index.js", "module.exports = 1;");
}

/** The stand-in's main.js in a fresh process, with or without the preload. */
function start(root: string, withPreload = true) {
  const run = spawnSync(process.execPath, [join(root, P.FRAMEWORK_SRC, "main.js")], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      VD_CODE_CACHE_DEBUG: "1",
      NODE_OPTIONS: withPreload ? P.PRELOAD_NODE_OPTION : "",
    },
    encoding: "utf8",
  });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as Record<
    "alpha" | "beta" | "gamma" | "square" | "nodeDomain",
    unknown
  >;
  return { ...out, stderr: run.stderr.trim() };
}

const DOMAIN = ", its request domain on AsyncLocalStorage";
// All or nothing: the bundle's exports come with the request domain, the files with Node's.
const fromBundle = (o: Record<string, unknown>) =>
  [o.alpha, o.gamma].every((f) => String(f).endsWith("/framework_deps.cjs")) && !o.nodeDomain;
const fromFiles = (root: string, o: Record<string, unknown>) =>
  o.alpha === join(root, "node_modules/alpha/index.js") &&
  o.gamma === join(root, "node_modules/gamma/index.js") &&
  o.nodeDomain === true;

describe("the framework preload", () => {
  let root: string;
  let manifest: Awaited<ReturnType<typeof P.writeFrameworkPreload>>;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), "vd-preload-"));
    standIn(root);
    writeCodeCacheFiles(root);
    manifest = await P.writeFrameworkPreload(root, root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** A copy of the package to break one thing in. */
  const copy = () => {
    const dir = mkdtempSync(join(tmpdir(), "vd-preload-copy-"));
    cpSync(root, dir, { recursive: true });
    return dir;
  };
  const unused = (stderr: string) =>
    JSON.parse(stderr.split("\n")[0] ?? "") as { severity: string; message: string };

  it("bundles the packages the framework's files require, with every version it holds", () => {
    assert.deepEqual(P.frameworkRequires(join(root, P.FRAMEWORK_SRC)), ["alpha", "gamma"]);
    assert.deepEqual(manifest, {
      framework: { dir: "node_modules/@google-cloud/functions-framework", version: "1.0.0" },
      requires: { alpha: "node_modules/alpha/index.js", gamma: "node_modules/gamma/index.js" },
      packages: {
        "node_modules/alpha": "1.2.3",
        "node_modules/beta": "2.0.0",
        "node_modules/gamma": "0.1.0",
      },
    });
  });

  it("gives the framework the bundle's exports, which behave as the installed files do", () => {
    const without = start(root, false);
    assert.ok(fromFiles(root, without), JSON.stringify(without));
    const used = start(root);
    assert.ok(fromBundle(used), JSON.stringify(used));
    assert.equal(used.stderr, `framework preload used, its V8 cache missing${DOMAIN}`);
    assert.deepEqual([used.beta, used.square], [without.beta, without.square]);
    assert.deepEqual([used.beta, used.square], ["beta 2", 81]);
  });

  it("compiles the bundle with the V8 cache gcp-build makes", () => {
    const dir = copy();
    try {
      makeCodeCache(dir, process.execPath, "");
      assert.equal(start(dir).stderr, `framework preload used, its V8 cache used${DOMAIN}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const broken: Array<[string, (dir: string) => void, RegExp]> = [
    [
      "the framework installed at another version",
      (dir) =>
        write(
          dir,
          "node_modules/@google-cloud/functions-framework/package.json",
          '{"name":"fw","version":"1.0.1"}',
        ),
      /: node_modules\/@google-cloud\/functions-framework is 1\.0\.1, but preload\.cjs was built for 1\.0\.0; /,
    ],
    [
      "a bundled package installed at another version",
      (dir) => pkg(dir, "node_modules/beta", "2.0.1", "module.exports = 'beta ' + 2;"),
      /: node_modules\/beta is 2\.0\.1, but framework_deps\.cjs holds 2\.0\.0; /,
    ],
    [
      "a bundled package without its package.json",
      (dir) => rmSync(join(dir, "node_modules/beta/package.json")),
      /: node_modules\/beta is not installed \(no package\.json\), but framework_deps\.cjs holds 2\.0\.0; /,
    ],
    [
      "a name that resolves to another file (a copy nested in the framework)",
      (dir) =>
        pkg(
          dir,
          "node_modules/@google-cloud/functions-framework/node_modules/gamma",
          "0.1.0",
          "module.exports = { file: __filename, square: (n) => n * n };",
        ),
      /: gamma resolves to \S+\/functions-framework\/node_modules\/gamma\/index\.js, not to node_modules\/gamma\/index\.js; /,
    ],
    [
      "a bundle that throws",
      (dir) => writeFileSync(join(dir, "framework_deps.cjs"), "throw new Error('half a file');"),
      /: half a file; /,
    ],
    [
      "no bundle",
      (dir) => rmSync(join(dir, "framework_deps.cjs")),
      /: ENOENT: no such file or directory, open '\S+framework_deps\.cjs'; /,
    ],
  ];
  for (const [what, breakIt, why] of broken)
    it(`leaves the framework to node_modules, with a WARNING saying why, on ${what}`, () => {
      const dir = copy();
      try {
        breakIt(dir);
        const out = start(dir);
        if (what.includes("nested")) {
          assert.equal(out.nodeDomain, true);
          assert.equal(out.alpha, join(dir, "node_modules/alpha/index.js"));
          assert.match(String(out.gamma), /functions-framework\/node_modules\/gamma\/index\.js$/);
        } else assert.ok(fromFiles(dir, out), JSON.stringify(out));
        assert.equal(out.stderr.split("\n").length, 1, out.stderr);
        const line = unused(out.stderr);
        assert.equal(line.severity, "WARNING");
        assert.ok(line.message.startsWith(P.PRELOAD_UNUSED), line.message);
        assert.match(line.message, why);
        assert.match(line.message, /Deploy the package as `npm run build` made it/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
});

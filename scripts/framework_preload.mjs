// The Functions Framework's dependencies, preloaded from one bundle (issue 13: cold start).
//
// Before it loads the function, the framework's main.js requires express, body-parser,
// on-finished and minimist: 145 files of 67 packages, each resolved, read, compiled and wrapped by
// Node's module loader (85 ms of a cold start here on Node 20). So the build bundles those
// packages, from the install Cloud Build's `npm ci` makes of the package's own lockfile
// (scripts/deployed_install.mjs), into framework_deps.cjs; gcp-build makes its V8 code cache
// (scripts/code_cache.mjs); and preload.cjs, which Node requires before the framework's
// main.js (Terraform's NODE_OPTIONS `--require ./preload.cjs`, relative to the function's
// working directory, its package), runs the bundle and puts each package's exports in
// `require.cache` (which Node documents as open to added entries) under the file the
// framework's own `require` resolves to. The framework itself is neither bundled nor changed:
// its files load from node_modules as before, with its one function registry.
//
// Invariants:
// - The framework gets the code its lockfile installed: the bundle is used only when every
//   package in it is installed at the version it was bundled from (each package.json read)
//   and each required name resolves to the file it was bundled from. Otherwise preload.cjs
//   logs one WARNING saying why and what to do, and the framework requires its dependencies
//   from node_modules, as without a preload.
// - A preload never stops a start-up: any failure in it is that warning.
// - What is bundled is what the framework's files require (frameworkRequires reads them),
//   so a framework version that requires another package gets it bundled too.
// - The framework's per-request `domain` is replaced by one on AsyncLocalStorage
//   (scripts/request_domain.mjs) only when the framework is installed at the version the
//   build read its use of `domain` from, and the bundle was used: the preload is all or nothing.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import * as esbuild from "esbuild";
import { FRAMEWORK_DEPS_FILE } from "./code_cache.mjs";
import { assertAscii, compileWithCodeCache, loadCommonJs } from "./code_cache_load.mjs";
import { installRequestDomain } from "./request_domain.mjs";

export const PRELOAD_FILE = "preload.cjs";
/** What Terraform (and every local run of a deployed package) puts in NODE_OPTIONS. */
export const PRELOAD_NODE_OPTION = `--require ./${PRELOAD_FILE}`;
/** The start of the WARNING preload.cjs logs when it leaves the framework to node_modules. */
export const PRELOAD_UNUSED = "the framework preload was not used";
/** The framework's compiled sources, relative to a package root. */
export const FRAMEWORK_SRC = "node_modules/@google-cloud/functions-framework/build/src";
/** The framework's package directory, relative to a package root. */
const FRAMEWORK_DIR = dirname(dirname(FRAMEWORK_SRC));

const BUILTINS = new Set(builtinModules);
const ENTRY = "framework_deps_entry.cjs";

/** The packages the framework's own files require (not Node's modules, not its own files). */
export function frameworkRequires(srcDir) {
  const names = new Set();
  const visit = (dir) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) visit(path);
      else if (entry.endsWith(".js"))
        for (const [, name] of readFileSync(path, "utf8").matchAll(
          /require\(["']([^"'.][^"']*)["']\)/g,
        ))
          if (!name.startsWith("node:") && !BUILTINS.has(name)) names.add(name);
    }
  };
  visit(srcDir);
  return [...names].sort();
}

/** The package directory (relative, `node_modules/...`) a bundled file belongs to. */
function packageDirOf(input) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m ? m[1] : null;
}

/**
 * Bundles the framework's dependencies from `installRoot` (a package with node_modules, as
 * `npm ci` made it) into `outfile`. Returns the manifest preload.cjs checks: `framework`, the
 * framework's directory and version; `requires`, the file (relative to the package) each name
 * resolved to; and `packages`, the version of every package the bundle holds, by its directory.
 */
export async function bundleFrameworkDeps(installRoot, outfile) {
  const srcDir = join(installRoot, FRAMEWORK_SRC);
  const names = frameworkRequires(srcDir);
  const result = await esbuild.build({
    stdin: {
      // Resolved from the framework's own directory, as its `require` resolves them.
      contents: `module.exports = {${names.map((n) => `${JSON.stringify(n)}: require(${JSON.stringify(n)})`).join(", ")}};`,
      resolveDir: srcDir,
      sourcefile: ENTRY,
    },
    absWorkingDir: installRoot,
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    // CommonJS modules keep their own scopes in the bundle, so nothing is renamed.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "external",
    metafile: true,
    logLevel: "warning",
  });
  assertAscii(outfile, { readFileSync });
  const resolveFromFramework = createRequire(join(srcDir, ENTRY)).resolve;
  const requires = {};
  for (const name of names) requires[name] = relative(installRoot, resolveFromFramework(name));
  const packages = {};
  for (const input of Object.keys(result.metafile.inputs).sort()) {
    if (input.endsWith(ENTRY)) continue; // the entry above, not a package's file
    const dir = packageDirOf(input);
    if (dir && !(dir in packages)) packages[dir] = versionOf(installRoot, dir);
  }
  const framework = { dir: FRAMEWORK_DIR, version: versionOf(installRoot, FRAMEWORK_DIR) };
  return { framework, requires, packages };
}

const versionOf = (root, dir) =>
  JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")).version;

/**
 * preload.cjs: checks the manifest against the install, runs the bundle and replaces the
 * request domain (see above).
 */
export function preloadSource(manifest) {
  return `"use strict";
// Required before the Functions Framework's main.js (NODE_OPTIONS ${JSON.stringify(PRELOAD_NODE_OPTION)}):
// loads the framework's dependencies from ${FRAMEWORK_DEPS_FILE} and keeps its per-request domain on
// AsyncLocalStorage (scripts/framework_preload.mjs, scripts/request_domain.mjs).
(() => {
  const fs = require("node:fs");
  const path = require("node:path");
  const vm = require("node:vm");
  const Module = require("node:module");
  const compileWithCodeCache = ${compileWithCodeCache.toString()};
  const loadCommonJs = ${loadCommonJs.toString()};
  const installRequestDomain = ${installRequestDomain.toString()};
  const manifest = ${JSON.stringify(manifest)};
  const unused = (why) =>
    console.warn(JSON.stringify({ severity: "WARNING", message: ${JSON.stringify(`${PRELOAD_UNUSED}: `)} + why + ${JSON.stringify(`; the Functions Framework loads its dependencies from node_modules instead, and cold starts are slower. Deploy the package as \`npm run build\` made it (Cloud Build installs its package-lock.json with \`npm ci\`), or drop ${PRELOAD_NODE_OPTION} from NODE_OPTIONS.`)} }));
  try {
    const root = __dirname;
    const versionAt = (dir) => {
      try {
        return JSON.parse(fs.readFileSync(path.join(root, dir, "package.json"), "utf8")).version;
      } catch {
        return "not installed (no package.json)";
      }
    };
    const fw = manifest.framework;
    if (versionAt(fw.dir) !== fw.version)
      return unused(fw.dir + " is " + versionAt(fw.dir) + ", but preload.cjs was built for " + fw.version);
    for (const [dir, version] of Object.entries(manifest.packages))
      if (versionAt(dir) !== version)
        return unused(dir + " is " + versionAt(dir) + ", but ${FRAMEWORK_DEPS_FILE} holds " + version);
    const src = path.join(root, ${JSON.stringify(FRAMEWORK_SRC)});
    const files = {};
    for (const [name, file] of Object.entries(manifest.requires)) {
      files[name] = require.resolve(name, { paths: [src] });
      if (files[name] !== path.join(root, file))
        return unused(name + " resolves to " + files[name] + ", not to " + file);
    }
    const deps = { fs, vm, Module, path };
    const { exports, cache } = loadCommonJs(path.join(root, ${JSON.stringify(FRAMEWORK_DEPS_FILE)}), deps);
    // Before any require.cache entry: if this throws, the framework gets nothing of the preload.
    const { AsyncLocalStorage } = require("node:async_hooks");
    installRequestDomain({ AsyncLocalStorage, EventEmitter: require("node:events") }, process, require.cache);
    for (const [name, file] of Object.entries(files)) {
      const entry = new Module(file, null);
      entry.filename = file;
      entry.exports = exports[name];
      entry.loaded = true;
      require.cache[file] = entry;
    }
    if (process.env.VD_CODE_CACHE_DEBUG)
      console.error("framework preload used, its V8 cache " + cache + ", its request domain on AsyncLocalStorage");
  } catch (err) {
    unused(String((err && err.message) || err));
  }
})();
`;
}

/** Writes framework_deps.cjs (with its LEGAL.txt) and preload.cjs into a function package. */
export async function writeFrameworkPreload(dir, installRoot) {
  const manifest = await bundleFrameworkDeps(installRoot, join(dir, FRAMEWORK_DEPS_FILE));
  writeFileSync(join(dir, PRELOAD_FILE), preloadSource(manifest));
  return manifest;
}

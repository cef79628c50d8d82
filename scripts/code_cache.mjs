// A V8 code cache for each function bundle (issue 13: cold start). The package's main is
// start.cjs, which compiles index.js with index.js.cache when there is one. The cache is
// made at deploy time, by the package's `gcp-build` script (code_cache.cjs), which Cloud
// Build runs after `npm ci` with the runtime's own Node: it runs the bundle's module top
// level once (options parsed from a placeholder environment, the function registered; no
// client is made and nothing is sent), then the bundle's exported rehearsal when it has one
// (dispatch's: shared/dispatch/rehearse.ts runs a first delivery's steps against loopback
// listeners that refuse every request), and saves what V8 compiled for both: without the
// rehearsal, every function a first delivery calls is compiled from source at that delivery.
//
// start.cjs and code_cache.cjs embed the source of scripts/code_cache_load.mjs's functions,
// which the CLI bin uses too: one loader.
//
// Invariants: the zip stays deterministic (the cache is not in it: V8's cache bytes differ
// from run to run). The cache only ever saves work: V8 rejects a cache made by another V8
// version, for other source bytes or under other V8 flags, and start.cjs then compiles
// index.js as `require` would, with the same module wrapper arguments, and logs a warning
// (a rejected cache costs a cold start about 0.3 s here). A failure to make the cache is a
// warning, never a failed deploy (the function then starts without it).
//
// On Node 22.1 and later (the nodejs22 runtime), the producer also fills Node's on-disk
// compile cache (`module.enableCompileCache`) in COMPILE_CACHE_DIR with the Functions
// Framework's own modules (express, body-parser and the rest: about 150 files it loads
// before it loads start.cjs), by requiring the modules the framework's main.js requires.
// The runtime reads it because Terraform sets NODE_COMPILE_CACHE to the same directory,
// relative to the function's working directory (the package's, as at build). Node keys each
// entry by file, content and V8 flags, and ignores a miss; Node 20 has no compile cache and
// the producer then skips it.
//
// The flags: V8 accepts a cache only in a process whose V8 flags hash like the producer's,
// and the heap flags dispatch runs with (NODE_OPTIONS, Terraform `dispatch.node_options`)
// are V8 flags. So the producer runs under the runtime's NODE_OPTIONS, which the build
// receives as CODE_CACHE_NODE_OPTIONS (Terraform sets it in each function's
// build_config from the same value as the runtime's; not NODE_OPTIONS itself, which would
// also size the heap of the build's `npm ci`).
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileWithCodeCache, loadCommonJs } from "./code_cache_load.mjs";

// .cjs, not .js: the Functions Framework (5.0.5, build/src/loader.js isEsModule) takes a
// .cjs main for CommonJS at once; for a .js main it first imports read-package-up (and
// normalize-package-data, spdx-correct, ...) to read package.json's "type", on every cold
// start.
export const CODE_CACHE_MAIN = "start.cjs";
/** The framework's dependencies in one bundle (scripts/framework_preload.mjs makes it). */
export const FRAMEWORK_DEPS_FILE = "framework_deps.cjs";
export const CODE_CACHE_PRODUCER = "code_cache.cjs";
/** The package's gcp-build script. */
export const CODE_CACHE_BUILD = `node ${CODE_CACHE_PRODUCER}`;
/** Node's compile cache directory, in the package (Terraform's NODE_COMPILE_CACHE). */
export const COMPILE_CACHE_DIR = ".node-compile-cache";
/** What a bundle exports for the producer to run before saving its cache (dispatch's). */
export const REHEARSAL_EXPORT = "codeCacheRehearsal";
/** How long the producer waits for a rehearsal before saving the cache without the rest. */
export const REHEARSAL_TIMEOUT_MS = 30_000;
/** A build variable: "off" saves the cache of the top level only (to compare, or to bypass). */
export const REHEARSAL_SWITCH = "CODE_CACHE_REHEARSAL";

/** The producer's two kinds of warning (each line goes on to name what failed and why). */
const NOT_MADE = "not made (the function starts without it)";
const REHEARSAL_FAILED = "the rehearsal failed (the cache holds the top level only)";

/** What start.cjs logs (one JSON line on stderr) when V8 rejects the cache. */
export const REJECTED_WARNING =
  "the V8 code cache index.js.cache was rejected (made by another Node version, or under V8 flags other than this process's NODE_OPTIONS), so index.js was compiled from source and this cold start was slower; make the build's CODE_CACHE_NODE_OPTIONS equal the runtime's NODE_OPTIONS (Terraform does, from dispatch.node_options) and redeploy";

/** The producer's environment: valid values for every variable a function checks at start-up. */
export const PRODUCER_ENV = {
  GOOGLE_CLOUD_PROJECT: "build-code-cache",
  VERTEX_REGION: "us-central1",
  STATE_BUCKET: "build-code-cache-state",
  CONFIG_BUCKET: "build-code-cache-config",
  LAUNCH_TOPIC: "launch-jobs",
  STATUS_TOPIC: "launch-status",
  WEBHOOK_TOKEN: "build-code-cache-token",
  METADATA_SERVER_DETECTION: "none",
};

const LOADER = `"use strict";
// Loads index.js with the V8 code cache code_cache.cjs made at deploy (scripts/code_cache.mjs).
const { join } = require("node:path");
const compileWithCodeCache = ${compileWithCodeCache.toString()};
const file = join(__dirname, "index.js");
const { script, cache } = compileWithCodeCache(file, {
  fs: require("node:fs"),
  vm: require("node:vm"),
  Module: require("node:module"),
});
if (process.env.VD_CODE_CACHE_DEBUG) console.error("code cache " + cache);
if (cache === "rejected")
  console.warn(JSON.stringify({ severity: "WARNING", message: ${JSON.stringify(REJECTED_WARNING)} }));
script.runInThisContext().call(module.exports, module.exports, require, module, file, __dirname);
`;

const PRODUCER = `"use strict";
// gcp-build: runs index.js's module top level once and saves V8's code cache beside it.
const fs = require("node:fs");
const path = require("node:path");
// Valid values for every variable a function checks at start-up; never used to connect.
Object.assign(process.env, ${JSON.stringify(PRODUCER_ENV)});
const compileWithCodeCache = ${compileWithCodeCache.toString()};
const loadCommonJs = ${loadCommonJs.toString()};
// V8 accepts the cache only under the flags it was made with: make it under the runtime's.
const flags = process.env.CODE_CACHE_NODE_OPTIONS;
if (flags !== undefined && flags !== (process.env.NODE_OPTIONS ?? "")) {
  const child = require("node:child_process").spawnSync(process.execPath, [__filename], {
    stdio: "inherit",
    env: { ...process.env, NODE_OPTIONS: flags },
  });
  if (child.status !== 0)
    console.warn("code cache ${NOT_MADE}: under NODE_OPTIONS=" + JSON.stringify(flags) + " the producer exited " + (child.status ?? child.signal) + (child.error ? ": " + child.error.message : ""));
  process.exit(0);
}
const Module = require("node:module");
// Node >= 22.1: the framework's modules in Node's compile cache (read at run time through
// NODE_COMPILE_CACHE); enabled first, so the framework index the bundle requires is in it.
const compileCache = typeof Module.enableCompileCache === "function";
if (compileCache) Module.enableCompileCache(path.join(__dirname, ${JSON.stringify(COMPILE_CACHE_DIR)}));
// Runs a CommonJS file's top level once, then its exported ${REHEARSAL_EXPORT} if it has one
// and the build's ${REHEARSAL_SWITCH} is not "off"
// (the dispatch path against loopback listeners that refuse: shared/dispatch/rehearse.ts),
// and saves V8's code cache beside it: what V8 compiled for both. A failure is a warning, and
// the function then starts without that cache; a failed rehearsal, a cache of the top level.
// A cache left by an earlier run is removed first: compiled with it, the new one would keep
// what that run compiled (V8 keeps deserialized functions), so a rerun would not be a remake.
const makeCache = async (file, what) => {
  try {
    fs.rmSync(file + ".cache", { force: true });
    const { script, exports } = loadCommonJs(file, { fs, path, vm: require("node:vm"), Module });
    const rehearse = rehearsalOn() ? exports && exports.${REHEARSAL_EXPORT} : undefined;
    if (typeof rehearse === "function") await rehearsal(rehearse, what);
    fs.writeFileSync(file + ".cache", script.createCachedData());
  } catch (err) {
    console.warn(what + " ${NOT_MADE}: " + (err && err.stack || err));
  }
};
// ${REHEARSAL_SWITCH}: unset or "on" runs the rehearsal, "off" does not; any other value is a
// warning that says so, and the rehearsal runs (a deploy never fails on it).
const rehearsalOn = () => {
  const value = process.env.${REHEARSAL_SWITCH};
  if (value === undefined || value === "" || value === "on") return true;
  if (value === "off") return false;
  console.warn("${REHEARSAL_SWITCH}=" + JSON.stringify(value) + " is not on or off: set it to off to save the cache of the top level only, or leave it unset; the rehearsal runs");
  return true;
};
const rehearsal = (rehearse, what) => {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("it did not end within ${REHEARSAL_TIMEOUT_MS} ms")), ${REHEARSAL_TIMEOUT_MS});
  });
  return Promise.race([rehearse(), late])
    .catch((err) => console.warn(what + ": ${REHEARSAL_FAILED}: " + (err && err.message || err)))
    .finally(() => clearTimeout(timer));
};
const produce = async () => {
  await makeCache(path.join(__dirname, "index.js"), "code cache");
  // The framework's dependencies, which preload.cjs loads from one bundle (framework_preload.mjs).
  const frameworkDeps = path.join(__dirname, ${JSON.stringify(FRAMEWORK_DEPS_FILE)});
  if (fs.existsSync(frameworkDeps)) await makeCache(frameworkDeps, "the framework preload's code cache");
  if (compileCache) frameworkCompileCache();
  process.exit(0); // a module may have opened a handle; the caches are written
};
const frameworkCompileCache = () => {
  try {
    // What the framework's main.js requires (./loader, ./server, ...), not main.js itself,
    // which would start a server.
    const src = path.dirname(require.resolve("@google-cloud/functions-framework", { paths: [__dirname] }));
    const main = fs.readFileSync(path.join(src, "main.js"), "utf8");
    for (const [, name] of main.matchAll(/require\\("\\.\\/([\\w-]+)"\\)/g)) require(path.join(src, name + ".js"));
    Module.flushCompileCache?.();
  } catch (err) {
    console.warn("the framework's compile cache ${NOT_MADE}: " + (err && err.stack || err));
  }
};
produce();
`;

/** Writes start.cjs and code_cache.cjs into a function package. */
export function writeCodeCacheFiles(dir) {
  writeFileSync(join(dir, CODE_CACHE_MAIN), LOADER);
  writeFileSync(join(dir, CODE_CACHE_PRODUCER), PRODUCER);
}

/**
 * What Cloud Build's gcp-build does, for a deployed copy (its framework installed), with the
 * build's CODE_CACHE_NODE_OPTIONS: the NODE_OPTIONS the function will run with. Stricter than
 * a deploy: a producer warning (a cache or a rehearsal that failed) is an error here.
 */
export function makeCodeCache(appDir, nodeBin = process.execPath, nodeOptions = "", buildEnv = {}) {
  const run = spawnSync(nodeBin, [CODE_CACHE_PRODUCER], {
    cwd: appDir,
    env: { PATH: process.env.PATH, CODE_CACHE_NODE_OPTIONS: nodeOptions, ...buildEnv },
    encoding: "utf8",
    timeout: 180_000,
  });
  if (run.status !== 0 || !existsSync(join(appDir, "index.js.cache")))
    throw new Error(
      `code cache: ${CODE_CACHE_PRODUCER} made no cache in ${appDir}:\n${run.stderr}`,
    );
  if ([NOT_MADE, REHEARSAL_FAILED].some((warning) => run.stderr?.includes(warning)))
    throw new Error(`code cache: ${CODE_CACHE_PRODUCER} warned in ${appDir}:\n${run.stderr}`);
}

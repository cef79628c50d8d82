// A V8 code cache for each function bundle (issue 13: cold start). The package's main is
// start.js, which compiles index.js with index.js.cache when there is one. The cache is
// made at deploy time, by the package's `gcp-build` script (code_cache.cjs), which Cloud
// Build runs after `npm ci` with the runtime's own Node: it runs the bundle's module top
// level once (options parsed from a placeholder environment, the function registered; no
// client is made and nothing is sent) and saves what V8 compiled.
//
// start.js and code_cache.cjs embed the source of scripts/code_cache_load.mjs's functions,
// which the CLI bin uses too: one loader.
//
// Invariants: the zip stays deterministic (the cache is not in it: V8's cache bytes differ
// from run to run). The cache only ever saves work: V8 rejects a cache made by another V8
// version or for other source bytes, and start.js then compiles index.js as `require`
// would, with the same module wrapper arguments. A failure to make the cache is a warning,
// never a failed deploy (the function then starts without it).
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileWithCodeCache, loadCommonJs } from "./code_cache_load.mjs";

export const CODE_CACHE_MAIN = "start.js";
export const CODE_CACHE_PRODUCER = "code_cache.cjs";
/** The package's gcp-build script. */
export const CODE_CACHE_BUILD = `node ${CODE_CACHE_PRODUCER}`;

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
script.runInThisContext().call(module.exports, module.exports, require, module, file, __dirname);
`;

const PRODUCER = `"use strict";
// gcp-build: runs index.js's module top level once and saves V8's code cache beside it.
const fs = require("node:fs");
const path = require("node:path");
// Valid values for every variable a function checks at start-up; never used to connect.
Object.assign(process.env, ${JSON.stringify({
  GOOGLE_CLOUD_PROJECT: "build-code-cache",
  VERTEX_REGION: "us-central1",
  STATE_BUCKET: "build-code-cache-state",
  CONFIG_BUCKET: "build-code-cache-config",
  LAUNCH_TOPIC: "launch-jobs",
  STATUS_TOPIC: "launch-status",
  WEBHOOK_TOKEN: "build-code-cache-token",
  METADATA_SERVER_DETECTION: "none",
})});
const compileWithCodeCache = ${compileWithCodeCache.toString()};
const loadCommonJs = ${loadCommonJs.toString()};
const file = path.join(__dirname, "index.js");
try {
  const { script } = loadCommonJs(file, { fs, path, vm: require("node:vm"), Module: require("node:module") });
  fs.writeFileSync(file + ".cache", script.createCachedData());
} catch (err) {
  console.warn("code cache not made (the function starts without it): " + (err && err.stack || err));
}
process.exit(0); // a module may have opened a handle; the cache is written
`;

/** Writes start.js and code_cache.cjs into a function package. */
export function writeCodeCacheFiles(dir) {
  writeFileSync(join(dir, CODE_CACHE_MAIN), LOADER);
  writeFileSync(join(dir, CODE_CACHE_PRODUCER), PRODUCER);
}

/** What Cloud Build's gcp-build does, for a deployed copy (its framework installed). */
export function makeCodeCache(appDir, nodeBin = process.execPath) {
  const run = spawnSync(nodeBin, [CODE_CACHE_PRODUCER], {
    cwd: appDir,
    env: { PATH: process.env.PATH },
    encoding: "utf8",
    timeout: 180_000,
  });
  if (run.status !== 0 || !existsSync(join(appDir, "index.js.cache")))
    throw new Error(
      `code cache: ${CODE_CACHE_PRODUCER} made no cache in ${appDir}:\n${run.stderr}`,
    );
}

// A V8 code cache for a function bundle (issue 13: cold start). `npm run build` runs each
// bundle once at build time (its module top level only: options parsed from a placeholder
// environment, the function registered; no client is made, no request sent), then saves
// what V8 compiled as index.js.cache. The package's main becomes start.js, which compiles
// index.js with that cache, so a cold instance skips most parsing and compiling.
//
// Invariant: the cache only ever saves work. V8 rejects a cache made by another V8 version
// or for other source bytes (then start.js compiles index.js as plain `require` would), and
// start.js runs index.js with the same module wrapper arguments Node gives a CommonJS file.
// A cache made by this machine's Node (20 here) is rejected by the nodejs22 runtime.
import { spawnSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const CODE_CACHE_MAIN = "start.js";

/** start.js: compiles index.js with index.js.cache when V8 accepts it. */
const LOADER = `"use strict";
// Loads index.js with the V8 code cache made at build time (scripts/code_cache.mjs).
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const Module = require("node:module");
const vm = require("node:vm");
const file = join(__dirname, "index.js");
let cachedData;
try {
  cachedData = readFileSync(file + ".cache");
} catch {}
const script = new vm.Script(Module.wrap(readFileSync(file, "utf8")), {
  filename: file,
  cachedData,
  importModuleDynamically: vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (process.env.VD_CODE_CACHE_DEBUG) console.error("code cache " + (cachedData ? (script.cachedDataRejected ? "rejected" : "used") : "missing"));
script.runInThisContext().call(module.exports, module.exports, require, module, file, __dirname);
`;

/** Run in a child process at build time: executes the bundle's top level, writes the cache. */
const PRODUCER = `
const { readFileSync, writeFileSync } = require("node:fs");
const Module = require("node:module");
const vm = require("node:vm");
const file = process.argv[1];
const script = new vm.Script(Module.wrap(readFileSync(file, "utf8")), { filename: file });
const m = new Module(file, module);
m.filename = file;
m.paths = Module._nodeModulePaths(require("node:path").dirname(file));
script.runInThisContext().call(m.exports, m.exports, Module.createRequire(file), m, file, require("node:path").dirname(file));
writeFileSync(file + ".cache", script.createCachedData());
process.exit(0); // a module may have opened a handle; the cache is written
`;

/** Valid values for every variable a function checks at start-up; never used to connect. */
const PLACEHOLDER_ENV = {
  GOOGLE_CLOUD_PROJECT: "build-code-cache",
  VERTEX_REGION: "us-central1",
  STATE_BUCKET: "build-code-cache-state",
  CONFIG_BUCKET: "build-code-cache-config",
  LAUNCH_TOPIC: "launch-jobs",
  STATUS_TOPIC: "launch-status",
  WEBHOOK_TOKEN: "build-code-cache-token",
  METADATA_SERVER_DETECTION: "none",
};

/** Writes dir/index.js.cache and dir/start.js; returns the cache's size in bytes. */
export function writeCodeCache(dir) {
  const bundle = join(dir, "index.js");
  const run = spawnSync(process.execPath, ["-e", PRODUCER, bundle], {
    env: { PATH: process.env.PATH, ...PLACEHOLDER_ENV },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (run.status !== 0)
    throw new Error(
      `code cache: running ${bundle}'s top level failed (status ${run.status}); fix the bundle or PLACEHOLDER_ENV in scripts/code_cache.mjs:\n${run.stderr}`,
    );
  writeFileSync(join(dir, CODE_CACHE_MAIN), LOADER);
  return statSync(`${bundle}.cache`).size;
}

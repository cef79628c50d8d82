#!/usr/bin/env node
// The `vertex-dispatch` command. It runs the CLI as built JavaScript: dist/cli/main.cjs,
// one CommonJS bundle made by scripts/build-cli.mjs on `npm ci` (the `prepare` script),
// compiled with the V8 code cache made beside it at the same time, so a call neither
// transpiles TypeScript nor recompiles what the cache holds. If the build is missing
// (e.g. `npm ci --ignore-scripts`), it is made once, here, with the esbuild that npm ci
// installed. VD_CODE_CACHE_DEBUG=1 prints whether the cache was used.
//
// V8 uses a code cache only under the Node and the V8 flags it was made with. The build's
// (main.cjs.cache) is made with no flags, so a call under NODE_OPTIONS such as
// --max-old-space-size=4096, which V8 refuses it to, makes its own after its command,
// main.cjs.<key>.cache (key: the Node version and the flags), and later calls with those
// flags use it. A call with no flags whose cache is missing or rejected (another Node)
// remakes main.cjs.cache the same way. Saving is best effort (a read-only install keeps
// compiling from source) and never changes what the command does.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import Module from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { loadCommonJs } from "../scripts/code_cache_load.mjs";

const built = fileURLToPath(new URL("../dist/cli/main.cjs", import.meta.url));
if (!fs.existsSync(built)) {
  process.stderr.write("vertex-dispatch: building the CLI into dist/cli/ (once)...\n");
  const { buildCli } = await import("../scripts/build-cli.mjs");
  await buildCli({ quiet: true });
}
const flags = [process.env.NODE_OPTIONS ?? "", ...process.execArgv].join(" ").trim();
const key = createHash("sha256").update(`${process.version} ${flags}`).digest("hex");
const flagsCache = flags ? `${built}.${key.slice(0, 12)}.cache` : `${built}.cache`;
const cacheFile = fs.existsSync(flagsCache) ? flagsCache : `${built}.cache`;
const { exports, cache, script } = loadCommonJs(built, { fs, vm, Module, path }, cacheFile);
if (process.env.VD_CODE_CACHE_DEBUG) process.stderr.write(`code cache ${cache}\n`);
let interrupts = 0;
// Ctrl-C: a command that cleans up (a temporary subscription, the local stack) registers
// its own handler and finishes; a second Ctrl-C, or one during a command with nothing to
// clean up, ends the process at once with 130.
process.on("SIGINT", () => {
  interrupts++;
  if (interrupts > 1 || process.listenerCount("SIGINT") === 1) process.exit(130);
});
process.exitCode = await exports.main(process.argv.slice(2), process.env);
if (cache !== "used") saveCodeCache();

/** Writes what V8 compiled in this call as the cache for these flags (atomically; best effort). */
function saveCodeCache() {
  const tmp = `${flagsCache}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, script.createCachedData());
    fs.renameSync(tmp, flagsCache);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    if (process.env.VD_CODE_CACHE_DEBUG) process.stderr.write(`code cache not saved: ${err}\n`);
  }
}

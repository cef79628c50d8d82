#!/usr/bin/env node
// Bundles the `vertex-dispatch` CLI (cli/main.ts and everything it imports from shared/
// and local/) into dist/cli/ with esbuild, so the bin runs plain JavaScript and never
// transpiles TypeScript per call. npm packages stay external (resolved from node_modules
// at run time, as the sources do); commands are split into chunks loaded on use, so
// `--help` loads only the command table.
//
// Invariant: dist/cli/ sits two levels below the repo root, like cli/*.ts and local/*/*.ts,
// so paths the sources build from import.meta.url (../../shared/data, the repo root for
// the local functions) resolve to the same files from the bundle.
//
// Run by `npm ci` / `npm install` (the `prepare` script) and by `npm run build`
// (scripts/build.mjs imports buildCli). Writes atomically: outputs go to a temporary
// folder that replaces dist/cli/ in one rename, so a concurrent run never sees half a build.
import { mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Builds dist/cli/ (main.js and its chunks); returns the output folder. */
export async function buildCli({ root = ROOT, quiet = false } = {}) {
  const { build } = await import("esbuild");
  const outDir = join(root, "dist", "cli");
  const tmpDir = join(root, "dist", `.cli-${process.pid}-${Date.now()}`);
  mkdirSync(tmpDir, { recursive: true });
  try {
    await build({
      entryPoints: { main: join(root, "cli", "main.ts") },
      outdir: tmpDir,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node20",
      packages: "external",
      sourcemap: "linked",
      logLevel: quiet ? "silent" : "warning",
      outExtension: { ".js": ".js" },
      chunkNames: "[name]-[hash]",
    });
    const old = `${outDir}.old-${process.pid}-${Date.now()}`;
    try {
      renameSync(outDir, old);
    } catch {
      // no previous build
    }
    renameSync(tmpDir, outDir);
    rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  }
  return outDir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const out = await buildCli();
  console.log(`vertex-dispatch CLI built into ${out} in ${Date.now() - started} ms`);
}

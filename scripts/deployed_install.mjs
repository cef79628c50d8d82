// A function package's node_modules as Cloud Build's `npm ci` makes them from the package's
// own package-lock.json: installed once per lockfile into a cache directory, then reused.
// The build bundles the framework's dependencies from it (scripts/framework_preload.mjs),
// and the tests copy it into each locally deployed package (test/helpers/bundles.ts), so
// both see exactly what the lockfile pins, never the repo's own node_modules.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";

/** Runs a command to its end in `cwd`; throws with its output when it fails. */
export function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${r.stdout}\n${r.stderr}`);
}

/**
 * The key of a lockfile's install: its hash without the package's own name, which is all
 * that differs between the functions' lockfiles (they install the same tree once).
 */
export function installKey(lockText) {
  const lock = JSON.parse(lockText);
  delete lock.name;
  if (lock.packages?.[""]) delete lock.packages[""].name;
  return createHash("sha256").update(JSON.stringify(lock)).digest("hex").slice(0, 16);
}

/**
 * The directory holding `node_modules` as `npm ci --omit=dev` makes it for packageDir's
 * package.json and package-lock.json; `cacheDir/framework-<installKey>`.
 */
export function installedPackage(packageDir, cacheDir) {
  const key = installKey(readFileSync(join(packageDir, "package-lock.json"), "utf8"));
  const done = join(cacheDir, `framework-${key}`);
  if (existsSync(join(done, "node_modules"))) return done;
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, "framework-tmp-"));
  cpSync(join(packageDir, "package.json"), join(work, "package.json"));
  cpSync(join(packageDir, "package-lock.json"), join(work, "package-lock.json"));
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  run(npm, ["ci", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"], work);
  try {
    renameSync(work, done);
  } catch {
    rmSync(work, { recursive: true, force: true }); // another run got there first
  }
  return done;
}

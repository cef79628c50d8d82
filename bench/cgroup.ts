// A memory cgroup for the bench's function processes, as Cloud Run confines an instance to
// its memory (Node sizes its V8 heap from the memory it may use, so a process on a 24 GB
// machine collects garbage unlike one in a 512 MiB instance). Making one needs root and a
// writable cgroup file system; the callers say what to do where that fails.
import { chmodSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A memory cgroup of `mb` (v2 when the unified hierarchy has the memory controller, else v1):
 * the `cgroup.procs` file a process joins by writing its pid, and its removal (once empty).
 */
export function memoryCgroup(mb: number, root = "/sys/fs/cgroup", name = "vd-bench") {
  const bytes = String(mb * 1024 * 1024);
  let v2 = false;
  try {
    v2 = readFileSync(join(root, "cgroup.controllers"), "utf8").split(/\s+/).includes("memory");
  } catch {
    // not a v2 hierarchy
  }
  const dir = v2 ? join(root, name) : join(root, "memory", name);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, v2 ? "memory.max" : "memory.limit_in_bytes"), bytes);
  } catch (err) {
    throw new Error(
      `could not make a ${mb} MB memory cgroup at ${dir} (${(err as Error).message}); run as root on a machine with a writable cgroup file system`,
    );
  }
  const remove = () => {
    try {
      rmdirSync(dir);
    } catch {
      // still in use (another bench) or already gone: left for the next run to reuse
    }
  };
  return { procs: join(dir, "cgroup.procs"), remove };
}

/**
 * Replaces the deployed package's `functions-framework` bin with a script that joins the
 * cgroup, then execs Node on the framework's main (the same pid: the bench reads /proc of it).
 */
export function confine(app: string, procs: string, nodeBin = "node"): void {
  const bin = join(app, "node_modules", ".bin", "functions-framework");
  const main = join(
    app,
    "node_modules",
    "@google-cloud",
    "functions-framework",
    "build",
    "src",
    "main.js",
  );
  rmSync(bin, { force: true });
  writeFileSync(bin, `#!/bin/bash\n${confinedCommand(procs, `${nodeBin} ${main} "$@"`)}\n`);
  chmodSync(bin, 0o755);
}

/** A command line that joins the cgroup, then execs `command` (bash keeps the pid). */
export function confinedCommand(procs: string, command: string): string {
  return `echo $$ > ${procs}; exec ${command}`;
}

#!/usr/bin/env node
// Runs every test file under test/ with Node's own test runner and tsx, three files at a time.
// `node scripts/test.mjs unit` runs only test/unit; any other word is a folder under test/.
//
// scripts/test_run.mjs starts files in the order given, so the longest go first
// (SLOW_FIRST, then the rest in path order): a long file started last runs alone at the end
// while the other slots sit idle. wandb_sdk.test.ts leads because on a fresh clone it first
// installs W&B's client into a venv (about 3 minutes of waiting on the package index, little
// CPU). This removed the idle tail; a third slot (scripts/test_run.mjs) then used the time
// the files spend waiting (README, "The suite's time on 2 cores").
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

/** The longest files (seconds in a fresh-clone run, 2026-12-01), longest first. */
const SLOW_FIRST = [
  "test/integration/wandb_sdk.test.ts", // ~180 s on a fresh clone (the venv install)
  "test/chaos/chaos.test.ts", // 117 s
  "test/integration/dispatch_exactly_once.test.ts", // 76 s
  "test/integration/bundle_deployed.test.ts", // 73 s
  "test/integration/stack_cli.test.ts", // 70 s
  "test/chaos/shutdown.test.ts", // 60 s
  "test/integration/bridge.test.ts", // 40 s
  "test/integration/gcs_gcloud.test.ts", // 35 s
];

/** `files` with SLOW_FIRST's in front, in its order; a stale entry fails loudly. */
function slowFirst(files) {
  const slow = SLOW_FIRST.filter((f) => files.includes(f));
  const missing = SLOW_FIRST.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    console.error(
      `scripts/test.mjs: SLOW_FIRST names ${missing.join(", ")}, which do not exist; update it`,
    );
    process.exit(1);
  }
  return [...slow, ...files.filter((f) => !slow.includes(f))];
}

const only = process.argv[2];
const files = slowFirst(collect(only ? join("test", only) : "test"));
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
const runner = join(dirname(fileURLToPath(import.meta.url)), "test_run.mjs");
const result = spawnSync(process.execPath, ["--import", "tsx", runner, ...files], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);

#!/usr/bin/env node
// `npm run bench` (SPEC §12, issue 13; not part of npm test): runs bench/main.ts under tsx.
// It builds dist/ if stale, starts the emulators itself, measures and writes
// bench/results.json. Arguments pass through (e.g. `npm run bench -- --phases cold,cli`).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = spawnSync(
  process.execPath,
  ["--import", "tsx", join(root, "bench", "main.ts"), ...process.argv.slice(2)],
  { cwd: root, stdio: "inherit" },
);
process.exit(run.status ?? 1);

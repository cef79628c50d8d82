#!/usr/bin/env node
// `npm run chaos -- --launches N`: the chaos suite (test/chaos/cli.ts) under tsx, so it runs
// the TypeScript sources exactly as the tests do. Every argument is passed through.
import { spawnSync } from "node:child_process";

const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "test/chaos/cli.ts", ...process.argv.slice(2)],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);

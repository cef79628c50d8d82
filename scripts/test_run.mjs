#!/usr/bin/env node
// The test run itself, started by scripts/test.mjs as `node --import tsx scripts/test_run.mjs
// <files>`: Node's test runner over exactly those files, three at a time, started in the order
// given (the CLI's `node --test <files>` sorts them by path; the run() API keeps the order),
// with the spec reporter on stdout. Each file runs in its own process, which inherits this
// process's `--import tsx`. Exits 1 if any test failed.
import { run } from "node:test";
import { spec } from "node:test/reporters";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("scripts/test_run.mjs: no test files given");
  process.exit(1);
}
// Three, on 2 cores: a file spends much of its time waiting (emulator boots, leases,
// redelivery backoff, the venv install), and two at a time kept the cores about 60% busy;
// three took a fresh clone's test run from 446-462 s to 342-376 s (README, "The suite's
// time on 2 cores"). Every test waits on conditions, so more load changes no outcome.
const stream = run({ files, concurrency: 3 });
stream.on("test:fail", () => {
  process.exitCode = 1;
});
stream.compose(spec).pipe(process.stdout);

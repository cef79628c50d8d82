#!/usr/bin/env node
// The test run itself, started by scripts/test.mjs as `node --import tsx scripts/test_run.mjs
// <files>`: Node's test runner over exactly those files, two at a time, started in the order
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
const stream = run({ files, concurrency: 2 });
stream.on("test:fail", () => {
  process.exitCode = 1;
});
stream.compose(spec).pipe(process.stdout);

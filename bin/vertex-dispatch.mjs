#!/usr/bin/env node
// The `vertex-dispatch` command. It runs the CLI as built JavaScript (dist/cli/, bundled by
// scripts/build-cli.mjs on `npm ci`, through the `prepare` script), so a call never
// transpiles TypeScript. If the build is missing (e.g. `npm ci --ignore-scripts`), it is
// made once, here, with the esbuild that npm ci installed.
import { existsSync } from "node:fs";

const built = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(built)) {
  process.stderr.write("vertex-dispatch: building the CLI into dist/cli/ (once)...\n");
  const { buildCli } = await import("../scripts/build-cli.mjs");
  await buildCli({ quiet: true });
}
const { main } = await import(built.href);
let interrupts = 0;
// Ctrl-C: a command that cleans up (a temporary subscription, the local stack) registers
// its own handler and finishes; a second Ctrl-C, or one during a command with nothing to
// clean up, ends the process at once with 130.
process.on("SIGINT", () => {
  interrupts++;
  if (interrupts > 1 || process.listenerCount("SIGINT") === 1) process.exit(130);
});
process.exitCode = await main(process.argv.slice(2), process.env);

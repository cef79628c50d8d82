// local/stack/functions.ts forwardLines: a child's output reaches onLine as whole lines, even
// when a line arrives in two chunks (what made a deployed-bundle test see "code cache u"
// and "sed" instead of "code cache used" under Node 22's long debug output).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { it } from "node:test";
import { forwardLines } from "../../local/stack/functions.js";

it("joins a line written in two chunks, from stdout and stderr, and drops blank lines", async () => {
  // The second half is written only after the parent has read the first (it says so on
  // stdin), so the two halves are two chunks for certain.
  const script = `
    process.stderr.write("code cache u");
    process.stdin.once("data", () => { process.stderr.write("sed\\n\\n"); process.stdout.write("out line\\n"); process.exit(0); });`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  child.stderr.once("data", () => child.stdin.write("go\n"));
  forwardLines(child, (line) => lines.push(line));
  await once(child, "close");
  assert.deepEqual(lines.sort(), ["code cache used", "out line"]);
});

// A build is reused while its inputs hash the same (scripts/build.mjs isFresh), so every file
// that changes what the build makes must be hashed: the bundle's inputs (esbuild's metafile)
// and the build's own modules (BUILD_FILES). A script the build imports but does not list
// would let a change to it ship a stale bundle; this test follows the imports to find one.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { BUILD_FILES } from "../../scripts/build.mjs";

const ROOT = join(import.meta.dirname, "..", "..");

/** The scripts/ modules a script imports, directly or through another. */
function localImports(file: string, seen = new Set<string>()): Set<string> {
  seen.add(file);
  const source = readFileSync(join(ROOT, file), "utf8");
  for (const [, spec] of source.matchAll(/from "\.\/([\w.-]+\.mjs)"/g)) {
    const next = `scripts/${spec}`;
    if (!seen.has(next)) localImports(next, seen);
  }
  return seen;
}

it("hashes every module of the build", () => {
  const imported = [...localImports("scripts/build.mjs")].sort();
  assert.ok(imported.length > 5, `found only ${imported.join(", ")}: the import pattern broke`);
  const missing = imported.filter((f) => !BUILD_FILES.includes(f));
  assert.deepEqual(missing, [], `add ${missing.join(", ")} to BUILD_FILES in scripts/build.mjs`);
});

// dist/functions/sizes.json after a partial build (test/helpers/bundles.ts ensureBuilt
// rebuilds only stale functions): the other functions' sizes are kept while their
// packages are still there, dropped once a function or its package is gone.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { keptSizes } from "../../scripts/build.mjs";

const dir = mkdtempSync(join(tmpdir(), "vd-sizes-"));
after(() => rmSync(dir, { recursive: true, force: true }));

it("keeps the sizes of functions still built, drops the rest", () => {
  const size = (n: number) => ({ bundle_bytes: n, package_bytes: n + 1, zip_bytes: n + 2 });
  const file = join(dir, "sizes.json");
  writeFileSync(
    file,
    JSON.stringify({ limit_bytes: 1, functions: { a: size(1), b: size(2), c: size(3) } }),
  );
  for (const name of ["a", "c"]) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "index.js"), "");
  }
  // b's package is gone; c is no longer a function.
  assert.deepEqual(keptSizes(file, ["a", "b", "d"]), { a: size(1) });
  assert.deepEqual(keptSizes(join(dir, "missing.json"), ["a"]), {});
});

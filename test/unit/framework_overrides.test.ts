// scripts/framework_overrides.mjs: the versions pinned in the deployed package.json stay inside
// every range the framework's tree declares, or the build fails saying what to change.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as overrides from "../../scripts/framework_overrides.mjs";

const { checkOverrides, FRAMEWORK_OVERRIDES } = overrides as {
  checkOverrides(lock: object, pins?: Record<string, string>): string[];
  FRAMEWORK_OVERRIDES: Record<string, string>;
};

/** A lockfile with get-intrinsic at `installed` and two packages asking for it. */
function lock(installed: string | undefined, ranges: string[]) {
  const packages: Record<string, object> = {
    "": { dependencies: { "@google-cloud/functions-framework": "5.0.5" } },
  };
  if (installed) packages["node_modules/get-intrinsic"] = { version: installed };
  ranges.forEach((range, i) => {
    packages[`node_modules/dependent-${i}`] = {
      version: "1.0.0",
      dependencies: { "get-intrinsic": range },
    };
  });
  return { lockfileVersion: 3, packages };
}

describe("the framework's overrides", () => {
  it("pins get-intrinsic 1.3.0", () => {
    assert.deepEqual(FRAMEWORK_OVERRIDES, { "get-intrinsic": "1.3.0" });
  });

  it("accept a tree where every dependent's range holds the pinned version", () => {
    assert.deepEqual(checkOverrides(lock("1.3.0", ["^1.3.0", "^1.2.4", ">=1.1 <2"])), []);
  });

  it("name the dependent whose range the pin leaves, and what to do", () => {
    const [problem, ...rest] = checkOverrides(lock("1.3.0", ["^1.2.5", "^1.3.1"]));
    assert.equal(rest.length, 0);
    assert.match(
      problem ?? "",
      /node_modules\/dependent-1 asks for \^1\.3\.1, which 1\.3\.0 does not satisfy; update or drop the override in scripts\/framework_overrides\.mjs/,
    );
  });

  it("name a lockfile that does not hold the pinned version", () => {
    assert.match(
      checkOverrides(lock("1.3.1", []))[0] ?? "",
      /holds 1\.3\.1, not the override 1\.3\.0/,
    );
    assert.match(
      checkOverrides(lock(undefined, []))[0] ?? "",
      /holds no copy, not the override 1\.3\.0; drop the override/,
    );
  });
});

// scripts/request_domain.mjs's domain (what preload.cjs gives the Functions Framework) against
// Node's own: each case of test/helpers/domain_cases.cjs runs in a fresh process under both,
// and both must print the same and exit the same, as written here. The real framework under
// both is test/integration/request_domain.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT } from "../helpers/bundles.js";

const CASES = join(ROOT, "test", "helpers", "domain_cases.cjs");

/** Exit code, stdout's lines (sorted: timers and immediates may interleave) and the error. */
function run(mode: "node" | "preload", kase: string) {
  const r = spawnSync(process.execPath, [CASES, mode, kase], { encoding: "utf8" });
  const errors = r.stderr.split("\n").filter((l) => /^Error: /.test(l));
  return { exit: r.status, out: r.stdout.trim().split("\n").filter(Boolean).sort(), errors };
}

const expected: Record<string, ReturnType<typeof run>> = {
  outside: { exit: 1, out: [], errors: ["Error: outside"] },
  "no-listener": { exit: 1, out: [], errors: ["Error: no listener"] },
  "process-listener": { exit: 0, out: ["process got no listener uncaughtException"], errors: [] },
  nested: {
    exit: 0,
    out: ["a got in a after a promise in domain undefined", "b got in b in domain undefined"],
    errors: [],
  },
  bind: { exit: 0, out: ["d got bound 7 in domain undefined"], errors: [] },
  "handler-throws": { exit: 7, out: ["domain got inner"], errors: ["Error: from the handler"] },
};

describe("the request domain on AsyncLocalStorage", () => {
  for (const [kase, want] of Object.entries(expected))
    it(`behaves as Node's domain: ${kase}`, () => {
      assert.deepEqual(run("node", kase), want, "Node's domain");
      assert.deepEqual(run("preload", kase), want, "the request domain");
    });

  it("leaves Node's domain unusable once installed, so the two are never mixed", () => {
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { installRequestDomain } from ${JSON.stringify(join(ROOT, "scripts", "request_domain.mjs"))};
import { AsyncLocalStorage } from "node:async_hooks";
import EventEmitter from "node:events";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
installRequestDomain({ AsyncLocalStorage, EventEmitter }, process, require.cache);
try { require("node:domain"); } catch (e) { console.log(e.code); }`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.stdout.trim(), "ERR_DOMAIN_CALLBACK_NOT_AVAILABLE", r.stderr);
  });

  it("changes nothing when it cannot install (a capture callback already set)", () => {
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { installRequestDomain } from ${JSON.stringify(join(ROOT, "scripts", "request_domain.mjs"))};
import { AsyncLocalStorage } from "node:async_hooks";
import EventEmitter from "node:events";
const cache = {};
process.setUncaughtExceptionCaptureCallback(() => {});
try { installRequestDomain({ AsyncLocalStorage, EventEmitter }, process, cache); } catch (e) { console.log(e.code); }
console.log(Object.keys(cache).length, Object.getOwnPropertyDescriptor(process, "domain")?.get === undefined);`,
      ],
      { encoding: "utf8" },
    );
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "ERR_UNCAUGHT_EXCEPTION_CAPTURE_ALREADY_SET",
      "0 true",
    ]);
  });
});

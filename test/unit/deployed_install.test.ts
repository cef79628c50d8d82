// The functions' lockfiles differ only by the package's own name, so the build and the tests
// install their tree once (scripts/deployed_install.mjs); any other difference is a new install.
import assert from "node:assert/strict";
import { it } from "node:test";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import { installKey } from "../../scripts/deployed_install.mjs";

const lock = (name: string, express: string) =>
  JSON.stringify({
    name,
    version: "0.1.0",
    lockfileVersion: 3,
    packages: {
      "": { name, version: "0.1.0", dependencies: { express: "^5.0.0" } },
      "node_modules/express": { version: express },
    },
  });

it("one install for lockfiles that differ only by the package's name", () => {
  const key = (installKey as (text: string) => string)(lock("vertex-dispatch-dispatch", "5.1.0"));
  assert.match(key, /^[0-9a-f]{16}$/);
  assert.equal(installKey(lock("vertex-dispatch-poll", "5.1.0")), key);
  assert.notEqual(installKey(lock("vertex-dispatch-poll", "5.1.1")), key);
});

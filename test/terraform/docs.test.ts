// terraform/README.md's tables are generated from the HCL (tools/terraform_docs.mjs) and
// kept in sync by this test.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { README, renderTables, withTables } from "../../tools/terraform_docs.mjs";

describe("terraform/README.md", () => {
  it("has the tables generated from the HCL (run node tools/terraform_docs.mjs to update)", async () => {
    const readme = readFileSync(README, "utf8");
    assert.equal(readme, withTables(readme, await renderTables()));
  });

  it("the generated tables name every variable and output of the module", async () => {
    const tables = await renderTables();
    for (const name of ["project_id", "region", "dispatch", "poll", "ingest", "buckets"])
      assert.match(tables, new RegExp(`\\| \`${name}\` \\|`));
    for (const name of ["webhook_url", "topics", "buckets", "service_accounts", "submit_command"])
      assert.match(tables, new RegExp(`\\| \`${name}\` \\|`));
  });

  it("refuses a README without the markers", () => {
    assert.throws(() => withTables("# no markers\n", "x"), /BEGIN TFDOC/);
  });
});

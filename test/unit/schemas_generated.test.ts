// The published JSON Schemas (schemas/*.schema.json) and the README's field tables are
// generated from the zod schemas (scripts/schemas.ts); these tests fail when a committed
// copy is stale, or when a field has no description.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { jsonSchemaFiles, REPO, readmeTables, withTables } from "../../scripts/schemas.js";

type Json = Record<string, unknown>;
const FIX = "run `npm run schemas` and commit the result";

/** Paths of object properties without a description, anywhere in a JSON Schema. */
function undescribed(node: unknown, path: string, out: string[]): string[] {
  // Arrays are objects too: their items are walked under their index.
  if (node !== null && typeof node === "object") {
    const props = (node as Json).properties as Record<string, Json> | undefined;
    for (const [key, p] of Object.entries(props ?? {})) {
      if (typeof p.description !== "string" || p.description === "") out.push(`${path}.${key}`);
    }
    for (const [key, child] of Object.entries(node)) undescribed(child, `${path}/${key}`, out);
  }
  return out;
}

describe("generated JSON Schemas", () => {
  const files = jsonSchemaFiles();
  it("schemas/ holds exactly the four generated files", () => {
    assert.deepEqual(readdirSync(join(REPO, "schemas")).sort(), Object.keys(files).sort());
  });
  for (const [name, text] of Object.entries(files)) {
    it(`${name} is up to date`, () => {
      const committed = readFileSync(join(REPO, "schemas", name), "utf8");
      assert.ok(committed === text, `schemas/${name} is stale: ${FIX}`);
    });
    it(`${name} describes every field`, () => {
      const missing = undescribed(JSON.parse(text), "", []);
      assert.deepEqual(missing, [], `fields without a .describe() in ${name}`);
    });
  }
  it("the queue config schema accepts a template reference where a number goes", () => {
    const json = JSON.parse(files["queue-config.schema.json"] ?? "{}");
    const pool = json.properties.spec.properties.worker_pool_specs.items.anyOf[1];
    const count = pool.properties.machine_spec.properties.accelerator_count;
    assert.equal(count.anyOf[0].type, "integer");
    assert.ok(new RegExp(count.anyOf[1].pattern).test("{{gpus}}"));
  });
});

describe("README field tables", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  it("are the ones generated from the schemas' descriptions", () => {
    assert.ok(withTables(readme) === readme, `README.md's generated tables are stale: ${FIX}`);
  });
  it("list every launch-message key and every dispatcher key of a queue config", () => {
    const tables = readmeTables();
    for (const key of ["queue", "entity", "project", "args", "resource_args", "priority"]) {
      assert.match(tables["launch-message-fields"] ?? "", new RegExp(`\\| \`${key}\` \\|`));
    }
    for (const key of ["project", "region", "max_jobs", "template_variables", "service_account"]) {
      assert.match(tables["queue-config-fields"] ?? "", new RegExp(`\\| \`${key}\` \\|`));
    }
  });
  it("show how to point the YAML language server at the queue config schema", () => {
    assert.match(readme, /# yaml-language-server: \$schema=\S*schemas\/queue-config\.schema\.json/);
  });
});

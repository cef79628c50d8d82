// Every google_* resource and data source of terraform/ against the google provider 6.50
// schema (extracted from @cdktf/provider-google@16's .jsii by tools/extract_provider_schema.mjs):
// no unknown argument or block, no missing required one, no reference to an attribute the
// type does not have. This stands in for `terraform validate`, which needs a provider
// download and cannot run here.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type BlockSchema,
  checkBlock,
  checkReferences,
  type Hcl,
  loadModule,
  loadSchema,
} from "../helpers/terraform.js";

const schema = loadSchema();

describe("terraform/ against the google provider schema", () => {
  it("the schema is google provider 6.50", () => {
    assert.equal(schema.provider_version, "6.50.0");
  });

  for (const kind of ["resource", "data"] as const) {
    it(`every ${kind} type is in the extracted schema, with known and complete arguments and blocks`, async () => {
      const hcl = await loadModule();
      const problems: string[] = [];
      for (const [type, byName] of Object.entries((hcl[kind] ?? {}) as Hcl)) {
        const typeSchema = schema[kind][type];
        if (!typeSchema) {
          problems.push(
            `${kind} ${type} is not in tools/google-provider-schema.json: run node tools/extract_provider_schema.mjs`,
          );
          continue;
        }
        for (const [name, bodies] of Object.entries(byName as Hcl))
          for (const body of bodies as Hcl[])
            problems.push(...checkBlock(body, typeSchema, `${type}.${name}`, true));
      }
      assert.deepEqual(problems, []);
    });
  }

  it("every attribute a reference reads exists", async () => {
    assert.deepEqual(checkReferences(await loadModule(), schema), []);
  });
});

/** A Terraform expression as hcl2json writes it: `${...}`. */
const expr = (e: string) => `\${${e}}`;

describe("the schema check itself", () => {
  const fn = schema.resource.google_cloudfunctions2_function as BlockSchema;

  it("reports an unknown argument, a missing required one and a misplaced block", () => {
    const problems = checkBlock(
      {
        name: "f",
        runtime: "nodejs22",
        build_config: [{ entry_point: "x", source: [{ storage_source: [{ bucket: "b" }] }] }],
        service_config: "not a block",
      },
      fn,
      "google_cloudfunctions2_function.x",
      true,
    );
    assert.deepEqual(problems, [
      'google_cloudfunctions2_function.x: unknown argument or block "runtime"',
      "google_cloudfunctions2_function.x.service_config: is a block; write service_config { ... }",
      'google_cloudfunctions2_function.x: missing required argument "location"',
    ]);
  });

  it("checks dynamic blocks' content and nested required arguments", () => {
    const problems = checkBlock(
      {
        name: "f",
        location: "us-central1",
        service_config: [
          {
            dynamic: {
              secret_environment_variables: [{ for_each: expr("[]"), content: [{ key: "K" }] }],
            },
          },
        ],
      },
      fn,
      "f",
      true,
    );
    assert.deepEqual(problems, [
      'f.service_config.secret_environment_variables: missing required argument "project_id"',
      'f.service_config.secret_environment_variables: missing required argument "secret"',
      'f.service_config.secret_environment_variables: missing required argument "version"',
    ]);
  });

  it("reports a reference to an attribute that does not exist", () => {
    const hcl = {
      resource: {
        google_pubsub_subscription: {
          s: [
            {
              a: expr("google_cloudfunctions2_function.dispatch.service_config[0].url"),
              b: expr('google_service_account.this["push"].mail'),
            },
          ],
        },
      },
    };
    assert.deepEqual(checkReferences(hcl, schema), [
      'google_cloudfunctions2_function.dispatch.service_config[0].url: google_cloudfunctions2_function.service_config has no attribute "url"',
      'google_service_account.this["push"].mail: google_service_account has no attribute "mail"',
    ]);
  });
});

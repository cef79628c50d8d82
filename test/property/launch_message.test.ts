// Property tests: hostile and broken launch messages, through the schema alone (many runs)
// and through the real dispatch core against the GCS and Vertex emulators (fewer runs).
// Seeded, so a failure replays: the seed and the shrunk input are in the failure message.
import assert from "node:assert/strict";
import { after, before, describe as group, it } from "node:test";
import fc from "fast-check";
import { DispatchError } from "../../shared/errors.js";
import { parseLaunchMessage } from "../../shared/schemas/message.js";
import { type Core, coreQueue, startCore } from "../helpers/core.js";
import {
  anyValue,
  CANARY,
  deepOrHuge,
  envName,
  hostileString,
  labelKey,
  strayKey,
} from "./arbitraries.js";
import { allRecordsText, deliverAndCheck, describe } from "./check.js";

const SEED = 1414;
let runs = 0;

function base(runId: string): Record<string, unknown> {
  return {
    queue: "prop",
    entity: "acme",
    project: "vision",
    run_id: runId,
    image_uri: "us-central1-docker.pkg.dev/acme-ml/train/resnet:1",
    run_config: { lr: 0.1 },
  };
}

/** A valid message for queue `prop`, then 0-4 breakages. */
const message: fc.Arbitrary<Record<string, unknown>> = fc
  .array(
    fc.oneof(
      fc.tuple(
        fc.constant("set" as const),
        fc.constantFrom(
          "queue",
          "entity",
          "project",
          "run_id",
          "name",
          "author",
          "job",
          "image_uri",
          "priority",
          "action",
          "run_config",
        ),
        fc.oneof(anyValue, deepOrHuge),
      ),
      fc.tuple(
        fc.constant("delete" as const),
        fc.constantFrom("queue", "entity", "project", "run_id", "image_uri"),
        fc.constant(null),
      ),
      fc.tuple(fc.constant("stray" as const), strayKey, anyValue),
      fc.tuple(
        fc.constant("env" as const),
        fc.constant("env"),
        fc.dictionary(envName, hostileString, { maxKeys: 3 }),
      ),
      fc.tuple(
        fc.constant("labels" as const),
        fc.constant("resource_args"),
        fc.dictionary(labelKey, hostileString, { maxKeys: 3 }),
      ),
      fc.tuple(
        fc.constant("set" as const),
        fc.constantFrom("args", "entry_point"),
        fc.array(hostileString, { maxLength: 3 }),
      ),
      fc.tuple(
        fc.constant("set" as const),
        fc.constant("template_variables"),
        fc.dictionary(hostileString, fc.oneof(hostileString, fc.integer()), { maxKeys: 3 }),
      ),
      fc.tuple(fc.constant("set" as const), fc.constantFrom("name", "author"), hostileString),
    ),
    { maxLength: 4 },
  )
  .map((changes) => {
    const m = base(`p${(++runs).toString(36)}`);
    for (const [op, key, value] of changes) {
      if (op === "delete") delete m[key];
      else if (op === "labels") m.resource_args = { "gcp-vertex": { spec: { labels: value } } };
      else m[key] = value;
    }
    return m;
  });

group("launch messages (property)", () => {
  // Found by this suite: the dispatcher's own WANDB_API_KEY sent back as an unknown key was
  // echoed in the rejected record and event; commit() now masks secrets (shared/redact.ts).
  it("the dispatcher's secret used as an unknown key is not echoed in the rejected event", {}, async () => {
    await deliverAndCheck(
      core,
      Buffer.from(JSON.stringify({ ...base("pc2"), [CANARY]: 1 })),
      "canary as a key",
    );
    const records = await allRecordsText(core);
    assert.ok(records.includes("<redacted>"), "the rejected record should name the masked key");
    assert.ok(!records.includes(CANARY), "the canary secret was stored in a launch record");
  });

  it("the schema accepts or names a path for anything (no other exception)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), message), (value) => {
        try {
          parseLaunchMessage(value);
        } catch (err) {
          assert.ok(err instanceof DispatchError, `not a DispatchError: ${String(err)}`);
          assert.equal(err.kind, "invalid_message");
          assert.ok(err.issues.length > 0, `no issue in "${err.message}"`);
          for (const issue of err.issues) assert.equal(typeof issue.path, "string");
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  let core: Core;
  before(async () => {
    core = await startCore();
    core.writeQueue("prop", coreQueue("allow_resource_overrides: true"));
  });
  after(async () => core?.close());

  it("through the dispatch core: one job if valid for Vertex, else a rejection naming a path; no hang, no secret", async () => {
    const counts = { submitted: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 8, arbitrary: message.map((m) => Buffer.from(JSON.stringify(m))) },
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
          { weight: 1, arbitrary: hostileString.map((s) => Buffer.from(s)) },
        ),
        async (body) => {
          const { outcome } = await deliverAndCheck(core, body, describe(body));
          counts[outcome.state as "submitted" | "rejected"]++;
        },
      ),
      {
        seed: SEED,
        numRuns: 80,
        // The dispatcher's own secret sent back at it, as a value, a key and an env entry.
        examples: [
          [Buffer.from(JSON.stringify({ ...base("pc1"), env: { WANDB_API_KEY: CANARY } }))],
          [
            Buffer.from(
              JSON.stringify({ ...base("pc3"), name: CANARY, run_config: { k: CANARY } }),
            ),
          ],
          [Buffer.from(JSON.stringify({ ...base("pc4"), entity: { CANARY } }))],
        ],
      },
    );
    // Not a fixed result: the generator must reach both sides of the boundary.
    assert.ok(
      counts.submitted > 0 && counts.rejected > 0,
      `submitted ${counts.submitted}, rejected ${counts.rejected}`,
    );
  });
});

// Property tests: hostile and broken queue configs, through the parser alone (many runs) and
// as a queue file the real dispatch core loads for a valid launch (fewer runs): each is
// accepted and the Vertex emulator accepts the job, or rejected with issues naming paths.
import assert from "node:assert/strict";
import { after, before, describe as group, it } from "node:test";
import fc from "fast-check";
import { DispatchError } from "../../shared/errors.js";
import { parseQueueConfigText } from "../../shared/schemas/queue_config.js";
import { type Core, coreMessage, coreQueue, startCore } from "../helpers/core.js";
import { deliverAndCheck } from "./check.js";
import { configText, NASTY_YAML } from "./queue_configs.js";

const SEED = 1415;

/** The seed's default queue with the chief pool's replica_count line replaced. */
function baseYamlWith(replicaLine: string): string {
  return coreQueue().replace("replica_count: 1", replicaLine);
}

group("queue configs (property)", () => {
  it("the parser accepts or names a path for any text (no other exception, no hang)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          configText,
          fc.string({ unit: "binary", maxLength: 200 }),
          fc.constantFrom(...NASTY_YAML),
        ),
        fc.constantFrom("q.yaml", "q.json"),
        (text, file) => {
          try {
            parseQueueConfigText(text, file, "q");
          } catch (err) {
            assert.ok(err instanceof DispatchError, `not a DispatchError: ${String(err)}`);
            assert.equal(err.kind, "invalid_config");
            assert.ok(err.issues.length > 0, `no issue in "${err.message}"`);
            for (const issue of err.issues) assert.equal(typeof issue.path, "string");
          }
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });

  let core: Core;
  before(async () => {
    core = await startCore();
  });
  after(async () => core?.close());

  it("a chief pool with replica_count > 1 is refused by the resolver, naming the path", async () => {
    core.writeQueue("chief", baseYamlWith("replica_count: 2"));
    const body = Buffer.from(JSON.stringify(coreMessage("chief", "chief1")));
    await deliverAndCheck(core, body, "replica_count: 2 in the chief pool", []);
  });

  it("as a queue file: one job if valid for Vertex, else a rejection naming a path; no hang, no secret", async () => {
    const counts = { submitted: 0, rejected: 0 };
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 9, arbitrary: configText },
          { weight: 1, arbitrary: fc.constantFrom(...NASTY_YAML) },
        ),
        async (text) => {
          // A fresh queue name per run: the core caches a queue's config for a second.
          const queue = `pq${(++n).toString(36)}`;
          core.writeQueue(queue, text);
          const body = Buffer.from(JSON.stringify(coreMessage(queue, `r${n.toString(36)}`)));
          const { outcome } = await deliverAndCheck(
            core,
            body,
            `queue config:\n${text.slice(0, 600)}`,
          );
          counts[outcome.state as "submitted" | "rejected"]++;
        },
      ),
      { seed: SEED, numRuns: 40 },
    );
    assert.ok(
      counts.submitted > 0 && counts.rejected > 0,
      `submitted ${counts.submitted}, rejected ${counts.rejected}`,
    );
  });
});

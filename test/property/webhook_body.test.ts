/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B payload template variables such as ${entity_name} are literal strings here. */
// Property tests: W&B webhook bodies through the ingest core (shared/ingest, signed with the
// function's signing secret), then whatever it publishes through the real dispatch core.
// 202 exactly when the body is a valid launch message, one publish then and none otherwise;
// a 400 lists issues with paths; a bad signature is 401 and publishes nothing; no secret
// (signing secret, the dispatcher's WANDB_API_KEY) in any answer or log line.
import assert from "node:assert/strict";
import { after, before, describe as group, it } from "node:test";
import fc from "fast-check";
import { signBody } from "../../shared/ingest/auth.js";
import { handleWebhook } from "../../shared/ingest/ingest.js";
import { createLogger } from "../../shared/log.js";
import { type Core, coreQueue, startCore } from "../helpers/core.js";
import { anyValue, CANARY, hostileString, strayKey } from "./arbitraries.js";
import { deliverAndCheck, describe } from "./check.js";

const SEED = 1416;
const SIGNING_SECRET = "whsec-property-0d9c8b7a6f5e";

/** What a W&B payload template renders: a launch message, often with W&B's own variables left in. */
const webhookBody: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        queue: fc.constantFrom("hook", "hook", "missing", "${queue}"),
        entity: fc.oneof(fc.constant("acme"), fc.constant("${entity_name}"), anyValue),
        project: fc.oneof(fc.constant("vision"), fc.constant("${project_name}"), hostileString),
        job: fc.oneof(
          fc.constant("acme/vision/train:v3"),
          fc.constant("${artifact_version_string}"),
          hostileString,
        ),
        image_uri: fc.constantFrom(
          "us-central1-docker.pkg.dev/acme-ml/train/resnet:1",
          "${artifact_metadata.image}",
        ),
        run_config: fc.oneof(
          fc.constant({ alias: "${alias}" }),
          fc.dictionary(hostileString, anyValue, { maxKeys: 3 }),
        ),
        extra: fc.option(fc.tuple(strayKey, anyValue), { nil: undefined }),
      })
      .map(({ extra, ...m }) =>
        Buffer.from(JSON.stringify(extra ? { ...m, [extra[0]]: extra[1] } : m)),
      ),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: hostileString.map((s) => Buffer.from(s)) },
  {
    weight: 1,
    arbitrary: fc.constant(Buffer.from(`\ufeff{"queue":"hook","entity":"a","project":"b"}`)),
  },
);

function ingestDeps(lines: string[], published: Buffer[]) {
  return {
    options: { WEBHOOK_SIGNING_SECRET: SIGNING_SECRET, LAUNCH_TOPIC: "launch-jobs" },
    publish: async (data: Buffer) => {
      published.push(data);
      return `msg-${published.length}`;
    },
    log: createLogger({ secrets: [SIGNING_SECRET, CANARY], write: (l) => lines.push(l) }),
  };
}

function noSecret(text: string, what: string): void {
  for (const secret of [SIGNING_SECRET, CANARY])
    assert.ok(!text.includes(secret), `a secret appeared in ${what}`);
}

group("webhook bodies (property)", () => {
  let core: Core;
  before(async () => {
    core = await startCore();
    core.writeQueue("hook", coreQueue());
  });
  after(async () => core?.close());

  it("signed: 202 and one publish exactly when valid; what is published dispatches to one job or a clear rejection", async () => {
    const counts = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(webhookBody, async (body) => {
        const lines: string[] = [];
        const published: Buffer[] = [];
        const headers = {
          "content-type": "application/json",
          "x-wandb-signature": signBody(body, SIGNING_SECRET),
        };
        const answer = await handleWebhook({ headers, body }, ingestDeps(lines, published));
        noSecret(
          JSON.stringify(answer) + lines.join("\n"),
          `the answer or a log line for ${describe(body)}`,
        );
        if (answer.status === 202) {
          counts.accepted++;
          assert.equal(published.length, 1, "a 202 publishes exactly once");
          assert.deepEqual(published[0], body, "the body is published exactly as received");
          await deliverAndCheck(core, published[0] as Buffer, describe(body));
          return;
        }
        counts.refused++;
        assert.equal(answer.status, 400, `status ${answer.status} for ${describe(body)}`);
        assert.equal(published.length, 0, "a refusal publishes nothing");
        const error = answer.body.error as { issues: Array<{ path: string; message: string }> };
        assert.ok(error.issues.length > 0, `a 400 without issues: ${JSON.stringify(answer.body)}`);
        for (const issue of error.issues)
          assert.ok(
            issue.path.length > 0 || /unknown key/.test(issue.message),
            `an issue without a path (only an unknown key "" may have the empty path): ${JSON.stringify(issue)}`,
          );
      }),
      { seed: SEED, numRuns: 60 },
    );
    assert.ok(
      counts.accepted > 0 && counts.refused > 0,
      `accepted ${counts.accepted}, refused ${counts.refused}`,
    );
  });

  it("a wrong, missing or malformed signature is 401 and publishes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        webhookBody,
        fc.oneof(
          fc.constant(undefined),
          hostileString,
          fc.constant(signBody("other", SIGNING_SECRET)),
        ),
        async (body, signature) => {
          const lines: string[] = [];
          const published: Buffer[] = [];
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (signature !== undefined) headers["x-wandb-signature"] = signature;
          if (signature === signBody(body, SIGNING_SECRET)) return;
          const answer = await handleWebhook({ headers, body }, ingestDeps(lines, published));
          assert.equal(answer.status, 401, JSON.stringify(answer.body));
          assert.equal(published.length, 0);
          noSecret(JSON.stringify(answer) + lines.join("\n"), "a 401 answer or its log line");
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});

// The build-time rehearsal (shared/dispatch/rehearse.ts) that gcp-build's code cache producer
// runs before saving dispatch's cache: each step of a first delivery reaches its loopback
// listener through the real SDKs, none carries credentials, and all end, from the source and
// from the deployed bundle (whose `codeCacheRehearsal` export is what the producer calls).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import { PRODUCER_ENV } from "../../scripts/code_cache.mjs";
import { rehearseDispatch } from "../../shared/dispatch/rehearse.js";
import { deployLocally, ensureBuilt } from "../helpers/bundles.js";

/** A first delivery's requests: the claim's record create, the staging bucket, the job, the event. */
const STEPS = [
  "POST /upload/storage/v1/b/rehearsal-state/o",
  "GET /storage/v1/b/rehearsal-staging",
  "/google.cloud.aiplatform.v1.JobService/CreateCustomJob",
  "/google.pubsub.v1.Publisher/Publish",
];

describe("the code cache rehearsal", () => {
  let app = "";
  before(async () => {
    await ensureBuilt();
    app = deployLocally("dispatch", process.execPath);
  });
  after(() => rmSync(app, { recursive: true, force: true }));

  it("runs each step of a first delivery once against listeners that refuse, without credentials", async () => {
    const rehearsal = await rehearseDispatch();
    assert.deepEqual(rehearsal, { refused: STEPS, authorized: 0 });
  });

  it("the deployed bundle exports it and it does the same there", () => {
    const script =
      'require("./start.cjs").codeCacheRehearsal().then((r) => console.log(JSON.stringify(r)))';
    const run = spawnSync(process.execPath, ["-e", script], {
      cwd: app,
      env: { PATH: process.env.PATH, ...PRODUCER_ENV },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.deepEqual(JSON.parse(run.stdout), { refused: STEPS, authorized: 0 });
  });
});

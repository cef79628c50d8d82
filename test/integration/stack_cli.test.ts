// The whole local stack as a user drives it: `vertex-dispatch start --once` (what
// `npm start -- --once` runs), and the operator commands against a running stack.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort } from "../../local/stack/functions.js";
import {
  launchMessage,
  queueYaml,
  stackMissing,
  startTestStack,
  type TestStack,
} from "../helpers/stack.js";

const missing = stackMissing();
if (missing) console.warn(`\n!!! ${missing}\n`);

function cli(args: string[], env: Record<string, string | undefined>, timeoutMs = 120_000) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["bin/vertex-dispatch.mjs", ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

describe("vertex-dispatch start --once", { skip: missing ?? false }, () => {
  it("runs the demo launch through submitted, starting, running and finished, then stops everything", async () => {
    const port = async () => String(await freePort());
    const env = {
      PUBSUB_EMULATOR_HOST: `127.0.0.1:${await port()}`,
      GCS_ENDPOINT: `http://127.0.0.1:${await port()}`,
      VERTEX_ENDPOINT: `127.0.0.1:${await port()}`,
      VERTEX_REST_ENDPOINT: `http://127.0.0.1:${await port()}`,
      DISPATCH_PORT: await port(),
      POLL_PORT: await port(),
      INGEST_PORT: await port(),
    };
    const out = await cli(["start", "--once", "--quiet"], env);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, new RegExp(`export INGEST_URL=http://127.0.0.1:${env.INGEST_PORT}\n`));
    assert.match(
      out.stdout,
      new RegExp(
        `  curl -sS -X POST http://127.0.0.1:${env.INGEST_PORT}/ -H 'Authorization: Bearer local-token' `,
      ),
    );
    const transitions = out.stdout.split("\n").filter((l) => l.startsWith("status: "));
    // Events are at-least-once: a repeat is allowed, a missing or reordered state is not.
    const states = transitions.map((l) => l.split(" -> ")[1]?.split(" ")[0]);
    const distinct = states.filter((state, i) => state !== states[i - 1]);
    assert.deepEqual(distinct, ["submitted", "starting", "running", "finished"], out.stdout);
    assert.match(
      out.stdout,
      /demo launch finished: projects\/\d+\/locations\/us-central1\/customJobs\/\d+/,
    );
    assert.match(out.stdout, /stopping the local stack/);
  });
});

describe("operator commands against a running stack", { skip: missing ?? false }, () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({
      functions: ["dispatch", "poll"],
      pollIntervalMs: 1000,
      vertexClock: {
        mode: "timed",
        queuedSeconds: 1,
        pendingSeconds: 1,
        runningSeconds: 60,
        cancellingSeconds: 1,
      },
    });
    stack.writeQueue("ops", queueYaml());
    await stack.storage.createBucket("ops-us", { location: "US" });
    writeFileSync(join(stack.queueDir, "ops-multi.yaml"), queueYaml({ staging: "ops-us" }));
  });
  after(async () => {
    await stack?.close();
  });

  it("validate passes a good queue and fails a multi-region staging bucket with what to do", async () => {
    const ok = await cli(["validate", "--queue", join(stack.queueDir, "ops.yaml")], stack.env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /valid \(queue ops, projects\/local-project\/locations\/us-central1, buckets checked\)/,
    );
    const bad = await cli(
      ["validate", "--queue", join(stack.queueDir, "ops-multi.yaml")],
      stack.env,
    );
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /gs:\/\/ops-us is in location US \(multi-region\).*gcloud storage buckets create/s,
    );
  });

  it("submit publishes a launch, status shows it, cancel stops it", async () => {
    const file = join(stack.queueDir, "message.json");
    writeFileSync(file, JSON.stringify(launchMessage("ignored", "ops1")));
    const sub = await cli(["submit", "--queue", "ops", "--message", file], stack.env);
    assert.equal(sub.code, 0, sub.stderr);
    assert.match(sub.stdout.trim(), /^\d+$/);
    await stack.waitForEvent((e) => e.run_id === "ops1" && e.state === "running", 30_000);

    const list = await cli(["status", "--queue", "ops"], stack.env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^QUEUE\s+RUN_ID\s+STATE/m);
    assert.match(list.stdout, /^ops\s+ops1\s+running\s+1\s+\d+/m);
    const one = await cli(["status", "--queue", "ops", "--run-id", "ops1"], stack.env);
    assert.equal(JSON.parse(one.stdout).state, "running");

    const cancel = await cli(["cancel", "--queue", "ops", "--run-id", "ops1"], stack.env);
    assert.equal(cancel.code, 0, cancel.stderr);
    await stack.waitForEvent((e) => e.run_id === "ops1" && e.state === "stopped", 30_000);
  });

  it("submit refuses an invalid message before publishing, naming the field", async () => {
    const file = join(stack.queueDir, "bad.json");
    writeFileSync(file, JSON.stringify({ ...launchMessage("ops", "ops2"), priority: 9 }));
    const out = await cli(["submit", "--queue", "ops", "--message", file], stack.env);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /priority/);
    assert.equal(out.stdout, "");
  });

  it("poll runs one tick on demand and prints its summary", async () => {
    const out = await cli(["poll"], stack.env);
    assert.equal(out.code, 0, out.stderr);
    const summary = JSON.parse(out.stdout.trim().split("\n").at(-1) ?? "{}");
    assert.equal(typeof summary.active, "number");
    assert.equal(summary.errors, 0);
  });

  it("poll refuses to run without the dispatcher's environment, naming what is missing", async () => {
    const out = await cli(["poll"], {
      GOOGLE_CLOUD_PROJECT: "",
      STATE_BUCKET: "",
      VERTEX_REGION: "",
    });
    assert.equal(out.code, 2);
    assert.match(out.stderr, /STATE_BUCKET/);
  });

  it("status of an unknown run says where it looked", async () => {
    const out = await cli(["status", "--queue", "ops", "--run-id", "nope"], stack.env);
    assert.equal(out.code, 1);
    assert.match(
      out.stderr,
      /no launch with run_id nope in queue ops \(gs:\/\/local-state\/launches\/ops\/\)/,
    );
  });
});

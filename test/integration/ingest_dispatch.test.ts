// End to end through the front door: W&B's filled payload template POSTed to the ingest
// function, published to launch-jobs, pushed by Google's Pub/Sub emulator to the dispatch
// function, created as a CustomJob on the Vertex emulator. W&B retrying one event makes
// one job; two events make two.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { DEMO_QUEUE, demoCurlLine } from "../../local/stack/demo.js";
import { post } from "../helpers/ingest.js";
import { stackMissing, startTestStack, type TestStack } from "../helpers/stack.js";
import { fillTemplate, readEvents, readTemplate, wandbHeaders } from "../helpers/wandb.js";

const missing = stackMissing();
if (missing) console.warn(`\n!!! ${missing}\n`);

describe("ingest → dispatch → CustomJob", { skip: missing ?? false }, () => {
  let stack: TestStack;
  const template = readTemplate("payload-template-alias-added.json");
  const [first, second] = readEvents().alias_added;

  const jobsOf = (runId: string) =>
    stack.vertex.control.jobs().filter((j) => j.labels["wandb-run-id"] === runId);
  const until = async (what: string, done: () => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const duplicatesOf = (runId: string) =>
    stack.functionLines.filter(
      (l) => l.includes('"message":"duplicate: ') && l.includes(`"run_id":"${runId}"`),
    ).length;
  const deliver = async (body: string) => {
    const webhook = stack.webhook;
    assert.ok(webhook, "the stack runs the ingest function");
    const reply = await post(webhook.url, body, wandbHeaders(body, webhook.token));
    assert.equal(reply.status, 202, reply.text);
    return reply.json as { run_id: string; launch_id: string; message_id: string };
  };

  before(async () => {
    stack = await startTestStack({ functions: ["dispatch", "ingest"] });
  });
  after(async () => {
    await stack?.close();
  });

  it("one W&B event delivered twice is one CustomJob, with the event's values in the job", async () => {
    const body = fillTemplate(template, first ?? {});
    const a = await deliver(body);
    const b = await deliver(body);
    assert.equal(a.run_id, b.run_id);
    const submitted = await stack.waitForEvent(
      (e) => e.run_id === a.run_id && e.state === "submitted",
    );
    assert.equal(submitted.launch_id, a.launch_id);
    assert.equal(submitted.queue, DEMO_QUEUE);
    await until(
      `the second delivery of ${a.run_id} to be acknowledged as a duplicate`,
      () => duplicatesOf(a.run_id) >= 1,
    );
    const jobs = jobsOf(a.run_id);
    assert.equal(jobs.length, 1);
    const job = stack.vertex.control.job(String(submitted.job_name)) as {
      jobSpec: {
        workerPoolSpecs: Array<{ containerSpec: { env: Array<{ name: string; value: string }> } }>;
      };
    };
    const env = Object.fromEntries(
      (job.jobSpec.workerPoolSpecs[0]?.containerSpec.env ?? []).map((e) => [e.name, e.value]),
    );
    assert.equal(env.WANDB_USERNAME, first?.event_author);
    assert.equal(
      JSON.parse(env.WANDB_ARTIFACTS ?? "{}")._wandb_job,
      first?.artifact_version_string,
    );
    const config = JSON.parse(env.WANDB_CONFIG ?? "{}");
    assert.equal(config.job_version, first?.artifact_version);
    assert.equal(config.notes, first?.["artifact_metadata.notes"]);
  });

  it("the curl line `npm start` prints launches the demo queue", async (t) => {
    if (spawnSync("curl", ["--version"]).status !== 0) {
      console.warn("!!! SKIPPED: curl is not installed; the printed curl line was not run");
      t.skip("no curl");
      return;
    }
    const webhook = stack.webhook;
    assert.ok(webhook);
    const line = demoCurlLine(webhook.url, webhook.token);
    const out = execFileSync("sh", ["-c", `${line} -w '\\n%{http_code}'`], { encoding: "utf8" });
    const lines = out.trim().split("\n");
    const [body, code] = [lines[0], lines.at(-1)];
    assert.equal(code, "202", out);
    const reply = JSON.parse(body ?? "{}") as { run_id: string; queue: string };
    assert.equal(reply.queue, DEMO_QUEUE);
    const event = await stack.waitForEvent(
      (e) => e.run_id === reply.run_id && e.state === "submitted",
    );
    assert.equal(jobsOf(reply.run_id).length, 1, String(event.job_name));
  });

  it("two W&B events (two artifact versions) are two CustomJobs", async () => {
    const one = await deliver(fillTemplate(template, first ?? {}));
    const two = await deliver(fillTemplate(template, second ?? {}));
    assert.notEqual(one.run_id, two.run_id);
    await stack.waitForEvent((e) => e.run_id === two.run_id && e.state === "submitted");
    assert.equal(jobsOf(one.run_id).length, 1);
    assert.equal(jobsOf(two.run_id).length, 1);
  });
});

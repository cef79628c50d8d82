// The operator CLI against the local stack (Pub/Sub emulator, GCS and Vertex emulators, the
// dispatch and poll functions under the Functions Framework), run in-process through
// main(argv, env, io): every outcome `submit --wait` can report, --follow to finished and
// to stopped, events and its temporary subscription, queues, validate --queue, cancel.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SUBSCRIPTION_PREFIX } from "../../cli/watch.js";
import { cli, startCli, waitFor } from "../helpers/cli.js";
import {
  launchMessage,
  queueYaml,
  stackMissing,
  startTestStack,
  TEST_SECRET,
  type TestStack,
} from "../helpers/stack.js";

const missing = stackMissing();
if (missing) console.warn(`\n!!! ${missing}\n`);

const IMAGE = "us-central1-docker.pkg.dev/acme-ml/train/resnet:1";
const launchFlags = (queue: string, runId: string) => [
  "submit",
  "--queue",
  queue,
  "--entity",
  "acme",
  "--wandb-project",
  "vision",
  "--image",
  IMAGE,
  "--run-id",
  runId,
];

describe("vertex-dispatch against the local stack", { skip: missing ?? false }, () => {
  let stack: TestStack;
  let env: Record<string, string | undefined>;
  const outputs: string[] = [];
  const run = async (argv: string[], options: { tty?: boolean } = {}) => {
    const r = await cli(argv, env, options);
    outputs.push(r.out, r.err);
    return r;
  };
  const jobOf = (runId: string) =>
    stack.vertex.control.jobs().find((j) => j.labels["wandb-run-id"] === runId);
  const temporarySubscriptions = async () => {
    const [subs] = await stack.pubsub.getSubscriptions();
    return subs
      .map((s) => s.name.split("/").pop() ?? "")
      .filter((n) => n.startsWith(SUBSCRIPTION_PREFIX));
  };

  before(async () => {
    stack = await startTestStack({
      functions: ["dispatch", "poll"],
      pollIntervalMs: 500,
      vertexClock: { mode: "manual" },
    });
    env = { ...stack.env };
    stack.writeQueue("ops", queueYaml());
    stack.writeQueue("held", queueYaml({ extra: "max_jobs: 1" }));
    stack.writeQueue(
      "actas",
      queueYaml({ serviceAccount: "stranger@local-project.iam.gserviceaccount.com" }),
    );
    stack.writeQueue("badcfg", queueYaml().replace("replica_count", "replica_cuont"));
    await stack.storage.createBucket("cli-us", { location: "US" });
    stack.writeQueue("multi", queueYaml({ staging: "cli-us" }));
  });
  after(async () => {
    for (const text of outputs) assert.ok(!text.includes(TEST_SECRET), "the W&B key leaked");
    await stack?.close();
  });

  it("submit --wait from flags: submitted, with the job, console URL and logs command", async () => {
    const r = await run([...launchFlags("ops", "w-ok"), "--config", "lr=0.01", "--wait"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^published run_id w-ok to queue ops \(message \d+\)$/m);
    assert.match(
      r.out,
      /submitted w-ok {2}job projects\/\d+\/locations\/us-central1\/customJobs\/\d+/,
    );
    assert.match(
      r.out,
      /console: https:\/\/console\.cloud\.google\.com\/vertex-ai\/locations\/us-central1\/training\/\d+/,
    );
    assert.match(
      r.out,
      /logs: {4}gcloud ai custom-jobs stream-logs \d+ --project=\d+ --region=us-central1/,
    );
    const record = await stack.waitForRecord("ops", "w-ok", "submitted");
    assert.deepEqual(record.message?.run_config, { lr: 0.01 }, "--config values are JSON");
  });

  it("submit --wait: queued, with its place in the backlog; --json has exact types", async () => {
    const first = await run([...launchFlags("held", "h1"), "--wait"]);
    assert.equal(first.code, 0, first.err);
    const second = await run([...launchFlags("held", "h2"), "--wait"]);
    assert.equal(second.code, 0, second.err);
    assert.match(
      second.out,
      /queued {4}h2 {2}held: queue held is at max_jobs; place 1 in the backlog/,
    );
    const third = await run([...launchFlags("held", "h3"), "--priority", "3", "--wait", "--json"]);
    assert.equal(third.code, 0, third.err);
    const out = JSON.parse(third.out);
    assert.equal(out.state, "queued");
    assert.equal(out.events[0].attempt, 1);
    assert.equal(out.events[0].job_name, null);

    const status = await run(["status", "--queue", "held", "--json"]);
    const rows = JSON.parse(status.out) as Array<Record<string, unknown>>;
    const h3 = rows.find((row) => row.run_id === "h3");
    assert.equal(h3?.priority, 3);
    assert.equal(h3?.attempt, 1);
    assert.equal(h3?.job_name, null);
    assert.equal(h3?.console_url, null);
    assert.equal(h3?.error, null);
    assert.deepEqual(h3?.warnings, []);
  });

  it("refuses before publishing what the dispatcher would reject at once, with its message", async () => {
    const noQueue = await run([...launchFlags("nosuch", "x1"), "--wait"]);
    assert.equal(noQueue.code, 3);
    assert.match(noQueue.err, /queue "nosuch" has no config/);
    assert.match(noQueue.err, /fix: .*vertex-dispatch queues push FILE --name nosuch/);

    const badConfig = await run([...launchFlags("badcfg", "x2"), "--wait"]);
    assert.equal(badConfig.code, 2);
    assert.match(
      badConfig.err,
      /spec\.worker_pool_specs\[0\]\.replica_cuont.*did you mean "?replica_count/,
    );

    const badFlag = await run([...launchFlags("ops", "x3"), "--config", "nokey"]);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.err, /--config "nokey": expected KEY=VALUE/);

    const schema = await run([...launchFlags("ops", "x4"), "--priority", "9"]);
    assert.equal(schema.code, 2);
    assert.match(schema.err, /priority/);

    for (const r of [noQueue, badConfig, badFlag, schema])
      assert.equal(r.out, "", "nothing published");
    for (const runId of ["x1", "x2", "x3", "x4"]) {
      assert.equal(await stack.readRecord("ops", runId), null);
    }
  });

  it("an oversized body and a taken run_id: refused with the dispatcher's own message", async () => {
    // What the dispatcher says, from its rejected events:
    const big = { ...launchMessage("ops", "big1"), run_config: { blob: "a".repeat(300_000) } };
    await stack.publishLaunch(big);
    await stack.publishLaunch(launchMessage("ops", "w-ok", { entity: "other" }));
    const sizeEvent = await stack.waitForEvent(
      (e) => e.state === "rejected" && /bytes, over/.test(JSON.stringify(e.error)),
    );
    const clashEvent = await stack.waitForEvent(
      (e) => e.state === "rejected" && /already used/.test(JSON.stringify(e.error)),
    );

    const file = join(stack.queueDir, "..", `cli-big-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(big));
    const size = await run(["submit", "--queue", "ops", "--message", file, "--wait"]);
    assert.equal(size.code, 2);
    assert.ok(size.err.includes((sizeEvent.error as { message: string }).message), size.err);

    const clash = await run([...launchFlags("ops", "w-ok"), "--entity", "other", "--wait"]);
    assert.equal(clash.code, 2);
    assert.ok(clash.err.includes((clashEvent.error as { message: string }).message), clash.err);

    const again = await run([...launchFlags("ops", "w-ok"), "--wait"]);
    assert.equal(again.code, 2);
    assert.match(again.err, /run_id "w-ok" was already launched in queue "ops" \(state \w+/);
  });

  it("submit --wait: rejected by the dispatcher when it cannot act as the service account", async () => {
    const r = await run([...launchFlags("actas", "a1"), "--wait"]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /rejected {2}a1/);
    assert.match(
      r.out,
      /vertex_rejected: .*act as service_account: stranger@local-project\.iam\.gserviceaccount\.com/,
    );
    assert.match(
      r.out,
      /fix: grant the dispatcher's service account roles\/iam\.serviceAccountUser on stranger@local-project\.iam\.gserviceaccount\.com/,
    );
    assert.match(r.out, /LOCAL_ACT_AS=stranger@local-project\.iam\.gserviceaccount\.com/);

    const table = await run(["status", "--queue", "actas"]);
    assert.match(
      table.out,
      /^actas\s+a1\s+rejected\s+1\s+-\s+0\s+\S+\s+Vertex AI CreateCustomJob failed with INVALID_ARGUMENT: You do not have permission/m,
    );
  });

  it("submit --wait: rejected by the preflight (a multi-region staging bucket), with the fix", async () => {
    const r = await run([...launchFlags("multi", "m1"), "--wait"]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /preflight_failed: staging bucket gs:\/\/cli-us is in location US/);
    assert.match(r.out, /gcloud storage buckets create gs:\/\/BUCKET --location=us-central1/);
  });

  it("submit --follow prints every state to finished and exits 0", async () => {
    const running = startCli([...launchFlags("ops", "f-ok"), "--follow"], env);
    const job = await waitFor("the job of f-ok", () => jobOf("f-ok"));
    // QUEUED and PENDING are both "starting"; each advance is one Vertex state.
    for (const [state, steps] of [
      ["starting", 0],
      ["running", 2],
      ["finished", 1],
    ] as const) {
      if (steps > 0) stack.vertex.control.advance({ job: job.name, steps });
      await waitFor(`f-ok ${state} on --follow's stdout`, () => running.out().includes(`${state}`));
    }
    const r = await running.done;
    outputs.push(r.out, r.err);
    assert.equal(r.code, 0, r.err);
    const states = r.out
      .split("\n")
      .map((l) => /^\d\d:\d\d:\d\d {2}(\w+)/.exec(l)?.[1])
      .filter(Boolean);
    assert.deepEqual(
      states.filter((s, i) => s !== states[i - 1]),
      ["submitted", "starting", "running", "finished"],
    );
    assert.deepEqual(await temporarySubscriptions(), []);
  });

  it("submit --follow ends on stopped (exit 1) when cancel --wait stops it (exit 0)", async () => {
    const following = startCli([...launchFlags("ops", "f-stop"), "--follow"], env);
    const job = await waitFor("the job of f-stop", () => jobOf("f-stop"));
    stack.vertex.control.advance({ job: job.name, steps: 2 });
    await stack.waitForRecord("ops", "f-stop", "running", 20_000);
    const cancel = await run(["cancel", "--queue", "ops", "--run-id", "f-stop", "--wait"]);
    assert.equal(cancel.code, 0, cancel.out + cancel.err);
    assert.match(cancel.out, /stopped {3}f-stop/);
    const r = await following.done;
    outputs.push(r.out, r.err);
    assert.equal(r.code, 1);
    assert.match(r.out, /running {3}f-stop[\s\S]*stopped {3}f-stop/);
  });

  it("cancel of a launch that does not exist is an error at once", async () => {
    const r = await run(["cancel", "--queue", "ops", "--run-id", "ghost", "--wait"]);
    assert.equal(r.code, 3);
    assert.match(r.err, /no launch with run_id ghost in queue ops .*nothing to cancel/);
    assert.equal(r.out, "");
  });

  it("events tails launch-status and deletes its subscription on exit and on Ctrl-C", async () => {
    const tail = startCli(["events", "--queue", "ops", "--count", "1"], env);
    await waitFor(
      "the events subscription",
      async () => (await temporarySubscriptions()).length === 1,
    );
    const sub = await run([...launchFlags("ops", "e1"), "--wait"]);
    assert.equal(sub.code, 0, sub.err);
    const r = await tail.done;
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /submitted ops\/e1 {2}job projects\//);
    assert.match(r.err, /temporary subscription vertex-dispatch-cli-\w+ \(deleted on exit/);
    assert.deepEqual(await temporarySubscriptions(), []);

    const waiting = startCli(["events"], env);
    await waitFor(
      "the second events subscription",
      async () => (await temporarySubscriptions()).length === 1,
    );
    waiting.interrupt();
    const stopped = await waiting.done;
    assert.equal(stopped.code, 130);
    assert.deepEqual(await temporarySubscriptions(), []);
  });

  it("queues push validates (preflight included) before uploading; list and show read it back", async () => {
    const good = join(stack.queueDir, "..", "cli-new.yaml");
    writeFileSync(good, queueYaml());
    const pushed = await run(["queues", "push", good, "--name", "fresh"]);
    assert.equal(pushed.code, 0, pushed.err);
    assert.match(pushed.out, /pushed queue fresh to .*fresh\.yaml \(valid, buckets checked\)/);

    const list = await run(["queues", "list"]);
    assert.match(list.out, /^fresh\s+\S+fresh\.yaml\s+ok$/m);
    assert.match(list.out, /^badcfg\s+\S+badcfg\.yaml\s+invalid: /m);
    const show = await run(["queues", "show", "fresh"]);
    assert.equal(show.out, queueYaml().endsWith("\n") ? queueYaml() : `${queueYaml()}\n`);
    const shown = JSON.parse((await run(["queues", "show", "fresh", "--json"])).out);
    assert.equal(shown.config.spec.staging_bucket, "gs://local-staging");

    const multi = join(stack.queueDir, "..", "cli-multi.yaml");
    writeFileSync(multi, queueYaml({ staging: "cli-us" }));
    const refused = await run(["queues", "push", multi, "--name", "refused"]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /gs:\/\/cli-us is in location US/);
    assert.equal((await run(["queues", "show", "refused"])).code, 3, "nothing was uploaded");

    const submitted = await run([...launchFlags("fresh", "q1"), "--wait"]);
    assert.equal(submitted.code, 0, submitted.err);
  });

  it("validate --queue checks a deployed config; a missing one is not found", async () => {
    const ok = await run(["validate", "--queue", "ops"]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(
      ok.out,
      /ops\.yaml: valid \(queue ops, projects\/local-project\/locations\/us-central1, buckets checked\)/,
    );
    const bad = await run(["validate", "--queue", "multi"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /gcloud storage buckets create/);
    const none = await run(["validate", "--queue", "nosuch"]);
    assert.equal(none.code, 3);
    assert.match(none.err, /vertex-dispatch queues push FILE --name nosuch/);
  });
});

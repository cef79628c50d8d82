// The W&B run-queue bridge end to end on the local stack: items pushed to the W&B
// emulator's queue (GraphQL pushToRunQueueByName, as `wandb launch --queue` does) are
// popped by the poll function's bridge, published to launch-jobs, dispatched to the Vertex
// emulator and acked; rejections go back to W&B with failRunQueueItem. Faults on the W&B
// side (lost answers, 503, 401) never lose an item and never make a second job.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { demoRunSpec } from "../../local/stack/demo.js";
import {
  type ItemState,
  itemState,
  pushDemoItem,
  waitForItem,
} from "../../local/stack/wandb_demo.js";
import { launchIdFor } from "../../shared/resolve/ids.js";
import { stackMissing, startTestStack, TEST_SECRET, type TestStack } from "../helpers/stack.js";

const missing = stackMissing();
if (missing) console.warn(`\n!!! ${missing}\n`);

const QUEUE = "wandb-demo";

/** Waits for a condition, checking every 100 ms; the error says what it waited for. */
async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const got = await check();
    if (got) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe("W&B run-queue bridge on the local stack", { skip: missing ?? false }, () => {
  let stack: TestStack;
  const control = (path: string, body?: unknown) =>
    fetch(`${stack.wandb.url}/emulator/v1${path}`, {
      method: body === undefined ? "GET" : "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => r.json() as Promise<Record<string, unknown>>);
  const jobsOf = (itemId: string) =>
    stack.vertex.control.jobs().filter((j) => j.labels["launch-id"] === launchIdFor(itemId));
  const requests = () => stack.wandb.ctx.requests;
  /** Waits until the item's launch has its job and every publish of it was dispatched. */
  const oneJobAfter = async (itemId: string, publishes: number) => {
    await until("the item's CustomJob", async () => jobsOf(itemId).length > 0, 90_000);
    const launchId = launchIdFor(itemId);
    await until(
      `${publishes - 1} duplicate deliveries acknowledged by dispatch`,
      async () =>
        stack.functionLines.filter(
          (l) => l.includes(launchId) && l.includes("duplicate: this launch"),
        ).length >=
        publishes - 1,
    );
    assert.equal(jobsOf(itemId).length, 1);
  };

  before(async () => {
    stack = await startTestStack({ functions: ["dispatch", "poll"], pollIntervalMs: 1000 });
  });
  afterEach(async () => {
    await fetch(`${stack.wandb.url}/emulator/v1/faults`, { method: "DELETE" });
  });
  after(async () => {
    await stack?.close();
  });

  it("turns a pushed item into one CustomJob with the item's runSpec, and acks it with the run id", async () => {
    const itemId = await pushDemoItem(stack.wandb);
    const item = await waitForItem(stack.wandb, itemId, ["CLAIMED", "FAILED"], 30_000);
    assert.equal(item.state, "CLAIMED", JSON.stringify(item));
    const runId = item.run_name ?? "";
    assert.match(runId, /^[a-z0-9]{8}$/);
    // The first launch of a fresh stack (cold function instances) can take a while here.
    await oneJobAfter(itemId, 1);
    const record = (await stack.readRecord(QUEUE, runId))?.record;
    assert.ok(record);
    assert.equal(record.idempotency_key, itemId);
    assert.equal(record.launch_id, launchIdFor(itemId));
    const [job, ...more] = jobsOf(itemId);
    assert.ok(job, "a CustomJob with the item's launch-id label");
    assert.equal(more.length, 0);
    const got = (await (await fetch(`${stack.vertex.restUrl}/v1/${job.name}`)).json()) as {
      displayName: string;
      jobSpec: {
        workerPoolSpecs: Array<{
          containerSpec: {
            imageUri: string;
            args?: string[];
            env: Array<{ name: string; value: string }>;
          };
        }>;
      };
    };
    const container = got.jobSpec.workerPoolSpecs[0]?.containerSpec;
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
    const spec = demoRunSpec() as { docker: { docker_image: string }; name: string };
    assert.equal(container?.imageUri, spec.docker.docker_image);
    assert.deepEqual(container?.args, ["--epochs", "3"]);
    assert.equal(env.WANDB_LAUNCH_TRACE_ID, itemId);
    assert.equal(env.WANDB_RUN_ID, runId);
    assert.deepEqual(JSON.parse(env.WANDB_CONFIG ?? "{}"), { lr: 0.001, epochs: 3 });
    assert.equal(got.displayName, spec.name);
    // The bridge registered an agent for the queue and keeps its heartbeat.
    // One live agent for the queue (a tick that lost the race to register marks its own KILLED).
    const live = async () =>
      ((await control("/agents")).agents as Array<{ status: string; heartbeats: number }>).filter(
        (a) => a.status !== "KILLED",
      );
    assert.equal((await live()).length, 1);
    await until("a second heartbeat", async () => ((await live())[0]?.heartbeats ?? 0) >= 2);
  });

  it("shows a launch the dispatcher rejected in the item's error, even when W&B failed the first report", async () => {
    await control("/faults", {
      operation: "failRunQueueItem",
      kind: "status",
      status: 503,
      count: 1,
    });
    // No docker image: the queue's ${image_uri} has nothing to fill, so dispatch rejects it.
    const { docker: _none, ...noImage } = demoRunSpec();
    const itemId = await pushDemoItem(stack.wandb, noImage);
    const item = await waitForItem(stack.wandb, itemId, ["FAILED"], 40_000);
    assert.equal(item.error?.stage, "agent");
    assert.match(
      item.error?.message ?? "",
      /vertex-dispatch rejected the launch \(invalid_message: .*image_uri.*add it/s,
    );
    assert.equal(jobsOf(itemId).length, 0);
    assert.ok(requests().some((r) => r.operation === "failRunQueueItem" && r.status === 503));
  });

  it("sends the launch's warnings to the item once, with updateRunQueueItemWarning", async () => {
    const image = "docker.io/library/python:3.11";
    const itemId = await pushDemoItem(stack.wandb, {
      ...demoRunSpec(),
      docker: { docker_image: image },
    });
    await oneJobAfter(itemId, 1);
    const warned = await until("the item's warning", async () => {
      const item = await itemState(stack.wandb, itemId);
      return item.warnings.length > 0 ? item : undefined;
    });
    assert.equal(warned.state, "CLAIMED");
    assert.equal(warned.warnings.length, 1);
    assert.match(
      warned.warnings[0]?.message ?? "",
      new RegExp(`image ${image} is not in Artifact Registry.*must be public`),
    );
    // Later ticks do not send it again.
    const sent = () => requests().filter((r) => r.operation === "updateRunQueueItemWarning").length;
    const before = sent();
    const pops = requests().filter((r) => r.operation === "popFromRunQueue").length;
    await until(
      "two more ticks",
      async () => requests().filter((r) => r.operation === "popFromRunQueue").length >= pops + 2,
    );
    assert.equal(sent(), before);
  });

  it("fails an item it cannot turn into a launch message at once, naming the runSpec field", async () => {
    const itemId = await pushDemoItem(stack.wandb, { ...demoRunSpec(), run_id: "Not A Run Id" });
    const item = await waitForItem(stack.wandb, itemId, ["FAILED"], 30_000);
    assert.match(item.error?.message ?? "", /launch message run_id: expected 1-64 characters/);
    assert.equal(jobsOf(itemId).length, 0);
  });

  it("makes one job when the ack never reached W&B and the item is popped again", async () => {
    await control("/faults", {
      operation: "ackRunQueueItem",
      kind: "status",
      status: 503,
      count: 1,
    });
    const itemId = await pushDemoItem(stack.wandb);
    await until("the failed ack", async () =>
      requests().some((r) => r.operation === "ackRunQueueItem" && r.status === 503),
    );
    assert.equal((await itemState(stack.wandb, itemId)).state, "LEASED");
    // W&B gives a leased, unacked item back after its lease (60 s); here at once.
    await control("/leases/expire", {});
    const item = (await waitForItem(stack.wandb, itemId, ["CLAIMED"], 30_000)) as ItemState & {
      pops: number;
    };
    assert.equal(item.pops, 2, "published twice");
    await oneJobAfter(itemId, 2);
  });

  it("makes one job when the answer to a pop or an ack was lost, and across redelivered ticks", async () => {
    await control("/faults", { operation: "popFromRunQueue", kind: "drop", count: 1 });
    await control("/faults", { operation: "ackRunQueueItem", kind: "drop", count: 1 });
    const itemId = await pushDemoItem(stack.wandb);
    await until("the lost pop", async () =>
      requests().some((r) => r.operation === "popFromRunQueue" && r.fault === "drop"),
    );
    await control("/leases/expire", {});
    // The ack is applied and its answer lost: W&B has the item CLAIMED, the bridge does not know.
    await waitForItem(stack.wandb, itemId, ["CLAIMED"], 30_000);
    await oneJobAfter(itemId, 1);
    // Redelivered ticks: a burst of them at once changes nothing.
    const pops = () => requests().filter((r) => r.operation === "popFromRunQueue").length;
    const before = pops();
    await Promise.all(
      [1, 2, 3].map(() =>
        stack.pubsub.topic("launch-poll").publishMessage({ json: { tick: "again" } }),
      ),
    );
    await until("three more ticks to pop", async () => pops() >= before + 3);
    assert.equal(jobsOf(itemId).length, 1);
    assert.equal((await itemState(stack.wandb, itemId)).state, "CLAIMED");
  });

  it("loses no item while W&B is down (503) or refuses the key (401), and says so in the log", async () => {
    for (const status of [503, 401]) {
      await control("/faults", { operation: "*", kind: "status", status, count: 4 });
      // Pushed through the control API: W&B's GraphQL is down for the bridge.
      const pushed = await control("/items", {
        entity: "acme",
        project: "model-registry",
        queue: "vertex-demo",
        run_spec: demoRunSpec(),
      });
      const itemId = String(pushed.id);
      await until(
        `four calls answered ${status}`,
        async () => requests().filter((r) => r.status === status).length >= 4,
      );
      const item = await waitForItem(stack.wandb, itemId, ["CLAIMED"], 30_000);
      assert.equal((item as ItemState & { pops: number }).pops, 1);
      await oneJobAfter(itemId, 1);
      const kind = status === 401 ? "refused the API key \\(HTTP 401\\)" : "answered HTTP 503";
      assert.ok(
        stack.functionLines.some((l) => new RegExp(kind).test(l)),
        `a log line saying ${kind}`,
      );
      stack.wandb.ctx.requests.length = 0;
    }
  });

  it("never logs the W&B API key, plain or as the Basic credentials", () => {
    const basic = Buffer.from(`api:${TEST_SECRET}`).toString("base64");
    assert.ok(stack.functionLines.length > 0);
    for (const line of stack.functionLines) {
      assert.ok(!line.includes(TEST_SECRET), `the key in: ${line}`);
      assert.ok(!line.includes(basic), `the credentials in: ${line}`);
    }
    assert.ok(stack.functionLines.some((l) => l.includes("bridge: published a run-queue item")));
  });
});

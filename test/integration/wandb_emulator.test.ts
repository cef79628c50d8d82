// The W&B emulator over plain HTTP: W&B's Basic api:KEY auth, GraphQL validation, item
// leases, template variables and faults. (W&B's own client is run against it in
// wandb_sdk.test.ts.)
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startWandbEmulator, type WandbEmulator } from "../../local/wandb/index.js";

let now = Date.parse("2026-01-01T00:00:00Z");

describe("W&B emulator over HTTP", () => {
  let w: WandbEmulator;
  const gql = async (
    query: string,
    variables: unknown = {},
    key: string | null = w.apiKey,
    user = "api",
  ) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (key !== null)
      headers.authorization = `Basic ${Buffer.from(`${user}:${key}`).toString("base64")}`;
    const res = await fetch(`${w.url}/graphql`, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
    return {
      status: res.status,
      body: (await res.json()) as {
        // biome-ignore lint/suspicious/noExplicitAny: the tests read loose GraphQL answers.
        data?: Record<string, any>;
        errors?: Array<{ message: string }>;
      },
    };
  };
  const push = (runSpec: unknown, templateVariableValues?: unknown) =>
    gql(
      `mutation($r: JSONString!, $t: JSONString) { pushToRunQueueByName(input: {entityName: "acme", projectName: "model-registry", queueName: "q", runSpec: $r, templateVariableValues: $t}) { runQueueItemId runSpec } }`,
      {
        r: JSON.stringify(runSpec),
        t: templateVariableValues === undefined ? null : JSON.stringify(templateVariableValues),
      },
    );
  const pop = () =>
    gql(
      `mutation { popFromRunQueue(input: {entityName: "acme", projectName: "model-registry", queueName: "q"}) { runQueueItemId runSpec } }`,
    );

  before(async () => {
    w = await startWandbEmulator({ port: 0, leaseSeconds: 60, now: () => now });
    w.ctx.store.addQueue({
      entity: "acme",
      project: "model-registry",
      name: "q",
      access: "PROJECT",
      createdBy: "acme",
      resource: "gcp-vertex",
      config: {
        spec: {
          worker_pool_specs: [{ machine_spec: { accelerator_count: "{{gpus}}" } }],
          display_name: "run-{{gpus}}",
        },
      },
      templateVariables: { gpus: { schema: { type: "integer", minimum: 0, maximum: 8 } } },
    });
  });
  after(() => w.close());

  it("answers 401 to a missing header, another user than api, or an unknown key", async () => {
    for (const [key, user] of [
      [null, "api"],
      [w.apiKey, "admin"],
      ["x".repeat(40), "api"],
    ] as const) {
      const got = await gql("{ viewer { username } }", {}, key, user);
      assert.equal(got.status, 401);
      assert.match(got.body.errors?.[0]?.message ?? "", /not logged in/);
    }
    assert.deepEqual((await gql("{ viewer { username entity } }")).body.data, {
      viewer: { username: "acme", entity: "acme" },
    });
  });

  it("validates queries against its schema, as GraphQL servers do", async () => {
    const got = await gql(
      'mutation { popFromRunQueue(input: {entityName: "a", projectName: "b", queueName: "c"}) { nope } }',
    );
    assert.equal(got.status, 400);
    assert.match(
      got.body.errors?.[0]?.message ?? "",
      /Cannot query field "nope" on type "PopFromRunQueuePayload"/,
    );
  });

  it("fills template variables on push, checks them, and leases a popped item until acked or lapsed", async () => {
    const bad = await push({ entity: "acme", project: "p" }, { gpus: 9 });
    assert.match(bad.body.errors?.[0]?.message ?? "", /gpus must be at most 8/);
    assert.match(
      (await push({ entity: "acme", project: "p" })).body.errors?.[0]?.message ?? "",
      /gpus of queue q needs a value/,
    );
    const ok = await push(
      { entity: "acme", project: "p", resource_args: { "gcp-vertex": { run: { timeout: 5 } } } },
      { gpus: 4 },
    );
    const id = ok.body.data?.pushToRunQueueByName.runQueueItemId as string;
    assert.deepEqual(JSON.parse(ok.body.data?.pushToRunQueueByName.runSpec).resource_args, {
      "gcp-vertex": {
        spec: {
          worker_pool_specs: [{ machine_spec: { accelerator_count: 4 } }],
          display_name: "run-4",
        },
        run: { timeout: 5 },
      },
    });
    assert.equal((await pop()).body.data?.popFromRunQueue.runQueueItemId, id);
    assert.equal((await pop()).body.data?.popFromRunQueue, null, "leased: not popped twice");
    now += 61_000;
    assert.equal(
      (await pop()).body.data?.popFromRunQueue.runQueueItemId,
      id,
      "back after the lease",
    );
    const ack = (name: string) =>
      gql(
        `mutation { ackRunQueueItem(input: {runQueueItemId: "${id}", runName: "${name}"}) { success } }`,
      );
    assert.equal((await ack("r1")).body.data?.ackRunQueueItem.success, true);
    assert.equal((await ack("r1")).body.data?.ackRunQueueItem.success, false);
    now += 61_000;
    assert.equal((await pop()).body.data?.popFromRunQueue, null, "a claimed item never comes back");
  });

  it("fires faults by operation: an error status before, or a dropped answer after doing it", async () => {
    const ctl = (body: unknown) =>
      fetch(`${w.url}/emulator/v1/faults`, { method: "POST", body: JSON.stringify(body) });
    await ctl({ operation: "popFromRunQueue", kind: "status", status: 503, count: 1 });
    const id = (await push({ entity: "acme", project: "p" }, { gpus: 1 })).body.data
      ?.pushToRunQueueByName.runQueueItemId;
    assert.equal((await pop()).status, 503);
    await ctl({ operation: "popFromRunQueue", kind: "drop", count: 1 });
    await assert.rejects(pop(), "no answer");
    const item = (await (
      await fetch(`${w.url}/emulator/v1/items/${encodeURIComponent(id)}`)
    ).json()) as { state: string; pops: number };
    assert.deepEqual([item.state, item.pops], ["LEASED", 1], "the dropped pop happened");
    const log = (await (await fetch(`${w.url}/emulator/v1/requests`)).json()) as {
      requests: Array<{ fault: string | null }>;
    };
    assert.deepEqual(
      log.requests.slice(-2).map((r) => r.fault),
      ["status 503", "drop"],
    );
    const bad = await ctl({ kind: "status", status: 200 });
    assert.equal(bad.status, 400);
  });
});

// The report side's decisions, on in-memory state: which launch records go back to W&B
// as failRunQueueItem / updateRunQueueItemWarning, and when a bridge object is done.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { reportOutcomes } from "../../shared/bridge/report.js";
import { type BridgeItem, type BridgeState, itemPath } from "../../shared/bridge/state.js";
import type { Report, WandbApi } from "../../shared/bridge/wandb_api.js";
import { DispatchError } from "../../shared/errors.js";
import { silentLogger } from "../../shared/log.js";
import type { LaunchRecord } from "../../shared/schemas/launch_record.js";
import type { LaunchStore } from "../../shared/storage/launch_store.js";

const NOW = new Date("2026-01-01T01:00:00Z");

function item(id: string, createdAt = "2026-01-01T00:59:00Z"): BridgeItem {
  return {
    version: 1,
    item_id: id,
    wandb_queue: "a/b/c",
    queue: "q",
    run_id: `run-${id}`,
    launch_id: `l-${id}`,
    created_at: createdAt,
  };
}

function record(
  runId: string,
  state: LaunchRecord["state"],
  extra: Partial<LaunchRecord> = {},
): LaunchRecord {
  return {
    version: 1,
    launch_id: "l",
    idempotency_key: "k",
    message_id: null,
    queue: "q",
    entity: "e",
    project: "p",
    run_id: runId,
    state,
    priority: 2,
    attempt: 1,
    job_name: "projects/1/locations/us-central1/customJobs/7",
    vertex_state: null,
    console_url: null,
    error: null,
    warnings: [],
    lease: null,
    message: null,
    outbox: null,
    previous_jobs: [],
    created_at: "",
    updated_at: "",
    ...extra,
  };
}

function world(items: BridgeItem[], records: LaunchRecord[], failing = false, warnFails = 0) {
  const objects = new Map(items.map((i) => [itemPath(i.item_id), i]));
  const warned = new Set<string>();
  const calls: Array<{ op: string } & Report> = [];
  const state = {
    readItem: async (p: string) => objects.get(p) ?? null,
    listItems: async (max: number) => [...objects.keys()].slice(0, max),
    removeItem: async (id: string) => void objects.delete(itemPath(id)),
    // Create-only, like the bucket: the first claim wins.
    claimWarnings: async (id: string) => {
      await Promise.resolve(); // an answer comes later, as from GCS
      if (warned.has(id)) return false;
      warned.add(id);
      return true;
    },
    unclaimWarnings: async (id: string) => void warned.delete(id),
  } as unknown as BridgeState;
  const store = {
    read: async (path: string) => {
      const r = records.find((x) => path === `launches/${x.queue}/${x.run_id}.json`);
      return r ? { record: r, generation: "1" } : null;
    },
  } as unknown as LaunchStore;
  const api = {
    fail: async (r: Report) => {
      if (failing) throw new DispatchError("wandb_unavailable", "down");
      calls.push({ op: "fail", ...r });
      return true;
    },
    warn: async (r: Report) => {
      await Promise.resolve();
      if (warnFails-- > 0) throw new DispatchError("wandb_unavailable", "down");
      calls.push({ op: "warn", ...r });
      return true;
    },
  } as unknown as WandbApi;
  const run = () =>
    reportOutcomes({
      api,
      state,
      store,
      log: silentLogger,
      now: () => NOW,
      maxReportsPerTick: 10,
      orphanSeconds: 600,
    });
  return { run, calls, objects };
}

describe("reportOutcomes", () => {
  it("fails a launch that ended before its run started with stage run, and a rejected one with stage agent", async () => {
    const w = world(
      [item("a"), item("b")],
      [
        record("run-a", "failed", {
          error: { kind: "start_timeout", message: "did not start within 1800 s", issues: [] },
        }),
        record("run-b", "rejected", {
          error: { kind: "invalid_config", message: "bad machine", issues: [] },
          warnings: ["w"],
        }),
      ],
    );
    const sum = await w.run();
    assert.deepEqual(w.calls, [
      {
        op: "fail",
        itemId: "a",
        stage: "run",
        message:
          "the Vertex AI job projects/1/locations/us-central1/customJobs/7 ended failed before its run started (start_timeout: did not start within 1800 s)",
      },
      {
        op: "fail",
        itemId: "b",
        stage: "agent",
        message: "vertex-dispatch rejected the launch (invalid_config: bad machine)",
      },
    ]);
    assert.equal(w.objects.size, 0);
    assert.deepEqual(sum, { checked: 2, failed: 2, warned: 0, done: 2 });
  });

  it("sends warnings once, keeps launches still starting, and lets running ones go", async () => {
    const w = world(
      [item("s"), item("r"), item("d")],
      [
        record("run-s", "starting", { warnings: ["image must be public"] }),
        record("run-r", "running"),
        record("run-d", "dispatching"),
      ],
    );
    await w.run();
    await w.run();
    assert.deepEqual(w.calls, [
      { op: "warn", itemId: "s", stage: "agent", message: "image must be public" },
    ]);
    assert.deepEqual([...w.objects.keys()].sort(), [itemPath("d"), itemPath("s")]);
  });

  it("sends warnings once when two ticks overlap, and again after a send that failed", async () => {
    const overlapping = world([item("s")], [record("run-s", "starting", { warnings: ["w1"] })]);
    await Promise.all([overlapping.run(), overlapping.run()]);
    assert.deepEqual(
      overlapping.calls.map((c) => c.message),
      ["w1"],
      "warnings sent by two overlapping ticks",
    );
    const flaky = world([item("s")], [record("run-s", "starting", { warnings: ["w1"] })], false, 1);
    await flaky.run(); // W&B down: the claim is given back
    await flaky.run();
    await flaky.run();
    assert.deepEqual(
      flaky.calls.map((c) => c.message),
      ["w1"],
      "warnings sent after one failed send",
    );
  });

  it("waits for a missing record, then fails the item once it is older than orphanSeconds", async () => {
    const w = world([item("young"), item("old", "2026-01-01T00:00:00Z")], []);
    await w.run();
    assert.deepEqual(
      w.calls.map((c) => [c.itemId, c.stage]),
      [["old", "agent"]],
    );
    assert.match(w.calls[0]?.message ?? "", /never reached the dispatcher/);
    assert.deepEqual([...w.objects.keys()], [itemPath("young")]);
  });

  it("keeps the object when W&B could not take the report, for the next tick", async () => {
    const w = world([item("a")], [record("run-a", "rejected")], true);
    const sum = await w.run();
    assert.equal(sum.done, 0);
    assert.equal(w.objects.size, 1);
  });
});

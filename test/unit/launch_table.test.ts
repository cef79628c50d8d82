// The lifecycle table (shared/launch/table.ts) holds its invariants as data, and commit()
// refuses what the table lacks before it touches anything.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type CommitDeps, commit } from "../../shared/launch/commit.js";
import { freshRecord, withState } from "../../shared/launch/record.js";
import {
  type Effect,
  settleEffects,
  TRANSITIONS,
  type Transition,
} from "../../shared/launch/table.js";
import { FINAL_STATES, type RecordState } from "../../shared/schemas/launch_record.js";

const rows = Object.entries(TRANSITIONS) as Array<[string, Transition]>;

describe("the launch transition table", () => {
  it("every row writes the record exactly once, with only a marker write before it", () => {
    for (const [name, row] of rows) {
      assert.equal(row.effects.filter((e) => e === "write").length, 1, name);
      const before = row.effects.slice(0, row.effects.indexOf("write"));
      assert.ok(
        before.every((e) => e === "marker_put" || e === "marker_create"),
        `${name}: ${before.join(", ")}`,
      );
      assert.ok(
        !row.effects.slice(row.effects.indexOf("write")).includes("marker_create"),
        `${name}: a create-only marker write only comes before the record write`,
      );
    }
  });

  it("every write that makes a launch dispatching from outside writes its marker first (nothing is stranded)", () => {
    for (const [name, row] of rows) {
      const entersFromOutside = row.from.some(
        (f) => f === "none" || f === "queued" || FINAL_STATES.has(f as RecordState),
      );
      if (row.to.includes("dispatching") && entersFromOutside && !row.event) {
        assert.ok(["marker_put", "marker_create"].includes(row.effects[0] ?? ""), name);
      }
    }
  });

  it("a row that ends a launch releases its slot before its event and removes its marker after", () => {
    for (const [name, row] of rows) {
      if (!row.to.every((s) => FINAL_STATES.has(s))) continue;
      const at = (e: Effect) => row.effects.indexOf(e);
      assert.ok(at("slot_release") > at("write") && at("slot_release") < at("publish"), name);
      assert.ok(at("marker_remove") > at("publish"), name);
    }
  });

  it("settling a pending event repeats the effects its row lists after the write", () => {
    for (const [name, row] of rows) {
      if (!row.event) continue;
      const after = row.effects.slice(row.effects.indexOf("write") + 1);
      for (const state of row.to)
        assert.deepEqual(settleEffects(state), after, `${name} -> ${state}`);
    }
  });
});

describe("commit", () => {
  const untouchable = new Proxy({} as CommitDeps, {
    get(_t, prop) {
      if (prop === "now") return () => new Date("2026-01-01T00:00:00Z");
      throw new Error(`commit touched deps.${String(prop)} before refusing`);
    },
  });
  const now = new Date("2026-01-01T00:00:00Z");
  const dispatching = freshRecord({
    launchId: "l1",
    idempotencyKey: "k1",
    queue: "q",
    entity: "e",
    project: "p",
    runId: "r1",
    state: "dispatching",
    now,
  });
  const stored = { record: dispatching, generation: "1" };

  it("refuses a transition the table does not hold, naming what is wrong", async () => {
    const finished = withState(dispatching, "finished", now);
    await assert.rejects(
      commit(stored, finished, { step: "submit", by: "dispatch" }, untouchable),
      /step submit refused to finished/,
    );
    const running = withState(dispatching, "running", now);
    await assert.rejects(
      commit(
        { record: withState(dispatching, "submitted", now), generation: "1" },
        running,
        { step: "observe", by: "dispatch" },
        untouchable,
      ),
      /step observe refused by dispatch/,
    );
  });

  it("refuses a lease where the row holds none, and none where it needs one", async () => {
    const lease = { holder: "h/1", expires_at: "2026-01-01T00:01:00Z" };
    const submitted = withState(dispatching, "submitted", now, { lease });
    await assert.rejects(
      commit(stored, submitted, { step: "submit", by: "dispatch" }, untouchable),
      /with a lease/,
    );
    await assert.rejects(
      commit(null, dispatching, { step: "create", by: "dispatch" }, untouchable),
      /without a lease/,
    );
  });

  it("refuses to write an event over one still pending", async () => {
    const event = {
      launch_id: "l1",
      queue: "q",
      entity: "e",
      project: "p",
      run_id: "r1",
      state: "running" as const,
      previous_state: "starting" as const,
      vertex_state: null,
      job_name: null,
      console_url: null,
      error: null,
      warnings: [],
      attempt: 1,
      time: now.toISOString(),
    };
    const pending = {
      ...withState(dispatching, "running", now),
      outbox: { event, until: now.toISOString() },
    };
    const finished = withState(pending, "finished", now);
    await assert.rejects(
      commit(
        { record: pending, generation: "2" },
        finished,
        { step: "end", by: "poll" },
        untouchable,
      ),
      /over a pending event/,
    );
  });
});

describe("the one writer", () => {
  it("no file in shared/ but shared/launch/commit.ts writes a launch record", () => {
    const root = join(import.meta.dirname, "../../shared");
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) =>
      f.endsWith(".ts"),
    );
    const writers = files.filter((f) =>
      /\bstore\.(create|update)\(/.test(readFileSync(join(root, f), "utf8")),
    );
    assert.deepEqual(writers, [join("launch", "commit.ts")]);
  });
});

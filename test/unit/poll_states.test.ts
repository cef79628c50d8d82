import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { launchStateOf, PREEMPTION_PATTERNS, VERTEX_TO_LAUNCH } from "../../shared/poll/states.js";

describe("Vertex state → launch state (SPEC §7)", () => {
  const table: Array<[string, string]> = [
    ["JOB_STATE_QUEUED", "starting"],
    ["JOB_STATE_PENDING", "starting"],
    ["JOB_STATE_RUNNING", "running"],
    ["JOB_STATE_UPDATING", "running"],
    ["JOB_STATE_SUCCEEDED", "finished"],
    ["JOB_STATE_FAILED", "failed"],
    ["JOB_STATE_EXPIRED", "failed"],
    ["JOB_STATE_PARTIALLY_SUCCEEDED", "failed"],
    ["JOB_STATE_CANCELLING", "stopped"],
    ["JOB_STATE_CANCELLED", "stopped"],
    ["JOB_STATE_PAUSED", "unknown"],
    ["JOB_STATE_UNSPECIFIED", "unknown"],
  ];
  for (const [vertex, launch] of table) {
    it(`${vertex} → ${launch}`, () => assert.equal(launchStateOf(vertex, null), launch));
  }
  it("covers every row of the table and nothing else", () => {
    assert.deepEqual(Object.keys(VERTEX_TO_LAUNCH).sort(), table.map(([v]) => v).sort());
  });
  it("maps a state it does not know to unknown", () =>
    assert.equal(launchStateOf("JOB_STATE_NEW_THING", null), "unknown"));

  const preempted = [
    "The replica workerpool0-0 was preempted: its Spot VM was reclaimed by Compute Engine (STOCKOUT).",
    "Resources are insufficient in region: us-central1. Please try a different region.",
    "ZONE_RESOURCE_POOL_EXHAUSTED: the zone does not have enough resources available",
  ];
  const failed = [
    "The replica workerpool0-0 exited with a non-zero status of 1.",
    "Internal error occurred.",
  ];
  for (const vertex of ["JOB_STATE_FAILED", "JOB_STATE_EXPIRED", "JOB_STATE_PARTIALLY_SUCCEEDED"]) {
    for (const message of preempted) {
      it(`${vertex} with "${message.slice(0, 40)}…" → preempted`, () =>
        assert.equal(launchStateOf(vertex, { message }), "preempted"));
    }
    for (const message of failed) {
      it(`${vertex} with "${message.slice(0, 40)}…" → failed`, () =>
        assert.equal(launchStateOf(vertex, { message }), "failed"));
    }
  }
  it("never calls a successful or cancelled job preempted", () => {
    assert.equal(launchStateOf("JOB_STATE_SUCCEEDED", { message: "preempted" }), "finished");
    assert.equal(launchStateOf("JOB_STATE_CANCELLED", { message: "preempted" }), "stopped");
  });
  it("keeps the preemption patterns few and specific", () =>
    assert.ok(PREEMPTION_PATTERNS.length <= 8));
});

// The status event schema (SPEC §7).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LAUNCH_STATES, StatusEventSchema } from "../../shared/schemas/status_event.js";

const EVENT = {
  launch_id: "4dfbe8c3ed35441dc684",
  queue: "q",
  entity: "e",
  project: "p",
  run_id: "r",
  state: "running",
  previous_state: "starting",
  vertex_state: "JOB_STATE_RUNNING",
  job_name: "projects/P/locations/R/customJobs/123",
  console_url: "https://console.cloud.google.com/vertex-ai/training/custom-jobs",
  error: null,
  attempt: 1,
  time: "2026-01-01T00:00:00Z",
};

describe("status event", () => {
  it("accepts SPEC §7's example; warnings default to []", () => {
    const e = StatusEventSchema.parse(EVENT);
    assert.deepEqual(e.warnings, []);
  });
  it("lists the ten launch states", () => {
    assert.deepEqual(LAUNCH_STATES, [
      "queued",
      "submitted",
      "starting",
      "running",
      "finished",
      "failed",
      "preempted",
      "stopped",
      "rejected",
      "unknown",
    ]);
  });
  it("carries a rejected launch's error with its issues", () => {
    const e = StatusEventSchema.parse({
      ...EVENT,
      state: "rejected",
      previous_state: null,
      vertex_state: null,
      job_name: null,
      error: {
        kind: "invalid_config",
        message: "bad",
        retryable: false,
        issues: [{ path: "spec", message: "x" }],
      },
    });
    assert.equal(e.error?.issues[0]?.path, "spec");
  });
  const BAD: Array<[string, Record<string, unknown>]> = [
    ["unknown state", { state: "done" }],
    ["unknown key", { extra: 1 }],
    ["time not ISO", { time: "yesterday" }],
    ["attempt negative", { attempt: -1 }],
  ];
  for (const [title, patch] of BAD) {
    it(`rejects: ${title}`, () => {
      assert.equal(StatusEventSchema.safeParse({ ...EVENT, ...patch }).success, false);
    });
  }
});

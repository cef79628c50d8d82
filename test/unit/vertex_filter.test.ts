// The Vertex emulator's ListCustomJobs filter: grammar, precedence and errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../../local/vertex/errors.js";
import { compileFilter } from "../../local/vertex/filter.js";

const job = {
  displayName: "train-resnet",
  state: "JOB_STATE_RUNNING",
  createTime: "2026-05-18T10:00:00.500Z",
  labels: { team: "ml", "launch-id": "abc-123" },
};

test("comparisons on each supported field", () => {
  const yes = [
    "",
    "state=JOB_STATE_RUNNING",
    'state!="JOB_STATE_FAILED"',
    "display_name=train-resnet",
    'display_name:"train-*"',
    'display_name:"*resnet"',
    "labels.team=ml",
    "labels.launch-id=abc-123",
    "labels.team:*",
    "labels:team",
    'create_time>"2026-05-18T00:00:00Z"',
    'create_time<="2026-05-18T10:00:00.5Z"',
    'create_time="2026-05-18T12:00:00.500+02:00"',
  ];
  for (const filter of yes) assert.equal(compileFilter(filter)(job), true, filter);
  const no = [
    "state=JOB_STATE_QUEUED",
    "labels.owner:*",
    "labels.team!=ml",
    'display_name:"resnet"',
  ];
  for (const filter of no) assert.equal(compileFilter(filter)(job), false, filter);
});

test("AND, OR, NOT, '-', juxtaposition and parentheses; OR binds tighter than AND", () => {
  const match = (f: string) => compileFilter(f)(job);
  assert.equal(match("labels.team=ml AND state=JOB_STATE_RUNNING"), true);
  assert.equal(match("labels.team=ml state=JOB_STATE_QUEUED"), false);
  assert.equal(match("state=JOB_STATE_QUEUED OR state=JOB_STATE_RUNNING"), true);
  assert.equal(match("NOT state=JOB_STATE_RUNNING"), false);
  assert.equal(match("-labels.team=data"), true);
  // a AND b OR c == a AND (b OR c)
  assert.equal(match("state=JOB_STATE_QUEUED AND labels.team=ml OR labels.team=ml"), false);
  assert.equal(match("(state=JOB_STATE_QUEUED AND labels.team=ml) OR labels.team=ml"), true);
});

test("malformed filters throw INVALID_ARGUMENT naming the filter", () => {
  for (const bad of [
    "state",
    "state=",
    "state=RUNNING",
    "foo=bar",
    "(state=JOB_STATE_RUNNING",
    "a!b",
    "labels=x",
  ]) {
    assert.throws(
      () => compileFilter(bad),
      (err: unknown) =>
        err instanceof ApiError &&
        err.status === "INVALID_ARGUMENT" &&
        err.message.startsWith(`Invalid filter "${bad}"`),
      bad,
    );
  }
});

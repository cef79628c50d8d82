// Graceful shutdown (issue 14): SIGTERM to the dispatch function in the middle of a burst of
// 40 launches (each published 1-3 times), twice. What was in flight is redelivered by Pub/Sub
// and finished by the next holder; every launch ends with exactly one job, a `submitted`
// and a `finished` event, nothing left `dispatching`. (SIGTERM today is the Functions
// Framework's own handler: it answers the request in flight with an error and exits at once;
// pending outbox events are delivered by the next reader of the record.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { stackMissing } from "../helpers/stack.js";
import { runChaos } from "./harness.js";

const missing = stackMissing();
if (missing) process.stderr.write(`\n!!! ${missing}\n\n`);

test("SIGTERM mid-burst: every launch finishes with exactly one job and its events", {
  skip: missing ?? false,
  timeout: 600_000,
}, async () => {
  const result = await runChaos({
    launches: 40,
    seed: 15,
    faultRate: 0,
    kills: 2,
    killSignal: "stop",
    killOnly: "dispatch",
    poison: 0,
    limitedShare: 0,
    settleTimeoutMs: 300_000,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stderr.write(`${result.line}\n`);
  const v = result.verdict;
  const detail = `${result.line}\n${JSON.stringify(v, null, 2)}`;
  assert.equal(result.figures.kills, 2, "two SIGTERMs were sent mid-burst");
  assert.equal(v.jobs, 40, `jobs\n${detail}`);
  assert.equal(v.duplicates, 0, `duplicates\n${detail}`);
  assert.equal(v.lost, 0, `lost\n${detail}`);
  assert.equal(v.stuck, 0, `stuck\n${detail}`);
  // disagree counts launches whose last event is not `finished` or whose record/job differ.
  assert.equal(v.disagree, 0, `events and records\n${detail}`);
});

// The reduced chaos run of npm test (issue 14): 100 launches, each published 1-3 times,
// poison, Vertex and GCS faults at 2% of calls, two SIGKILLs of the functions, a max_jobs
// queue. LEASE_SECONDS=6 and CREATE_DEADLINE_SECONDS=4 (production: 120 and 60) so that
// takeovers happen within the run. The full run is `npm run chaos -- --launches 1000`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { stackMissing } from "../helpers/stack.js";
import { runChaos } from "./harness.js";
import { SLOT_WRITES_PER_SECOND_BOUND } from "./verify.js";

const missing = stackMissing();
if (missing) process.stderr.write(`\n!!! ${missing}\n\n`);

test("chaos: 100 launches, faults and kills: exactly one job each, nothing stuck, no poison job, no leak", {
  skip: missing ?? false,
  timeout: 900_000,
}, async () => {
  const result = await runChaos({
    launches: 100,
    seed: 20261201,
    faultRate: 0.02,
    kills: 2,
    poison: 6,
    maxJobs: 3,
    limitedShare: 0.1,
    settleTimeoutMs: 600_000,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stderr.write(`${result.writesLine}\n${result.line}\n`);
  const v = result.verdict;
  const detail = `${result.line}\n${JSON.stringify({ ...v, faults: result.faultsByKind, push: result.push }, null, 2)}`;
  assert.equal(v.duplicates, 0, `duplicate jobs\n${detail}`);
  assert.equal(v.lost, 0, `lost launches\n${detail}`);
  assert.equal(v.stuck, 0, `launches left dispatching\n${detail}`);
  assert.equal(v.jobs, 100, `jobs in Vertex\n${detail}`);
  assert.equal(v.poison_jobs, 0, `jobs from poison\n${detail}`);
  assert.equal(v.poison_unrejected, 0, `poison not rejected\n${detail}`);
  assert.equal(v.leaks, 0, `canary secret seen\n${detail}`);
  assert.equal(v.disagree, 0, `record, last event and Vertex disagree\n${detail}`);
  assert.ok(v.max_jobs_peak <= 3, `max_jobs queue ran ${v.max_jobs_peak} jobs at once\n${detail}`);
  assert.ok(
    v.writes.slots.objects > 0,
    `the max_jobs queue wrote no slot object: nothing was admitted through it\n${detail}`,
  );
  assert.ok(
    v.writes.slots.max_per_second <= SLOT_WRITES_PER_SECOND_BOUND,
    `slot object ${v.writes.slots.busiest} took ${v.writes.slots.max_per_second} writes in one second\n${detail}`,
  );
  assert.ok(result.figures.kills === 2, `kills done: ${result.figures.kills}`);
  assert.ok(
    result.figures.faults > 0,
    `no fault fired: the run proved nothing about faults\n${detail}`,
  );
});

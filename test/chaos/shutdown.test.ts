// Graceful shutdown (issue 14): SIGTERM to the dispatch function in the middle of a burst of
// 40 launches (each published once; the chaos run publishes 1-3 copies), twice, each time while the function has
// deliveries in hand (forwarded by the counting proxy at least 100 ms before). The drain
// (shared/shutdown.ts) must finish those: each is acknowledged by the SIGTERMed instance,
// not failed and redelivered. Pushes that arrive during the drain get 503 and are
// redelivered. Then every launch ends with exactly one job, a `submitted` and a `finished`
// event, nothing left `dispatching`, no event published twice, and every event seen within
// 25 s of its commit (an event stranded in an outbox by a killed instance comes only after
// the 30 s outbox hold; the figure printed is the largest delay seen). Without the drain, the Functions Framework's own handler answers
// the latest request 500 and exits at once: the in-hand deliveries are not acknowledged.
import assert from "node:assert/strict";
import { test } from "node:test";
import { stackMissing } from "../helpers/stack.js";
import { runChaos } from "./harness.js";

const missing = stackMissing();
if (missing) process.stderr.write(`\n!!! ${missing}\n\n`);

test("SIGTERM mid-burst: the deliveries in hand finish, every launch has exactly one job, every event comes once and promptly", {
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
    // One copy per launch: a second copy in flight would fail its delivery with a
    // retryable launch_busy (500) whatever the drain does, and the check below is that
    // every delivery in hand at a SIGTERM is acknowledged.
    maxCopies: 1,
    settleTimeoutMs: 300_000,
    // The drain, not the lease, finishes the work here: a lease long enough that a machine
    // stalled by load (2 shared cores) does not expire it mid-delivery, which would let the
    // poll function take a launch over while its holder is still creating the job.
    leaseSeconds: 30,
    createDeadlineSeconds: 10,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const v = result.verdict;
  const maxDelay = Math.max(...result.eventDelaysMs);
  const figures = {
    sigterms: result.sigterms,
    push: result.push,
    events: result.eventDelaysMs.length,
    max_event_delay_ms: maxDelay,
  };
  process.stderr.write(`${result.line}\nshutdown figures: ${JSON.stringify(figures)}\n`);
  const detail = `${result.line}\n${JSON.stringify({ ...figures, verdict: v }, null, 2)}`;
  assert.equal(result.figures.kills, 2, "two SIGTERMs were sent mid-burst");
  const held = result.sigterms.flatMap((s) => s.answers);
  assert.ok(held.length > 0, `a delivery was in hand at some SIGTERM\n${detail}`);
  for (const answer of held)
    assert.ok(
      typeof answer === "number" && answer >= 200 && answer < 300,
      `every delivery in hand at a SIGTERM was acknowledged by the draining instance\n${detail}`,
    );
  assert.equal(v.jobs, 40, `jobs\n${detail}`);
  assert.equal(v.duplicates, 0, `duplicates\n${detail}`);
  assert.equal(v.lost, 0, `lost\n${detail}`);
  assert.equal(v.stuck, 0, `stuck\n${detail}`);
  // disagree counts launches whose last event is not `finished` or whose record/job differ.
  assert.equal(v.disagree, 0, `events and records\n${detail}`);
  assert.equal(v.event_repeats, 0, `no event published twice\n${detail}`);
  assert.ok(maxDelay < 25_000, `every event before the 30 s outbox hold ends\n${detail}`);
});

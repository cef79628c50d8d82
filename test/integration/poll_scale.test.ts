// 5,000 active launches: one tick pages through them with a bounded number of Vertex
// calls (SPEC §12: ≤ 1 + ceil(active / page size)) and reports nothing that did not change.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freshRecord } from "../../shared/launch/record.js";
import { runTick } from "../../shared/poll/poll.js";
import { type Core, startCore } from "../helpers/core.js";

const ACTIVE = 5000;
const PAGE = 1000;

describe(`poll at ${ACTIVE} active launches`, () => {
  let core: Core;
  const jobNames: string[] = [];

  before(async () => {
    core = await startCore({ pageSize: PAGE });
    const parent = "projects/local-project/locations/us-central1";
    // Seed: the jobs through the SDK (as dispatch would create them) and their markers.
    for (let start = 0; start < ACTIVE; start += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, ACTIVE - start) }, async (_, k) => {
          const i = start + k;
          const runId = `scale-${i}`;
          const launchId = `l${String(i).padStart(19, "0")}`;
          const job = await core.deps.jobs.create(
            parent,
            {
              displayName: runId,
              labels: {
                "managed-by": "vertex-dispatch",
                "launch-id": launchId,
                "wandb-run-id": runId,
                "launch-queue": "scale",
              },
              jobSpec: {
                serviceAccount: "trainer@local-project.iam.gserviceaccount.com",
                workerPoolSpecs: [
                  {
                    machineSpec: { machineType: "n1-standard-4" },
                    replicaCount: 1,
                    containerSpec: { imageUri: "gcr.io/p/i" },
                  },
                ],
              },
            },
            () => 10_000,
          );
          jobNames[i] = job.name;
          const record = {
            ...freshRecord({
              launchId,
              idempotencyKey: runId,
              queue: "scale",
              entity: "e",
              project: "p",
              runId,
              state: "starting",
              now: new Date(),
            }),
            job_name: job.name,
            vertex_state: "JOB_STATE_QUEUED",
          };
          await core.deps.active.put(record);
        }),
      );
    }
  });
  after(async () => {
    await core?.close();
  });

  it(`lists ${ACTIVE} unchanged launches in at most 1 + ${ACTIVE / PAGE} Vertex calls and publishes nothing`, async () => {
    const before = core.vertex.control.requests().counts.ListCustomJobs?.total ?? 0;
    const summary = await runTick(core.deps);
    const calls = (core.vertex.control.requests().counts.ListCustomJobs?.total ?? 0) - before;
    assert.equal(summary.active, ACTIVE);
    assert.equal(summary.vertexCalls, calls);
    assert.ok(calls <= 1 + Math.ceil(ACTIVE / PAGE), `${calls} calls`);
    assert.ok(calls >= Math.ceil(ACTIVE / PAGE), "every page was read");
    assert.equal(summary.changes, 0);
    assert.equal(core.events.length, 0);
    assert.equal(core.vertex.control.requests().counts.GetCustomJob?.total ?? 0, 0);
    console.log(
      `poll tick over ${ACTIVE} active launches: ${calls} ListCustomJobs calls (page size ${PAGE})`,
    );
  });
});

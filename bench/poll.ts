// Poll benchmark (SPEC §12): the built poll function's tick time and Vertex calls at 500
// and at 5,000 active launches. Seeded as test/integration/poll_scale.test.ts does: jobs
// created through the SDK (as dispatch creates them) and their active markers. The Vertex
// clock is manual, so no job changes and every tick reads the whole set.
import { performance } from "node:perf_hooks";
import type { Stack } from "../local/stack/stack.js";
import { jobServiceClients, storageClient } from "../shared/clients.js";
import { parseOptions } from "../shared/options.js";
import type { LaunchRecord } from "../shared/schemas/launch_record.js";
import { activeIndex } from "../shared/storage/active_index.js";
import { vertexJobs } from "../shared/vertex/jobs.js";
import { demoCustomJob } from "./dispatch.js";
import { functionEnv, runtimeNodeOptions, startFunction } from "./functions.js";
import { push, pushBody, pushWhenListening } from "./lib.js";

export const POLL_STATE_BUCKET = "bench-poll-state";
const SUBSCRIPTION = "projects/local-project/subscriptions/launch-poll-poll";

function markerRecord(i: number, jobName: string): LaunchRecord {
  const runId = `scale-${i}`;
  const now = new Date().toISOString();
  return {
    version: 1,
    launch_id: `l${String(i).padStart(19, "0")}`,
    idempotency_key: runId,
    message_id: null,
    queue: "scale",
    entity: "e",
    project: "p",
    run_id: runId,
    state: "starting",
    priority: 2,
    attempt: 1,
    job_name: jobName,
    vertex_state: "JOB_STATE_QUEUED",
    console_url: null,
    error: null,
    warnings: [],
    lease: null,
    message: null,
    outbox: null,
    previous_jobs: [],
    created_at: now,
    updated_at: now,
  };
}

/**
 * Seeding only: a marker write that met a reset connection is tried again (on this loaded
 * machine the emulator can close a keep-alive socket the client is about to reuse).
 */
async function withRetries(write: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= 5 || !/ECONNRESET|socket hang up/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

/** Seeds launches [from, to): one CustomJob and one marker each, 50 at a time. */
async function seed(stack: Stack, from: number, to: number): Promise<void> {
  const options = parseOptions(functionEnv(stack, POLL_STATE_BUCKET));
  const vertex = await jobServiceClients(options);
  const jobs = vertexJobs(vertex.clientFor);
  const active = activeIndex(storageClient(options).bucket(POLL_STATE_BUCKET));
  const parent = `projects/${stack.project}/locations/${stack.region}`;
  try {
    for (let start = from; start < to; start += 50) {
      const batch = Array.from({ length: Math.min(50, to - start) }, (_, k) => start + k);
      await Promise.all(
        batch.map(async (i) => {
          const record = markerRecord(i, "");
          const job = await jobs.create(
            parent,
            {
              ...demoCustomJob(record.run_id ?? ""),
              labels: {
                "managed-by": "vertex-dispatch",
                "launch-id": record.launch_id,
                "wandb-run-id": record.run_id ?? "",
                "launch-queue": "scale",
              },
            },
            () => 30_000,
          );
          await withRetries(() => active.put({ ...record, job_name: job.name }));
        }),
      );
    }
  } finally {
    await vertex.close();
  }
}

const listCalls = (stack: Stack) =>
  stack.vertex.control.requests().counts.ListCustomJobs?.total ?? 0;

/** `rounds` ticks pushed to a warm poll instance: ms to the ack, ListCustomJobs per tick. */
async function ticks(stack: Stack, url: string, rounds: number) {
  const ms: number[] = [];
  const calls: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const before = listCalls(stack);
    const t0 = performance.now();
    const status = await push(
      url,
      pushBody({ tick: `bench-${i}` }, `tick-${Date.now()}-${i}`, SUBSCRIPTION),
    );
    ms.push(performance.now() - t0);
    if (status < 200 || status > 299) throw new Error(`poll tick answered ${status}, not an ack`);
    calls.push(listCalls(stack) - before);
  }
  return { ms, calls };
}

export async function pollScale(stack: Stack, app: string, rounds: number) {
  const env = functionEnv(stack, POLL_STATE_BUCKET);
  // A fresh client: the stack's may hold a keep-alive socket the emulator has since closed.
  await storageClient(parseOptions(env)).createBucket(POLL_STATE_BUCKET, {
    location: stack.region,
  });
  const fn = await startFunction({
    name: "poll",
    app,
    env: { ...env, NODE_OPTIONS: runtimeNodeOptions("poll") }, // as Terraform deploys it
    project: stack.project,
  });
  try {
    await seed(stack, 0, 500);
    // The first tick of an instance makes its clients; it is not one of the samples.
    await pushWhenListening(
      fn,
      pushBody({ tick: "warm-up" }, `tick-warm-${Date.now()}`, SUBSCRIPTION),
      60_000,
    );
    const at500 = await ticks(stack, fn.url, rounds);
    await seed(stack, 500, 5000);
    const at5000 = await ticks(stack, fn.url, rounds);
    return { at500, at5000, pageSize: parseOptions(env).POLL_PAGE_SIZE };
  } finally {
    await fn.stop();
  }
}

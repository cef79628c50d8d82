// The local stack for integration tests: free ports, a temporary queue directory, short
// leases and retry backoffs, and every function log line captured (for secret checks).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pubsubMissing } from "../../local/pubsub/index.js";
import { type Stack, type StackOptions, startStack } from "../../local/stack/stack.js";
import { type Clients, makeClients } from "../../shared/clients.js";
import { dispatchDeps } from "../../shared/dispatch/deps.js";
import { silentLogger } from "../../shared/log.js";
import { parseOptions } from "../../shared/options.js";
import { type PollDeps, runTick, type TickSummary } from "../../shared/poll/poll.js";
import type { LaunchRecord } from "../../shared/schemas/launch_record.js";
import { launchStore } from "../../shared/storage/launch_store.js";
import { eventually } from "./eventually.js";

export const TEST_SECRET = "wandb-secret-key-9f8e7d6c5b4a";

export interface TestStack extends Stack {
  queueDir: string;
  functionLines: string[];
  writeQueue(name: string, yaml: string): void;
  readRecord(queue: string, runId: string): ReturnType<ReturnType<typeof launchStore>["read"]>;
  /**
   * One poll tick in this process, with the functions' environment (the poll function's
   * core, as Cloud Scheduler would tick it; the test stack runs no poll function).
   */
  tick(): Promise<TickSummary>;
  /** Waits until the launch record is in `state`. */
  waitForRecord(
    queue: string,
    runId: string,
    state: string,
    timeoutMs?: number,
  ): Promise<LaunchRecord>;
}

/** Why these tests cannot run here (printed loudly by the caller), or null. */
export function stackMissing(): string | null {
  const why = pubsubMissing();
  return why
    ? `SKIPPED: the Pub/Sub emulator is not available (${why}); integration tests over Pub/Sub did not run`
    : null;
}

export async function startTestStack(extra: Partial<StackOptions> = {}): Promise<TestStack> {
  const queueDir = mkdtempSync(join(tmpdir(), "vd-queues-"));
  const functionLines: string[] = [];
  const stack = await startStack({
    env: { QUEUE_CONFIG_DIR: queueDir },
    ports: "free",
    vertexClock: { mode: "manual" },
    functions: ["dispatch"],
    pollIntervalMs: 0,
    // No retry policy (the stack's default) redelivers about every second: 20 attempts
    // outlast a test lease (6 s) and a function restart, as 10 did with backoff.
    maxDeliveryAttempts: 20,
    ...extra,
    functionEnv: {
      WANDB_API_KEY: TEST_SECRET,
      LEASE_SECONDS: "6",
      CREATE_DEADLINE_SECONDS: "4",
      QUEUE_CONFIG_TTL_SECONDS: "1",
      BUCKET_METADATA_TTL_SECONDS: "1",
      ...extra.functionEnv,
    },
    functionLog: (_fn, line) => functionLines.push(line),
  });
  const store = launchStore(stack.storage.bucket(stack.env.STATE_BUCKET ?? "local-state"));
  const close = stack.close;
  let poll: Promise<{ deps: PollDeps; clients: Clients }> | undefined;
  return Object.assign(stack, {
    queueDir,
    functionLines,
    writeQueue(name: string, yaml: string) {
      writeFileSync(join(queueDir, `${name}.yaml`), yaml);
    },
    readRecord(queue: string, runId: string) {
      return store.read(`launches/${queue}/${runId}.json`);
    },
    async waitForRecord(queue: string, runId: string, state: string, timeoutMs = 10_000) {
      const stored = await eventually(() => store.read(`launches/${queue}/${runId}.json`), {
        timeout: timeoutMs,
        what: `launch record ${queue}/${runId} in state ${state}`,
        until: (s) => s?.record.state === state,
      });
      return stored.record;
    },
    async tick() {
      poll ??= (async () => {
        const options = parseOptions(stack.env);
        const clients = await makeClients(options);
        const deps = { ...dispatchDeps(options, clients), log: silentLogger, pageSize: 1000 };
        return { deps, clients };
      })();
      return runTick((await poll).deps);
    },
    async close() {
      if (poll) await (await poll).clients.close();
      await close();
      rmSync(queueDir, { recursive: true, force: true });
    },
  });
}

export { launchMessage, queueYaml } from "./launches.js";

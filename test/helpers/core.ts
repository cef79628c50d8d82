// The dispatch and poll cores in-process, over the official SDKs against the GCS and
// Vertex emulators (no Pub/Sub: status events are collected from the `publish`
// dependency the core takes, which is how the core is built to be tested).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PubSub } from "@google-cloud/pubsub";
import { type GcsEmulator, startGcsEmulator } from "../../local/gcs/index.js";
import { startVertexEmulator, type VertexEmulator } from "../../local/vertex/index.js";
import { jobServiceClients, storageClient } from "../../shared/clients.js";
import type { Outcome } from "../../shared/dispatch/deps.js";
import { dispatchDeps } from "../../shared/dispatch/deps.js";
import { handleDelivery } from "../../shared/dispatch/handle_delivery.js";
import { silentLogger } from "../../shared/log.js";
import { parseOptions } from "../../shared/options.js";
import { type PollDeps, runTick, type TickSummary } from "../../shared/poll/poll.js";
import type { StatusEvent } from "../../shared/schemas/status_event.js";
import { launchStore } from "../../shared/storage/launch_store.js";
import { queueYaml } from "./launches.js";

process.env.METADATA_SERVER_DETECTION = "none";

export const SERVICE_ACCOUNT = "trainer@local-project.iam.gserviceaccount.com";

export interface Core {
  gcs: GcsEmulator;
  vertex: VertexEmulator;
  deps: PollDeps;
  events: StatusEvent[];
  /** Moves the core's clock (not the emulators') forward by this many seconds. */
  skew(seconds: number): void;
  writeQueue(name: string, yaml: string): void;
  launch(body: Record<string, unknown>, messageId?: string): Promise<Outcome>;
  /** One delivery of `body` as message `messageId`, through `deps` (default: the core's). */
  deliver(body: Record<string, unknown>, messageId: string, deps?: PollDeps): Promise<Outcome>;
  /** One poll tick with the core's clock `seconds` ahead (then back), through `deps`. */
  tick(seconds?: number, deps?: PollDeps): Promise<TickSummary>;
  /** Runs `work` with the core's clock `seconds` ahead, then puts it back. */
  later<T>(seconds: number, work: () => Promise<T>): Promise<T>;
  record(
    queue: string,
    runId: string,
  ): Promise<import("../../shared/schemas/launch_record.js").LaunchRecord | undefined>;
  close(): Promise<void>;
}

let messages = 0;

export async function startCore(
  options: { pageSize?: number; env?: Record<string, string> } = {},
): Promise<Core> {
  const gcs = await startGcsEmulator({ port: 0 });
  const vertex = await startVertexEmulator({
    grpcPort: 0,
    restPort: 0,
    clock: { mode: "manual" },
    gcsEndpoint: gcs.url,
  });
  const queueDir = mkdtempSync(join(tmpdir(), "vd-core-queues-"));
  const parsed = parseOptions({
    GOOGLE_CLOUD_PROJECT: "local-project",
    VERTEX_REGION: "us-central1",
    STATE_BUCKET: "state",
    QUEUE_CONFIG_DIR: queueDir,
    QUEUE_CONFIG_TTL_SECONDS: "1",
    DEFAULT_JOB_SERVICE_ACCOUNT: SERVICE_ACCOUNT,
    VERTEX_ENDPOINT: vertex.grpcAddress,
    GCS_ENDPOINT: gcs.url,
    LEASE_SECONDS: "6",
    CREATE_DEADLINE_SECONDS: "4",
    ...options.env,
  });
  const storage = storageClient(parsed);
  await storage.createBucket("state", { location: "us-central1" });
  await storage.createBucket("staging", { location: "us-central1" });
  const vertexClients = await jobServiceClients(parsed);
  // Never used to publish: `publish` below collects the events instead.
  const pubsub = new PubSub({
    projectId: "local-project",
    apiEndpoint: "127.0.0.1:1",
    emulatorMode: true,
  });
  const events: StatusEvent[] = [];
  let skewMs = 0;
  // One clock for the core and its caches: skew() moves both, so no test sleeps out a TTL.
  const now = () => new Date(Date.now() + skewMs);
  const deps: PollDeps = {
    ...dispatchDeps(
      parsed,
      { storage, jobService: vertexClients.clientFor, pubsub, close: async () => {} },
      now,
    ),
    publish: async (event) => {
      events.push(event);
    },
    log: silentLogger,
    pageSize: options.pageSize ?? 1000,
  };
  const store = launchStore(storage.bucket("state"));
  const core: Core = {
    gcs,
    vertex,
    deps,
    events,
    skew(seconds) {
      skewMs += seconds * 1000;
    },
    writeQueue(name, yaml) {
      writeFileSync(join(queueDir, `${name}.yaml`), yaml);
    },
    launch(body, messageId = `m-${++messages}`) {
      return core.deliver(body, messageId);
    },
    deliver(body, messageId, through = deps) {
      const delivery = {
        body: Buffer.from(JSON.stringify(body)),
        attributes: {},
        messageId,
        deliveryAttempt: 1,
      };
      return handleDelivery(delivery, through);
    },
    tick(seconds = 0, through = deps) {
      return core.later(seconds, () => runTick(through));
    },
    async later(seconds, work) {
      skewMs += seconds * 1000;
      try {
        return await work();
      } finally {
        skewMs -= seconds * 1000;
      }
    },
    async record(queue, runId) {
      return (await store.read(`launches/${queue}/${runId}.json`))?.record;
    },
    async close() {
      await vertexClients.close();
      await pubsub.close();
      await vertex.close();
      await gcs.close();
      rmSync(queueDir, { recursive: true, force: true });
    },
  };
  return core;
}

/** The seed's default queue staging in the core's regional bucket, with extra top-level YAML. */
export function coreQueue(extra = ""): string {
  return queueYaml({ staging: "staging", extra });
}

export { launchMessage as coreMessage } from "./launches.js";

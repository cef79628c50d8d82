// What the dispatch and poll cores take: one deps object of thin clients, built here from
// parsed options and real clients. Tests build the same object from emulator-backed
// clients, without module mocking.
import { hostname } from "node:os";
import { type Clients, storageClient } from "../clients.js";
import { createLogger, type Logger } from "../log.js";
import type { Options } from "../options.js";
import { type BucketInfoReader, cachedBucketInfo, storageBucketInfo } from "../preflight.js";
import { bucketQueueSource, directoryQueueSource, type QueueSource } from "../queue_source.js";
import { maskable } from "../redact.js";
import type { RecordState } from "../schemas/launch_record.js";
import { bucketSlots, type Slots } from "../slots.js";
import { type Publish, pubsubPublisher, type StatusPublisher } from "../status.js";
import { type ActiveIndex, activeIndex } from "../storage/active_index.js";
import { type LaunchStore, launchStore } from "../storage/launch_store.js";
import { type VertexJobs, vertexJobs } from "../vertex/jobs.js";

export interface DispatchDeps {
  options: Pick<
    Options,
    | "GOOGLE_CLOUD_PROJECT"
    | "VERTEX_REGION"
    | "DEFAULT_JOB_SERVICE_ACCOUNT"
    | "WANDB_BASE_URL"
    | "WANDB_API_KEY"
    | "LEASE_SECONDS"
    | "CREATE_DEADLINE_SECONDS"
    | "MAX_MESSAGE_BYTES"
  >;
  queues: QueueSource;
  store: LaunchStore;
  /** The markers of launches that are not final (what the poll function watches). */
  active: ActiveIndex;
  jobs: VertexJobs;
  slots: Slots;
  bucketInfo: BucketInfoReader;
  publish: Publish;
  log: Logger;
  /** Secret values never stored in a record nor published (the W&B API key). */
  secrets: string[];
  now: () => Date;
  /** Names this instance in leases (newLease adds a random suffix per claim). */
  instanceId: string;
}

/** What happened to a delivery that was acknowledged. */
export interface Outcome {
  state: RecordState | "duplicate" | "ignored";
  launchId: string;
  jobName: string | null;
}

/** The deps of one instance. `now` is the one clock of the core and its caches (tests move it). */
export function dispatchDeps(
  options: Options,
  clients: Clients,
  now: () => Date = () => new Date(),
): DispatchDeps & { publish: StatusPublisher } {
  const state = clients.storage.bucket(options.STATE_BUCKET);
  const ttl = options.QUEUE_CONFIG_TTL_SECONDS * 1000;
  const ms = () => now().getTime();
  return {
    options,
    queues: options.QUEUE_CONFIG_DIR
      ? directoryQueueSource(options.QUEUE_CONFIG_DIR, ttl, ms)
      : bucketQueueSource(clients.storage.bucket(options.CONFIG_BUCKET ?? ""), ttl, ms),
    store: launchStore(state),
    // Markers are unconditional, idempotent writes: their own client, retried always,
    // so they never switch off the retries of `clients.storage` (shared/clients.ts).
    active: activeIndex(storageClient(options, "always").bucket(options.STATE_BUCKET)),
    slots: bucketSlots(state),
    jobs: vertexJobs(clients.jobService),
    bucketInfo: cachedBucketInfo(
      storageBucketInfo(clients.storage),
      options.BUCKET_METADATA_TTL_SECONDS * 1000,
      ms,
    ),
    publish: pubsubPublisher(clients.pubsub, options.STATUS_TOPIC),
    log: createLogger({ level: options.LOG_LEVEL, secrets: [options.WANDB_API_KEY] }),
    secrets: maskable([options.WANDB_API_KEY]),
    now,
    instanceId: `${hostname()}-${process.pid}`,
  };
}

// Builds the dispatch core's dependencies from parsed options and real clients.
// Tests build the same object from emulator-backed clients, without module mocking.
import { hostname } from "node:os";
import { type Clients, storageClient } from "../clients.js";
import { createLogger } from "../log.js";
import type { Options } from "../options.js";
import { cachedBucketInfo, storageBucketInfo } from "../preflight.js";
import { bucketQueueSource, directoryQueueSource } from "../queue_source.js";
import { bucketSlots } from "../slots.js";
import { pubsubPublisher } from "../status.js";
import { activeIndex } from "../storage/active_index.js";
import { launchStore } from "../storage/launch_store.js";
import { vertexJobs } from "../vertex/jobs.js";
import type { DispatchDeps } from "./dispatch.js";

export function dispatchDeps(options: Options, clients: Clients): DispatchDeps {
  const state = clients.storage.bucket(options.STATE_BUCKET);
  const ttl = options.QUEUE_CONFIG_TTL_SECONDS * 1000;
  return {
    options,
    queues: options.QUEUE_CONFIG_DIR
      ? directoryQueueSource(options.QUEUE_CONFIG_DIR, ttl)
      : bucketQueueSource(clients.storage.bucket(options.CONFIG_BUCKET ?? ""), ttl),
    store: launchStore(state),
    // Markers are unconditional, idempotent writes: their own client, retried always,
    // so they never switch off the retries of `clients.storage` (shared/clients.ts).
    active: activeIndex(storageClient(options, "always").bucket(options.STATE_BUCKET)),
    slots: bucketSlots(state),
    jobs: vertexJobs(clients.jobService),
    bucketInfo: cachedBucketInfo(
      storageBucketInfo(clients.storage),
      options.BUCKET_METADATA_TTL_SECONDS * 1000,
    ),
    publish: pubsubPublisher(clients.pubsub, options.STATUS_TOPIC),
    log: createLogger({ level: options.LOG_LEVEL, secrets: [options.WANDB_API_KEY] }),
    now: () => new Date(),
    instanceId: `${hostname()}-${process.pid}`,
  };
}

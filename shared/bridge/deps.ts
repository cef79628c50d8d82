// Wiring of the bridge inside the poll function: options parsed once, clients made on
// first use, and one call per tick that never throws (a bridge failure is logged and
// must not fail the poll tick: a failed tick is redelivered and redoes the poll's work,
// while the bridge's own retry is simply the next tick).
import { hostname } from "node:os";
import type { PubSub } from "@google-cloud/pubsub";
import { pubsubClient, storageClient } from "../clients.js";
import { DispatchError } from "../errors.js";
import { createLogger, type Logger } from "../log.js";
import type { Options } from "../options.js";
import { launchStore } from "../storage/launch_store.js";
import { type BridgeDeps, runBridgeTick } from "./bridge.js";
import { type BridgeOptions, parseBridgeOptions } from "./options.js";
import type { PublishLaunch } from "./pop.js";
import { bucketBridgeState } from "./state.js";
import { wandbApi } from "./wandb_api.js";

export const BRIDGE_VERSION = "vertex-dispatch@0.1.0";

/** Publishes a launch message to the launch topic; a failure is `pubsub_unavailable`. */
export function launchPublisher(pubsub: PubSub, topicName: string): PublishLaunch {
  const topic = pubsub.topic(topicName);
  return async (message, attributes) => {
    try {
      return await topic.publishMessage({ json: message, attributes });
    } catch (err) {
      throw new DispatchError(
        "pubsub_unavailable",
        `publishing a launch to ${topicName} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
}

export function bridgeDeps(bridge: BridgeOptions, options: Options, log: Logger): BridgeDeps {
  const storage = storageClient(options);
  const bucket = storage.bucket(bridge.stateBucket);
  return {
    options: bridge,
    api: wandbApi({
      baseUrl: bridge.baseUrl,
      apiKey: bridge.apiKey,
      timeoutMs: bridge.requestTimeoutMs,
      version: BRIDGE_VERSION,
      hostname: hostname(),
    }),
    state: bucketBridgeState(bucket),
    store: launchStore(bucket),
    publishLaunch: launchPublisher(pubsubClient(options), bridge.launchTopic),
    log,
    now: () => new Date(),
    agents: new Map(),
  };
}

/**
 * The poll function's bridge call: parses the bridge's variables now (a bad one stops
 * start-up, as every option does); returns a no-op when WANDB_QUEUES is unset.
 */
export function bridgeOnTick(
  options: Options,
  env: Record<string, string | undefined>,
): () => Promise<void> {
  const bridge = parseBridgeOptions(env);
  if (!bridge) return async () => {};
  const log = createLogger({
    level: options.LOG_LEVEL,
    secrets: [bridge.apiKey, options.WANDB_API_KEY],
  });
  let deps: BridgeDeps | undefined;
  return async () => {
    try {
      deps ??= bridgeDeps(bridge, options, log);
      const summary = await runBridgeTick(deps);
      const quiet = summary.popped === 0 && summary.errors.length === 0 && !summary.reports?.done;
      if (!quiet) log.info("bridge: tick done", { bridge: summary });
    } catch (err) {
      log.error("bridge: tick failed; the poll tick goes on", { error: err });
    }
  };
}

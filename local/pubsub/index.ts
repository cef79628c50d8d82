// The Pub/Sub harness: Google's emulator as a child process, the production topology,
// and a synchronous reader for pull subscriptions.
import { PubSub } from "@google-cloud/pubsub";

export type { PubsubEmulator, PubsubEmulatorOptions } from "./emulator.js";
export { DEFAULT_PUBSUB_PORT, freePort, pubsubMissing, startPubsubEmulator } from "./emulator.js";
export type { PulledMessage, PullOptions } from "./pull.js";
export { pullMessages } from "./pull.js";
export type { Topology, TopologyOptions } from "./topology.js";
export { createTopology, pushEndpoint, SUBSCRIPTIONS, TOPICS } from "./topology.js";

/**
 * A client for the emulator at `host` ("127.0.0.1:8085"), no credentials needed: a
 * non-googleapis.com apiEndpoint puts @google-cloud/pubsub in emulator mode (plaintext
 * gRPC, no auth). Same as setting PUBSUB_EMULATOR_HOST and calling `new PubSub({projectId})`.
 */
export function emulatorClient(host: string, projectId: string): PubSub {
  return new PubSub({ projectId, apiEndpoint: host, emulatorMode: true });
}

// What the operator commands need from the environment: the project, topics, buckets and
// the emulator endpoints when set. Flags win over variables; the local defaults of SPEC §9
// apply only when the emulators are in use, so a misconfigured shell never talks to a
// real project by accident.
import type { PubSub } from "@google-cloud/pubsub";
import type { Storage } from "@google-cloud/storage";
import { pubsubClient, storageClient } from "../shared/clients.js";
import { DispatchError } from "../shared/errors.js";
import type { Env } from "./env_types.js";

export interface CliEnv {
  project: string;
  region: string;
  stateBucket: string;
  /** Where queue configs live: a bucket (gs://B/queues/) or, when QUEUE_CONFIG_DIR is set, a directory. */
  configBucket: string;
  queueDir: string | undefined;
  launchTopic: string;
  statusTopic: string;
  defaultServiceAccount: string | undefined;
  maxMessageBytes: number;
  gcsEndpoint: string | undefined;
  pubsubHost: string | undefined;
  local: boolean;
}

export function cliEnv(
  env: Env,
  flags: { project?: string | undefined; region?: string | undefined } = {},
): CliEnv {
  const local = Boolean(env.PUBSUB_EMULATOR_HOST || env.GCS_ENDPOINT);
  const project =
    flags.project || env.GOOGLE_CLOUD_PROJECT || (local ? "local-project" : undefined);
  if (!project) {
    throw new DispatchError(
      "usage",
      "no GCP project: set GOOGLE_CLOUD_PROJECT (or pass --project) to the project the dispatcher is deployed in; for the local stack, export the variables npm start prints",
    );
  }
  const maxBytes = Number(env.MAX_MESSAGE_BYTES || 256 * 1024);
  return {
    project,
    region: flags.region || env.VERTEX_REGION || "us-central1",
    stateBucket: env.STATE_BUCKET || (local ? "local-state" : `${project}-vertex-dispatch-state`),
    configBucket:
      env.CONFIG_BUCKET || (local ? "local-config" : `${project}-vertex-dispatch-config`),
    queueDir: env.QUEUE_CONFIG_DIR || undefined,
    launchTopic: env.LAUNCH_TOPIC || "launch-jobs",
    statusTopic: env.STATUS_TOPIC || "launch-status",
    defaultServiceAccount: env.DEFAULT_JOB_SERVICE_ACCOUNT || undefined,
    maxMessageBytes: Number.isInteger(maxBytes) && maxBytes > 0 ? maxBytes : 256 * 1024,
    gcsEndpoint: env.GCS_ENDPOINT || undefined,
    pubsubHost: env.PUBSUB_EMULATOR_HOST || undefined,
    local,
  };
}

export function storageFor(c: CliEnv): Storage {
  return storageClient({ GOOGLE_CLOUD_PROJECT: c.project, GCS_ENDPOINT: c.gcsEndpoint });
}

export function pubsubFor(c: CliEnv): PubSub {
  return pubsubClient({ GOOGLE_CLOUD_PROJECT: c.project, PUBSUB_EMULATOR_HOST: c.pubsubHost });
}

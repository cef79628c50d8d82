// The Google clients, built once per instance from the parsed options: the official
// SDKs exactly as production uses them, pointed at the local emulators when the
// *_ENDPOINT / PUBSUB_EMULATOR_HOST variables are set.
import { PubSub } from "@google-cloud/pubsub";
import { IdempotencyStrategy, Storage } from "@google-cloud/storage";
import { credentials } from "@grpc/grpc-js";
import type { Options } from "./options.js";
import type { JobServiceClient, JobServiceFor } from "./vertex/jobs.js";

export interface Clients {
  storage: Storage;
  /** The JobService client of a Vertex location, made on first use and kept. */
  jobService: JobServiceFor;
  pubsub: PubSub;
  close(): Promise<void>;
}

type ClientOptions = Pick<
  Options,
  | "GOOGLE_CLOUD_PROJECT"
  | "VERTEX_REGION"
  | "VERTEX_ENDPOINT"
  | "GCS_ENDPOINT"
  | "PUBSUB_EMULATOR_HOST"
>;

/**
 * The Storage client. `retry: "always"` is for writes without a precondition that are
 * idempotent (the active markers): in @google-cloud/storage 7.x an unconditional
 * `file.save()` on a client with the default strategy sets `retryOptions.autoRetry =
 * false` on that client for good, so every later call on it, even a conditional record
 * write, would lose its retries. Such writes therefore never share the default client.
 */
export function storageClient(
  options: Pick<ClientOptions, "GOOGLE_CLOUD_PROJECT" | "GCS_ENDPOINT">,
  retry: "conditional" | "always" = "conditional",
): Storage {
  const idempotencyStrategy =
    retry === "always" ? IdempotencyStrategy.RetryAlways : IdempotencyStrategy.RetryConditional;
  return new Storage({
    projectId: options.GOOGLE_CLOUD_PROJECT,
    ...(options.GCS_ENDPOINT ? { apiEndpoint: options.GCS_ENDPOINT } : {}),
    retryOptions: { idempotencyStrategy },
  });
}

export function pubsubClient(
  options: Pick<ClientOptions, "GOOGLE_CLOUD_PROJECT" | "PUBSUB_EMULATOR_HOST">,
): PubSub {
  return options.PUBSUB_EMULATOR_HOST
    ? new PubSub({
        projectId: options.GOOGLE_CLOUD_PROJECT,
        apiEndpoint: options.PUBSUB_EMULATOR_HOST,
        emulatorMode: true,
      })
    : new PubSub({ projectId: options.GOOGLE_CLOUD_PROJECT });
}

/**
 * JobService clients per location: `{location}-aiplatform.googleapis.com` (Vertex serves
 * each region on its own endpoint, so a queue in another region needs its own client),
 * or one plaintext client for every location on the emulator (`VERTEX_ENDPOINT=host:port`).
 * The narrow import keeps start-up from loading every other Vertex client.
 */
export async function jobServiceClients(
  options: Pick<ClientOptions, "VERTEX_REGION" | "VERTEX_ENDPOINT">,
): Promise<{ clientFor: JobServiceFor; close(): Promise<void> }> {
  const { JobServiceClient } = await import(
    "@google-cloud/aiplatform/build/src/v1/job_service_client.js"
  );
  const made = new Map<string, JobServiceClient>();
  const make = (location: string): JobServiceClient => {
    if (options.VERTEX_ENDPOINT) {
      const [host, port] = splitHostPort(options.VERTEX_ENDPOINT);
      return new JobServiceClient({
        apiEndpoint: host,
        port,
        sslCreds: credentials.createInsecure(),
      }) as JobServiceClient;
    }
    return new JobServiceClient({
      apiEndpoint: `${location}-aiplatform.googleapis.com`,
    }) as JobServiceClient;
  };
  return {
    clientFor(location) {
      const key = options.VERTEX_ENDPOINT ? "emulator" : location || options.VERTEX_REGION;
      let client = made.get(key);
      if (!client) {
        client = make(key === "emulator" ? options.VERTEX_REGION : key);
        made.set(key, client);
      }
      return client;
    },
    async close() {
      await Promise.allSettled([...made.values()].map((c) => c.close()));
    },
  };
}

function splitHostPort(value: string): [string, number] {
  const i = value.lastIndexOf(":");
  return [value.slice(0, i), Number(value.slice(i + 1))];
}

export async function makeClients(options: ClientOptions): Promise<Clients> {
  const storage = storageClient(options);
  const pubsub = pubsubClient(options);
  const vertex = await jobServiceClients(options);
  return {
    storage,
    pubsub,
    jobService: vertex.clientFor,
    async close() {
      await Promise.allSettled([vertex.close(), pubsub.close()]);
    },
  };
}

// The Google clients, built once per instance from the parsed options: the official
// SDKs exactly as production uses them, pointed at the local emulators when the
// *_ENDPOINT / PUBSUB_EMULATOR_HOST variables are set.
import { PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import { credentials } from "@grpc/grpc-js";
import type { Options } from "./options.js";
import type { JobServiceClient } from "./vertex/jobs.js";

export interface Clients {
  storage: Storage;
  jobService: JobServiceClient;
  pubsub: PubSub;
}

type ClientOptions = Pick<
  Options,
  | "GOOGLE_CLOUD_PROJECT"
  | "VERTEX_REGION"
  | "VERTEX_ENDPOINT"
  | "GCS_ENDPOINT"
  | "PUBSUB_EMULATOR_HOST"
>;

export function storageClient(
  options: Pick<ClientOptions, "GOOGLE_CLOUD_PROJECT" | "GCS_ENDPOINT">,
): Storage {
  return options.GCS_ENDPOINT
    ? new Storage({ projectId: options.GOOGLE_CLOUD_PROJECT, apiEndpoint: options.GCS_ENDPOINT })
    : new Storage({ projectId: options.GOOGLE_CLOUD_PROJECT });
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
 * The Vertex JobService client on the regional endpoint (`{region}-aiplatform.googleapis.com`),
 * or on the emulator (`VERTEX_ENDPOINT=host:port`, plaintext gRPC). The narrow import keeps
 * start-up from loading every other Vertex client.
 */
export async function jobServiceClient(
  options: Pick<ClientOptions, "VERTEX_REGION" | "VERTEX_ENDPOINT">,
): Promise<JobServiceClient> {
  const { JobServiceClient } = await import(
    "@google-cloud/aiplatform/build/src/v1/job_service_client.js"
  );
  if (options.VERTEX_ENDPOINT) {
    const [host, port] = splitHostPort(options.VERTEX_ENDPOINT);
    return new JobServiceClient({
      apiEndpoint: host,
      port,
      sslCreds: credentials.createInsecure(),
    }) as JobServiceClient;
  }
  return new JobServiceClient({
    apiEndpoint: `${options.VERTEX_REGION}-aiplatform.googleapis.com`,
  }) as JobServiceClient;
}

function splitHostPort(value: string): [string, number] {
  const i = value.lastIndexOf(":");
  return [value.slice(0, i), Number(value.slice(i + 1))];
}

export async function makeClients(options: ClientOptions): Promise<Clients> {
  return {
    storage: storageClient(options),
    pubsub: pubsubClient(options),
    jobService: await jobServiceClient(options),
  };
}

// Shared pieces of the Vertex emulator conformance tests: clients configured exactly as the
// docs say, a valid CustomJob to start from, and a raw REST caller.

import { after, before } from "node:test";
import { v1 } from "@google-cloud/aiplatform";
import * as grpc from "@grpc/grpc-js";
import { startVertexEmulator, type VertexEmulator } from "../../local/vertex/index.js";

// The SDK otherwise probes the GCE metadata server at start-up.
process.env.METADATA_SERVER_DETECTION = "none";

export const PROJECT = "local-project";
export const REGION = "us-central1";
export const PARENT = `projects/${PROJECT}/locations/${REGION}`;

export type JobServiceClient = InstanceType<typeof v1.JobServiceClient>;

/** The SDK in gRPC mode: endpoint, port, insecure credentials. */
export function grpcClient(emulator: VertexEmulator): JobServiceClient {
  return new v1.JobServiceClient({
    apiEndpoint: "127.0.0.1",
    port: emulator.grpcPort,
    sslCreds: grpc.credentials.createInsecure(),
  });
}

/**
 * One Vertex emulator (manual clock) and a gRPC client for a test file: started before its
 * tests, handed to `use`, closed after them.
 */
export function withVertexEmulator(
  use: (emulator: VertexEmulator, client: JobServiceClient) => void,
) {
  let emulator: VertexEmulator | undefined;
  let client: JobServiceClient | undefined;
  before(async () => {
    emulator = await startVertexEmulator({ grpcPort: 0, restPort: 0, clock: { mode: "manual" } });
    client = grpcClient(emulator);
    use(emulator, client);
  });
  after(async () => {
    await client?.close();
    await emulator?.close();
  });
}

/** An auth client that adds no credentials (what google-auth-library's PassThroughClient does). */
export const noAuth = {
  getRequestHeaders: async () => new Headers(),
  fetch: (url: string, init: RequestInit) => fetch(url, init),
};

/** The SDK in REST fallback mode: HTTP/1.1 + JSON to the REST port. */
export function restClient(emulator: VertexEmulator): JobServiceClient {
  return new v1.JobServiceClient({
    fallback: true,
    protocol: "http",
    apiEndpoint: "127.0.0.1",
    port: emulator.restPort,
    authClient: noAuth,
  } as ConstructorParameters<typeof v1.JobServiceClient>[0]);
}

/** A CustomJob Vertex accepts (proto3 JSON / SDK object shape). */
export function validJob(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    displayName: "conformance",
    labels: { team: "ml" },
    jobSpec: {
      workerPoolSpecs: [
        {
          machineSpec: { machineType: "n1-standard-4" },
          replicaCount: "1",
          containerSpec: { imageUri: "us-docker.pkg.dev/p/r/trainer:1", args: ["--epochs", "1"] },
        },
      ],
    },
    ...overrides,
  };
}

/** A job spec with the first worker pool replaced by `pool` (merged over the valid one). */
export function withPool(pool: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const base = {
    machineSpec: { machineType: "n1-standard-4" },
    replicaCount: "1",
    containerSpec: { imageUri: "gcr.io/p/trainer:1" },
  };
  return validJob({ jobSpec: { workerPoolSpecs: [{ ...base, ...pool }], ...extra } });
}

export interface RestAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Calls the REST port directly; `path` starts with "/". */
export async function rest(
  emulator: VertexEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<RestAnswer> {
  const response = await fetch(`${emulator.restUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** The error body Google's REST front end returns. */
export function restError(answer: RestAnswer): { code: number; message: string; status: string } {
  return answer.body.error as { code: number; message: string; status: string };
}

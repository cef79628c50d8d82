// The demo the local stack seeds and launches: the seed's default Vertex queue config
// (W&B's "GCP Vertex" queue as created in the UI) with a regional staging bucket, and a
// launch message like W&B's own.
import { createHmac } from "node:crypto";

export const DEMO_QUEUE = "demo";
export const DEMO_STAGING_BUCKET = "local-staging";
/** The local stack's webhook token (SPEC §9); never a production default. */
export const LOCAL_WEBHOOK_TOKEN = "local-token";
export const DEMO_JOB_SERVICE_ACCOUNT =
  "vertex-dispatch-jobs@local-project.iam.gserviceaccount.com";

export function demoQueueYaml(region: string): string {
  return `# The demo queue of the local stack: W&B's default Vertex queue config.
region: ${region}
spec:
  worker_pool_specs:
    - machine_spec:
        machine_type: n1-standard-4
        accelerator_type: ACCELERATOR_TYPE_UNSPECIFIED
        accelerator_count: 0
      replica_count: 1
      container_spec:
        image_uri: \${image_uri}
  staging_bucket: gs://${DEMO_STAGING_BUCKET}
run:
  restart_job_on_worker_restart: false
`;
}

export function demoMessage(runId: string): Record<string, unknown> {
  return {
    queue: DEMO_QUEUE,
    entity: "acme",
    project: "vision",
    run_id: runId,
    name: "resnet50-demo",
    author: "demo",
    image_uri: "us-central1-docker.pkg.dev/acme-ml/train/resnet:2026-11-01",
    run_config: { lr: 0.001, epochs: 3 },
  };
}

/** The body of the demo webhook: the demo launch without a run_id, as a W&B template would send it. */
export function demoWebhookBody(): Record<string, unknown> {
  const { run_id: _runId, ...message } = demoMessage("unused");
  return { ...message, name: "resnet50-webhook-demo", author: "webhook-demo" };
}

/**
 * A curl line that POSTs the demo webhook to the ingest function, as W&B would: with the
 * signature W&B computes (base64 HMAC-SHA256 of the body) when a signing secret is set.
 */
export function demoCurlLine(url: string, token: string, signingSecret?: string): string {
  const body = JSON.stringify(demoWebhookBody());
  const signature = signingSecret
    ? [
        `-H 'X-Wandb-Signature: ${createHmac("sha256", signingSecret).update(body).digest("base64")}'`,
      ]
    : [];
  // The body holds no single quote, so it can sit in single quotes for any POSIX shell.
  return [
    `curl -sS -X POST ${url}/`,
    `-H 'Authorization: Bearer ${token}'`,
    "-H 'Content-Type: application/json'",
    ...signature,
    `-d '${body}'`,
  ].join(" ");
}

/** The command that runs the ingest function by itself under the Functions Framework. */
export function ingestCommand(port: number): string {
  return `node --import tsx node_modules/@google-cloud/functions-framework/build/src/main.js --target=ingest --signature-type=http --source=functions/ingest/index.ts --port=${port}`;
}

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

/** The W&B side of the demo: a GCP Vertex run queue, as created in the W&B App. */
export const DEMO_WANDB_ENTITY = "acme";
export const DEMO_WANDB_PROJECT = "model-registry";
export const DEMO_WANDB_QUEUE = "vertex-demo";
/** The queue config its items launch with: the demo's, letting the W&B queue's config apply. */
export const DEMO_WANDB_QUEUE_CONFIG = "wandb-demo";
export const DEMO_WANDB_QUEUES = `${DEMO_WANDB_ENTITY}/${DEMO_WANDB_PROJECT}/${DEMO_WANDB_QUEUE}=${DEMO_WANDB_QUEUE_CONFIG}`;

export function demoWandbQueueYaml(region: string): string {
  return `${demoQueueYaml(region)}# The W&B queue's config (and the launch drawer's overrides) arrive as resource_args.
allow_resource_overrides: true
`;
}

/** The W&B queue's resource config: W&B's default GCP Vertex config, with the demo bucket. */
export function demoWandbQueueConfig(): Record<string, unknown> {
  return {
    spec: {
      worker_pool_specs: [
        {
          machine_spec: {
            machine_type: "n1-standard-4",
            accelerator_type: "ACCELERATOR_TYPE_UNSPECIFIED",
            accelerator_count: 0,
          },
          replica_count: 1,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: W&B's ${image_uri} macro, not a JS template.
          container_spec: { image_uri: "${image_uri}" },
        },
      ],
      staging_bucket: `gs://${DEMO_STAGING_BUCKET}`,
    },
    run: { restart_job_on_worker_restart: false },
  };
}

/** A runSpec as `wandb launch --queue vertex-demo --docker-image ...` pushes it. */
export function demoRunSpec(): Record<string, unknown> {
  return {
    entity: "acme",
    project: "vision",
    name: "resnet50-from-wandb",
    author: "demo",
    docker: { docker_image: "us-central1-docker.pkg.dev/acme-ml/train/resnet:2026-11-01" },
    overrides: { args: ["--epochs", "3"], run_config: { lr: 0.001, epochs: 3 } },
    resource: "gcp-vertex",
    git: {},
  };
}

// The demo the local stack seeds and launches: the seed's default Vertex queue config
// (W&B's "GCP Vertex" queue as created in the UI) with a regional staging bucket, and a
// launch message like W&B's own.
export const DEMO_QUEUE = "demo";
export const DEMO_STAGING_BUCKET = "local-staging";
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

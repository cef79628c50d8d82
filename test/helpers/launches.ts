// Queue configs and launch messages for the integration tests: the seed's default queue
// (W&B's "GCP Vertex" queue as created in the UI) and a W&B-like launch message.

/** A queue config like the seed's default, with the given staging bucket and extra top-level YAML. */
export function queueYaml(
  options: { staging?: string; extra?: string; serviceAccount?: string } = {},
): string {
  return `${options.extra ?? ""}
spec:
  worker_pool_specs:
    - machine_spec:
        machine_type: n1-standard-4
        accelerator_type: ACCELERATOR_TYPE_UNSPECIFIED
        accelerator_count: 0
      replica_count: 1
      container_spec:
        image_uri: \${image_uri}
  staging_bucket: gs://${options.staging ?? "local-staging"}
run:
  restart_job_on_worker_restart: false
${options.serviceAccount ? `  service_account: ${options.serviceAccount}\n` : ""}`;
}

export function launchMessage(
  queue: string,
  runId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    queue,
    entity: "acme",
    project: "vision",
    run_id: runId,
    image_uri: "us-central1-docker.pkg.dev/acme-ml/train/resnet:1",
    run_config: { lr: 0.1 },
    ...extra,
  };
}

// The lines a user pastes into another shell to use the local emulators: the variables of
// the SDKs, the functions and this CLI, then gcloud's CLOUDSDK_* overrides (for that shell
// only: the user's gcloud configuration is not touched). Printed by `emulators` and `start`.

export interface LocalEndpoints {
  project: string;
  pubsubHost: string | undefined;
  gcsUrl: string;
  vertexGrpc: string;
  vertexRest: string;
  /** More `export` lines (the stack's buckets, queue source, service account). */
  extra?: Record<string, string | undefined>;
}

export function environmentLines(e: LocalEndpoints): string[] {
  const lines = [
    "# Environment for the SDKs, the functions and the vertex-dispatch CLI:",
    `export GOOGLE_CLOUD_PROJECT=${e.project}`,
    e.pubsubHost
      ? `export PUBSUB_EMULATOR_HOST=${e.pubsubHost}`
      : "# (no Pub/Sub emulator: PUBSUB_EMULATOR_HOST not set)",
    `export GCS_ENDPOINT=${e.gcsUrl}`,
    `export VERTEX_ENDPOINT=${e.vertexGrpc}`,
    `export VERTEX_REST_ENDPOINT=${e.vertexRest}`,
    "export METADATA_SERVER_DETECTION=none",
  ];
  for (const [name, value] of Object.entries(e.extra ?? {})) {
    if (value) lines.push(`export ${name}=${value}`);
  }
  lines.push(
    "",
    "# gcloud, for this shell only (your gcloud configuration is not touched):",
    "export CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true",
    `export CLOUDSDK_CORE_PROJECT=${e.project}`,
    `export CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE=${e.gcsUrl}/storage/v1/`,
    `export CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM=${e.vertexRest}/`,
  );
  if (e.pubsubHost) {
    lines.push(`export CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=http://${e.pubsubHost}/`);
  }
  return lines;
}

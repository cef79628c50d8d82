# Names, APIs and the project number every other file uses.

locals {
  bundles_dir = coalesce(var.bundles_dir, "${path.module}/../dist/functions")
  # The deployed functions: their bundles are dist/functions/<key>.zip from `npm run build`.
  function_names = toset(["dispatch", "ingest", "poll"])
  buckets = {
    config  = coalesce(var.buckets.config, "${var.project_id}-${var.prefix}-config")
    state   = coalesce(var.buckets.state, "${var.project_id}-${var.prefix}-state")
    staging = coalesce(var.buckets.staging, "${var.project_id}-${var.prefix}-staging")
    sources = coalesce(var.buckets.sources, "${var.project_id}-${var.prefix}-sources")
  }
  labels = merge(var.labels, { managed-by = "vertex-dispatch" })
  # The Pub/Sub service agent: it pushes with OIDC tokens and forwards dead letters.
  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  services = [
    "aiplatform.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]
}

data "google_project" "this" {
  project_id = var.project_id
}

resource "google_project_service" "this" {
  for_each           = toset(local.services)
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# Service accounts and least privilege. No basic roles anywhere; the job runtime account
# is the only account the dispatcher may act as.

resource "google_service_account" "this" {
  for_each = {
    dispatch = "vertex-dispatch: the dispatch function (creates CustomJobs)"
    poll     = "vertex-dispatch: the poll function (job states, retries, backlogs)"
    ingest   = "vertex-dispatch: the ingest function (W&B webhooks)"
    push     = "vertex-dispatch: Pub/Sub push to dispatch and poll (OIDC)"
    jobs     = "vertex-dispatch: runtime of the Vertex AI CustomJobs"
  }
  project      = var.project_id
  account_id   = "${var.prefix}-${each.key}"
  display_name = each.value
  depends_on   = [google_project_service.this]
}

# Exactly the four CustomJob permissions dispatch and poll need (poll resubmits and
# drains backlogs through the same path as dispatch).
resource "google_project_iam_custom_role" "custom_jobs" {
  project     = var.project_id
  role_id     = "${replace(var.prefix, "-", "_")}_vertex_custom_jobs"
  title       = "vertex-dispatch CustomJobs"
  description = "Create, get, list and cancel Vertex AI CustomJobs; nothing else."
  permissions = [
    "aiplatform.customJobs.cancel",
    "aiplatform.customJobs.create",
    "aiplatform.customJobs.get",
    "aiplatform.customJobs.list",
  ]
}

# The preflight reads the staging bucket's location: bucket metadata, no objects.
resource "google_project_iam_custom_role" "bucket_metadata" {
  project     = var.project_id
  role_id     = "${replace(var.prefix, "-", "_")}_bucket_metadata"
  title       = "vertex-dispatch bucket metadata reader"
  description = "Read a bucket's metadata (location, type); granted on single buckets."
  permissions = ["storage.buckets.get"]
}

resource "google_project_iam_member" "custom_jobs" {
  for_each = toset(["dispatch", "poll"])
  project  = var.project_id
  role     = google_project_iam_custom_role.custom_jobs.id
  member   = google_service_account.this[each.key].member
}

# Act-as on the job runtime account alone (never project-wide).
resource "google_service_account_iam_member" "act_as_jobs" {
  for_each           = toset(["dispatch", "poll"])
  service_account_id = google_service_account.this["jobs"].name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.this[each.key].member
}

# Older projects: the Pub/Sub service agent mints the push OIDC tokens for this account.
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.this["push"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

resource "google_storage_bucket_iam_member" "this" {
  for_each = {
    "state/dispatch"   = { bucket = "state", account = "dispatch", role = "roles/storage.objectAdmin" }
    "state/poll"       = { bucket = "state", account = "poll", role = "roles/storage.objectAdmin" }
    "config/dispatch"  = { bucket = "config", account = "dispatch", role = "roles/storage.objectViewer" }
    "config/poll"      = { bucket = "config", account = "poll", role = "roles/storage.objectViewer" }
    "staging/dispatch" = { bucket = "staging", account = "dispatch", role = google_project_iam_custom_role.bucket_metadata.id }
    "staging/poll"     = { bucket = "staging", account = "poll", role = google_project_iam_custom_role.bucket_metadata.id }
    "staging/jobs"     = { bucket = "staging", account = "jobs", role = "roles/storage.objectAdmin" }
  }
  bucket = google_storage_bucket.this[each.value.bucket].name
  role   = each.value.role
  member = google_service_account.this[each.value.account].member
}

resource "google_project_iam_member" "jobs" {
  for_each = toset(var.job_runtime.project_roles)
  project  = var.project_id
  role     = each.value
  member   = google_service_account.this["jobs"].member
}

# Only the push account may invoke dispatch and poll; ingest is public (W&B calls it) and
# guarded by the webhook token.
resource "google_cloud_run_service_iam_member" "invoker" {
  for_each = {
    dispatch = { service = google_cloudfunctions2_function.dispatch.name, member = google_service_account.this["push"].member }
    poll     = { service = google_cloudfunctions2_function.poll.name, member = google_service_account.this["push"].member }
    ingest   = { service = google_cloudfunctions2_function.ingest.name, member = "allUsers" }
  }
  project  = var.project_id
  location = var.region
  service  = each.value.service
  role     = "roles/run.invoker"
  member   = each.value.member
}

# A custom build account reads the uploaded bundles.
resource "google_storage_bucket_iam_member" "build_sources" {
  count  = var.build_service_account == null ? 0 : 1
  bucket = google_storage_bucket.this["sources"].name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${var.build_service_account}"
}

# Secret Manager secrets, mounted into the functions as environment variables. Terraform
# creates the secrets only: their values are added out of band (`gcloud secrets versions
# add`), so they never appear in state or tfvars.

locals {
  secrets = merge(
    {
      wandb_api_key = { id = "${var.prefix}-wandb-api-key", readers = ["dispatch", "poll"] }
      webhook_token = { id = "${var.prefix}-webhook-token", readers = ["ingest"] }
    },
    var.ingest.signing_secret ? {
      webhook_signing_secret = { id = "${var.prefix}-webhook-signing-secret", readers = ["ingest"] }
    } : {}
  )
  secret_readers = merge([
    for key, secret in local.secrets : {
      for account in secret.readers : "${key}/${account}" => { secret = key, account = account }
    }
  ]...)
}

resource "google_secret_manager_secret" "this" {
  for_each  = local.secrets
  project   = var.project_id
  secret_id = each.value.id
  labels    = local.labels
  replication {
    auto {}
  }
  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret_iam_member" "this" {
  for_each  = local.secret_readers
  project   = var.project_id
  secret_id = google_secret_manager_secret.this[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.this[each.value.account].member
}

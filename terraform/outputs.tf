# What a user needs after apply: where W&B sends webhooks, the names, and the commands
# that add the secret values and submit a first launch.

output "webhook_url" {
  description = "The ingest function's HTTPS URL: the URL of the W&B webhook (with the webhook token as its access token)."
  value       = google_cloudfunctions2_function.ingest.service_config[0].uri
}

output "topics" {
  description = "Topic names: jobs (launch messages), status (status events), poll (ticks), dead_letter (launches that ran out of delivery attempts)."
  value       = { for key, topic in google_pubsub_topic.this : key => topic.name }
}

output "buckets" {
  description = "Bucket names: config (queue configs under queues/), state (launch records), staging (default job staging), sources (function bundles)."
  value       = { for key, bucket in google_storage_bucket.this : key => bucket.name }
}

output "service_accounts" {
  description = "Service account emails: dispatch, poll, ingest, push (Pub/Sub push identity) and jobs (the CustomJobs' runtime, DEFAULT_JOB_SERVICE_ACCOUNT)."
  value       = { for key, account in google_service_account.this : key => account.email }
}

output "secrets" {
  description = "Secret IDs whose values you add out of band: gcloud secrets versions add ID --data-file=-"
  value       = { for key, secret in google_secret_manager_secret.this : key => secret.secret_id }
}

output "dead_letter_subscription" {
  description = "Pull subscription holding the dead-lettered launch messages."
  value       = google_pubsub_subscription.dead_letter.name
}

output "submit_command" {
  description = "Publishes a first launch to launch-jobs (edit queue, entity, project, image_uri)."
  value       = "gcloud pubsub topics publish ${google_pubsub_topic.this["jobs"].name} --project=${var.project_id} --attribute=idempotency_key=first-launch --message='{\"queue\":\"default\",\"entity\":\"ENTITY\",\"project\":\"PROJECT\",\"run_id\":\"first-launch\",\"image_uri\":\"${var.region}-docker.pkg.dev/${var.project_id}/REPO/IMAGE:TAG\"}'"
}

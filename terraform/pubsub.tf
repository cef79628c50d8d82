# Topics (SPEC §1) and the subscriptions the module owns.
#
# Delivery to dispatch and poll is a push subscription, not an Eventarc trigger: a trigger
# cannot be given a dead-letter topic (hashicorp/terraform-provider-google#25069, #17697),
# and a push subscription keeps deliveryAttempt in the push body.

resource "google_pubsub_topic" "this" {
  for_each = {
    jobs        = "launch-jobs"
    status      = "launch-status"
    poll        = "launch-poll"
    dead_letter = "launch-jobs-dead-letter"
  }
  project    = var.project_id
  name       = each.value
  labels     = local.labels
  depends_on = [google_project_service.this]
}

# launch-jobs → dispatch: retried with backoff, dead-lettered after max_delivery_attempts.
resource "google_pubsub_subscription" "dispatch" {
  project                    = var.project_id
  name                       = "${var.prefix}-dispatch"
  topic                      = google_pubsub_topic.this["jobs"].id
  ack_deadline_seconds       = var.dispatch.timeout_seconds
  message_retention_duration = "604800s"
  labels                     = local.labels
  push_config {
    # The path names the topic: the Functions Framework builds the CloudEvent source from it.
    push_endpoint = "${google_cloudfunctions2_function.dispatch.service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.this["jobs"].name}"
    oidc_token {
      service_account_email = google_service_account.this["push"].email
      audience              = google_cloudfunctions2_function.dispatch.service_config[0].uri
    }
  }
  retry_policy {
    minimum_backoff = "${var.dispatch.minimum_backoff_seconds}s"
    maximum_backoff = "${var.dispatch.maximum_backoff_seconds}s"
  }
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.this["dead_letter"].id
    max_delivery_attempts = var.dispatch.max_delivery_attempts
  }
  expiration_policy {
    ttl = ""
  }
  depends_on = [google_pubsub_topic_iam_member.dead_letter_publisher]
}

# launch-poll → poll: one tick per message. A failed tick is retried for at most the 10
# minutes a tick is kept; the next scheduled tick does the same work anyway.
resource "google_pubsub_subscription" "poll" {
  project                    = var.project_id
  name                       = "${var.prefix}-poll"
  topic                      = google_pubsub_topic.this["poll"].id
  ack_deadline_seconds       = var.poll.timeout_seconds
  message_retention_duration = "600s"
  labels                     = local.labels
  push_config {
    push_endpoint = "${google_cloudfunctions2_function.poll.service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.this["poll"].name}"
    oidc_token {
      service_account_email = google_service_account.this["push"].email
      audience              = google_cloudfunctions2_function.poll.service_config[0].uri
    }
  }
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "60s"
  }
  expiration_policy {
    ttl = ""
  }
}

# Where dead letters wait to be read (a topic without a subscription drops them).
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.prefix}-dead-letter"
  topic                      = google_pubsub_topic.this["dead_letter"].id
  message_retention_duration = "604800s"
  labels                     = local.labels
  expiration_policy {
    ttl = ""
  }
}

# The Pub/Sub service agent forwards undeliverable launches to the dead-letter topic, and
# must be a subscriber of the subscription it forwards from.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.this["dead_letter"].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.dispatch.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# Who may publish where: status events from dispatch and poll; launches from ingest and
# from poll (the W&B run-queue bridge runs inside the poll tick).
resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = {
    "status/dispatch" = { topic = "status", account = "dispatch" }
    "status/poll"     = { topic = "status", account = "poll" }
    "jobs/poll"       = { topic = "jobs", account = "poll" }
    "jobs/ingest"     = { topic = "jobs", account = "ingest" }
  }
  project = var.project_id
  topic   = google_pubsub_topic.this[each.value.topic].name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.this[each.value.account].member
}

# Cloud Scheduler ticks the poll function through launch-poll (every minute by default).

resource "google_cloud_scheduler_job" "poll" {
  project     = var.project_id
  region      = var.region
  name        = "${var.prefix}-poll-tick"
  description = "vertex-dispatch: one poll tick (job states, timeouts, retries, backlogs)"
  schedule    = var.poll.schedule
  time_zone   = var.poll.time_zone
  pubsub_target {
    topic_name = google_pubsub_topic.this["poll"].id
    data       = base64encode(jsonencode({ tick = "cloud-scheduler" }))
  }
  depends_on = [google_project_service.this]
}

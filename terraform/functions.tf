# The three gen2 functions, built by Cloud Build from the zips `npm run build` makes (each
# zip: the index.js bundle, start.cjs that loads it, code_cache.cjs that gcp-build runs,
# preload.cjs and framework_deps.cjs (the framework's dependencies in one bundle),
# package.json whose only dependency is the Functions Framework, its lockfile). The entry point is the name the code registers (cloudEvent("dispatch", ...)).
# dispatch and poll have no Eventarc trigger: the module's push subscriptions call them.

locals {
  # Node's own, for every function, both relative to the package (the function's working
  # directory): the framework preload, required before the Functions Framework's main.js,
  # which gives the framework its dependencies from one bundle (scripts/framework_preload.mjs),
  # and Node's on-disk compile cache, which gcp-build fills with the framework's modules (Node
  # 22; scripts/code_cache.mjs). dispatch adds its heap flags to NODE_OPTIONS.
  node_env = {
    NODE_OPTIONS       = var.framework_preload ? "--require ./preload.cjs" : ""
    NODE_COMPILE_CACHE = ".node-compile-cache"
  }

  # What dispatch and poll read (shared/options.ts); the secret WANDB_API_KEY is mounted.
  dispatcher_env = {
    GOOGLE_CLOUD_PROJECT        = var.project_id
    VERTEX_REGION               = var.region
    STATE_BUCKET                = google_storage_bucket.this["state"].name
    CONFIG_BUCKET               = google_storage_bucket.this["config"].name
    DEFAULT_JOB_SERVICE_ACCOUNT = google_service_account.this["jobs"].email
    WANDB_BASE_URL              = var.wandb.base_url
    STATUS_TOPIC                = google_pubsub_topic.this["status"].name
    LAUNCH_TOPIC                = google_pubsub_topic.this["jobs"].name
    LEASE_SECONDS               = tostring(var.dispatch.lease_seconds)
    CREATE_DEADLINE_SECONDS     = tostring(var.dispatch.create_deadline_seconds)
    QUEUE_CONFIG_TTL_SECONDS    = tostring(var.dispatch.queue_config_ttl_seconds)
    BUCKET_METADATA_TTL_SECONDS = tostring(var.dispatch.bucket_metadata_ttl_seconds)
    MAX_MESSAGE_BYTES           = tostring(var.dispatch.max_message_bytes)
    POLL_PAGE_SIZE              = tostring(var.poll.page_size)
    SHUTDOWN_GRACE_SECONDS      = tostring(var.dispatch.shutdown_grace_seconds)
  }
}

resource "google_cloudfunctions2_function" "dispatch" {
  project     = var.project_id
  name        = "${var.prefix}-dispatch"
  location    = var.region
  description = "vertex-dispatch: launch messages from launch-jobs become Vertex AI CustomJobs"
  labels      = local.labels
  build_config {
    runtime         = "nodejs22"
    entry_point     = "dispatch"
    service_account = var.build_service_account
    # gcp-build makes the V8 code cache under the runtime's NODE_OPTIONS (V8 rejects a cache
    # made under other flags; scripts/code_cache.mjs).
    environment_variables = { CODE_CACHE_NODE_OPTIONS = var.dispatch.node_options }
    source {
      storage_source {
        bucket = google_storage_bucket.this["sources"].name
        object = google_storage_bucket_object.bundle["dispatch"].name
      }
    }
  }
  service_config {
    available_memory      = var.dispatch.memory
    timeout_seconds       = var.dispatch.timeout_seconds
    max_instance_count    = var.dispatch.max_instances
    min_instance_count    = 0
    ingress_settings      = "ALLOW_INTERNAL_ONLY"
    service_account_email = google_service_account.this["dispatch"].email
    # NODE_OPTIONS: the preload, then the V8 heap flags that keep a burst's peak RSS down
    # (README "Performance").
    environment_variables = merge(local.dispatcher_env, local.node_env, {
      LOG_LEVEL    = var.dispatch.log_level
      NODE_OPTIONS = trimspace("${local.node_env.NODE_OPTIONS} ${var.dispatch.node_options}")
    })
    secret_environment_variables {
      key        = "WANDB_API_KEY"
      project_id = var.project_id
      secret     = google_secret_manager_secret.this["wandb_api_key"].secret_id
      version    = "latest"
    }
  }
  depends_on = [google_secret_manager_secret_iam_member.this, google_project_service.this]
}

resource "google_cloudfunctions2_function" "poll" {
  project     = var.project_id
  name        = "${var.prefix}-poll"
  location    = var.region
  description = "vertex-dispatch: one tick per launch-poll message; publishes job state changes"
  labels      = local.labels
  build_config {
    runtime         = "nodejs22"
    entry_point     = "poll"
    service_account = var.build_service_account
    # The runtime's NODE_OPTIONS hold no V8 flag (only the preload): the code cache is made
    # without any (scripts/code_cache.mjs).
    environment_variables = { CODE_CACHE_NODE_OPTIONS = "" }
    source {
      storage_source {
        bucket = google_storage_bucket.this["sources"].name
        object = google_storage_bucket_object.bundle["poll"].name
      }
    }
  }
  service_config {
    available_memory      = var.poll.memory
    timeout_seconds       = var.poll.timeout_seconds
    max_instance_count    = 1
    min_instance_count    = 0
    ingress_settings      = "ALLOW_INTERNAL_ONLY"
    service_account_email = google_service_account.this["poll"].email
    environment_variables = merge(
      local.dispatcher_env,
      local.node_env,
      { LOG_LEVEL = var.poll.log_level },
      var.poll.wandb_queues == null ? {} : { WANDB_QUEUES = var.poll.wandb_queues },
    )
    secret_environment_variables {
      key        = "WANDB_API_KEY"
      project_id = var.project_id
      secret     = google_secret_manager_secret.this["wandb_api_key"].secret_id
      version    = "latest"
    }
  }
  depends_on = [google_secret_manager_secret_iam_member.this, google_project_service.this]
}

resource "google_cloudfunctions2_function" "ingest" {
  project     = var.project_id
  name        = "${var.prefix}-ingest"
  location    = var.region
  description = "vertex-dispatch: W&B webhook automations publish launches to launch-jobs"
  labels      = local.labels
  build_config {
    runtime         = "nodejs22"
    entry_point     = "ingest"
    service_account = var.build_service_account
    # The runtime's NODE_OPTIONS hold no V8 flag (only the preload): the code cache is made
    # without any (scripts/code_cache.mjs).
    environment_variables = { CODE_CACHE_NODE_OPTIONS = "" }
    source {
      storage_source {
        bucket = google_storage_bucket.this["sources"].name
        object = google_storage_bucket_object.bundle["ingest"].name
      }
    }
  }
  service_config {
    available_memory      = var.ingest.memory
    timeout_seconds       = var.ingest.timeout_seconds
    max_instance_count    = var.ingest.max_instances
    min_instance_count    = 0
    ingress_settings      = "ALLOW_ALL"
    service_account_email = google_service_account.this["ingest"].email
    environment_variables = merge(local.node_env, {
      GOOGLE_CLOUD_PROJECT   = var.project_id
      LAUNCH_TOPIC           = google_pubsub_topic.this["jobs"].name
      MAX_MESSAGE_BYTES      = tostring(var.ingest.max_message_bytes)
      LOG_LEVEL              = var.ingest.log_level
      SHUTDOWN_GRACE_SECONDS = tostring(var.ingest.shutdown_grace_seconds)
    })
    secret_environment_variables {
      key        = "WEBHOOK_TOKEN"
      project_id = var.project_id
      secret     = google_secret_manager_secret.this["webhook_token"].secret_id
      version    = "latest"
    }
    dynamic "secret_environment_variables" {
      for_each = var.ingest.signing_secret ? ["WEBHOOK_SIGNING_SECRET"] : []
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.this["webhook_signing_secret"].secret_id
        version    = "latest"
      }
    }
  }
  depends_on = [google_secret_manager_secret_iam_member.this, google_project_service.this]
}

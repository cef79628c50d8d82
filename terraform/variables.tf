# Inputs. Object variables use optional() with defaults, so a tfvars file sets only what it
# changes. Every validation message says what to write instead.

variable "project_id" {
  description = "Project to deploy into: the functions, topics, buckets, secrets and the Vertex AI jobs."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 characters: lowercase letters, digits, hyphens; starts with a letter), e.g. acme-ml. Use the ID, not the project name or number."
  }
}

variable "region" {
  description = "Region of the functions, buckets and scheduler, and the default Vertex AI region of jobs (VERTEX_REGION). Must be a Vertex AI custom-training region."
  type        = string
  default     = "us-central1"
  validation {
    # The custom-training regions of shared/data/vertex-compute.json (a test keeps them equal).
    condition = contains([
      "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2",
      "asia-northeast3", "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2",
      "australia-southeast1", "australia-southeast2", "europe-central2", "europe-north1",
      "europe-southwest1", "europe-west1", "europe-west12", "europe-west2", "europe-west3",
      "europe-west4", "europe-west6", "europe-west8", "europe-west9", "me-central1",
      "me-central2", "me-west1", "northamerica-northeast1", "northamerica-northeast2",
      "southamerica-east1", "southamerica-west1", "us-central1", "us-east1", "us-east4",
      "us-east5", "us-south1", "us-west1", "us-west2", "us-west3", "us-west4",
    ], var.region)
    error_message = "region must be a Vertex AI custom-training region such as us-central1 or europe-west4 (see https://cloud.google.com/vertex-ai/docs/general/locations). Multi-regions (us, eu) and zones (us-central1-a) are not regions."
  }
}

variable "prefix" {
  description = "Prefix of every resource name (service accounts, functions, subscriptions, secrets, roles, default bucket names)."
  type        = string
  default     = "vd"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,13}[a-z0-9]$", var.prefix))
    error_message = "prefix must be 2-15 characters: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (service-account IDs are at most 30 characters), e.g. vd or ml-launch."
  }
}

variable "buckets" {
  description = "Bucket names (null: {project_id}-{prefix}-{key}) and whether destroy deletes their objects. Every bucket is regional in var.region."
  type = object({
    config        = optional(string)
    state         = optional(string)
    staging       = optional(string)
    sources       = optional(string)
    force_destroy = optional(bool, false)
  })
  default  = {}
  nullable = false
  validation {
    condition = alltrue([
      for name in [var.buckets.config, var.buckets.state, var.buckets.staging, var.buckets.sources] :
      name == null ? true : can(regex("^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$", name)) && !startswith(name, "goog")
    ])
    error_message = "Each of buckets.config, .state, .staging and .sources must be a bucket name without gs:// (3-63 characters: lowercase letters, digits, hyphens, underscores; not starting with goog), or left unset for the default name."
  }
}

variable "bundles_dir" {
  description = "Directory holding dispatch.zip, ingest.zip and poll.zip from `npm run build` (null: ../dist/functions beside this module)."
  type        = string
  default     = null
}

variable "framework_preload" {
  description = "Whether every function's NODE_OPTIONS begin with --require ./preload.cjs, which gives the Functions Framework its dependencies from one bundle in the package and keeps its per-request domain on AsyncLocalStorage, for a faster cold start (README \"Performance\"); false gives the framework node_modules and Node's domain. Set false if a function fails to start with Cannot find module './preload.cjs' (a runtime whose working directory is not the function's source)."
  type        = bool
  default     = true
}

variable "dispatch" {
  description = "The dispatch function and its push subscription on launch-jobs: delivery attempts before the dead-letter topic, retry backoff, lease and create deadline (LEASE_SECONDS, CREATE_DEADLINE_SECONDS; poll uses the same), the SIGTERM drain (SHUTDOWN_GRACE_SECONDS; poll uses the same), caches, instance size, Node's V8 heap flags (NODE_OPTIONS, after the framework preload every function requires; sized by the README's Performance section; \"\" for Node's defaults; the build gets the same flags as CODE_CACHE_NODE_OPTIONS, since V8 uses a code cache only under the flags it was made with)."
  type = object({
    max_delivery_attempts       = optional(number, 5)
    minimum_backoff_seconds     = optional(number, 10)
    maximum_backoff_seconds     = optional(number, 600)
    lease_seconds               = optional(number, 120)
    create_deadline_seconds     = optional(number, 60)
    timeout_seconds             = optional(number, 180)
    queue_config_ttl_seconds    = optional(number, 60)
    bucket_metadata_ttl_seconds = optional(number, 300)
    max_message_bytes           = optional(number, 262144)
    memory                      = optional(string, "512Mi")
    max_instances               = optional(number, 10)
    log_level                   = optional(string, "info")
    node_options                = optional(string, "--max-old-space-size=104 --max-semi-space-size=4")
    shutdown_grace_seconds      = optional(number, 8)
  })
  default  = {}
  nullable = false
  validation {
    condition     = var.dispatch.shutdown_grace_seconds >= 0 && var.dispatch.shutdown_grace_seconds <= 9
    error_message = "dispatch.shutdown_grace_seconds must be between 0 and 9: Cloud Run kills an instance 10 s after SIGTERM, and the flush and close need the rest."
  }
  validation {
    condition     = var.dispatch.max_delivery_attempts >= 5 && var.dispatch.max_delivery_attempts <= 100
    error_message = "dispatch.max_delivery_attempts must be between 5 and 100 (Pub/Sub's dead-letter policy limits)."
  }
  validation {
    condition     = var.dispatch.minimum_backoff_seconds >= 0 && var.dispatch.minimum_backoff_seconds <= var.dispatch.maximum_backoff_seconds && var.dispatch.maximum_backoff_seconds <= 600
    error_message = "dispatch backoff: set 0 <= minimum_backoff_seconds <= maximum_backoff_seconds <= 600 (Pub/Sub's retry-policy limits)."
  }
  validation {
    condition     = var.dispatch.lease_seconds > var.dispatch.create_deadline_seconds && var.dispatch.timeout_seconds > var.dispatch.create_deadline_seconds
    error_message = "dispatch.lease_seconds and dispatch.timeout_seconds must both be greater than dispatch.create_deadline_seconds: a lease or a function shorter than one CreateCustomJob call could let a second instance create the same job."
  }
  validation {
    condition     = var.dispatch.timeout_seconds >= 10 && var.dispatch.timeout_seconds <= 540
    error_message = "dispatch.timeout_seconds must be between 10 and 540: it is also the subscription's ack deadline (at most 600 s), and 540 s is the most an event function may run."
  }
  validation {
    condition     = contains(["debug", "info", "warning", "error"], var.dispatch.log_level)
    error_message = "dispatch.log_level must be debug, info, warning or error."
  }
  validation {
    condition     = can(regex("^\\s*(--[a-z0-9-]+(=\\S+)?\\s*)*$", var.dispatch.node_options))
    error_message = "dispatch.node_options must be Node command-line flags separated by spaces, each starting with --, e.g. \"--max-old-space-size=104 --max-semi-space-size=4\" (or \"\" for Node's defaults)."
  }
}

variable "poll" {
  description = "The poll function and its tick: Cloud Scheduler cron schedule and time zone, ListCustomJobs page size, the W&B run-queue bridge mapping (WANDB_QUEUES), instance size."
  type = object({
    schedule        = optional(string, "* * * * *")
    time_zone       = optional(string, "Etc/UTC")
    page_size       = optional(number, 1000)
    wandb_queues    = optional(string)
    timeout_seconds = optional(number, 300)
    memory          = optional(string, "512Mi")
    log_level       = optional(string, "info")
  })
  default  = {}
  nullable = false
  validation {
    condition     = can(regex("^\\s*(\\S+\\s+){4}\\S+\\s*$", var.poll.schedule))
    error_message = "poll.schedule must be a five-field cron expression (minute hour day-of-month month day-of-week), e.g. \"* * * * *\" for every minute or \"*/5 * * * *\" for every 5 minutes."
  }
  validation {
    condition     = var.poll.page_size >= 1 && var.poll.page_size <= 1000 && floor(var.poll.page_size) == var.poll.page_size
    error_message = "poll.page_size must be a whole number from 1 to 1000 (the ListCustomJobs page size)."
  }
  validation {
    condition     = var.poll.timeout_seconds >= 10 && var.poll.timeout_seconds <= 540
    error_message = "poll.timeout_seconds must be between 10 and 540 (it is also the tick subscription's ack deadline)."
  }
  validation {
    condition     = contains(["debug", "info", "warning", "error"], var.poll.log_level)
    error_message = "poll.log_level must be debug, info, warning or error."
  }
}

variable "ingest" {
  description = "The ingest function (the W&B webhook URL): whether a signing secret is required too (WEBHOOK_SIGNING_SECRET), the SIGTERM drain (SHUTDOWN_GRACE_SECONDS), instance size."
  type = object({
    signing_secret         = optional(bool, false)
    max_message_bytes      = optional(number, 262144)
    timeout_seconds        = optional(number, 60)
    memory                 = optional(string, "256Mi")
    max_instances          = optional(number, 10)
    log_level              = optional(string, "info")
    shutdown_grace_seconds = optional(number, 8)
  })
  default  = {}
  nullable = false
  validation {
    condition     = var.ingest.shutdown_grace_seconds >= 0 && var.ingest.shutdown_grace_seconds <= 9
    error_message = "ingest.shutdown_grace_seconds must be between 0 and 9: Cloud Run kills an instance 10 s after SIGTERM."
  }
  validation {
    condition     = contains(["debug", "info", "warning", "error"], var.ingest.log_level)
    error_message = "ingest.log_level must be debug, info, warning or error."
  }
}

variable "wandb" {
  description = "The W&B server the jobs report to (WANDB_BASE_URL)."
  type = object({
    base_url = optional(string, "https://api.wandb.ai")
  })
  default  = {}
  nullable = false
  validation {
    condition     = can(regex("^https?://[^/\\s]+", var.wandb.base_url))
    error_message = "wandb.base_url must be a URL such as https://api.wandb.ai (or your W&B server's URL)."
  }
}

variable "job_runtime" {
  description = "Project roles of the job runtime service account the CustomJobs run as (DEFAULT_JOB_SERVICE_ACCOUNT). It also gets object access on the staging bucket."
  type = object({
    project_roles = optional(list(string), ["roles/artifactregistry.reader", "roles/logging.logWriter"])
  })
  default  = {}
  nullable = false
  validation {
    condition     = length(setintersection(toset(var.job_runtime.project_roles), toset(["roles/owner", "roles/editor", "roles/viewer"]))) == 0
    error_message = "job_runtime.project_roles must not contain basic roles (roles/owner, roles/editor, roles/viewer): grant the predefined roles your training code needs, e.g. roles/artifactregistry.reader."
  }
}

variable "build_service_account" {
  description = "Service account email Cloud Build builds the functions as (null: the platform default)."
  type        = string
  default     = null
  validation {
    condition     = var.build_service_account == null ? true : can(regex("^[^@\\s]+@[^@\\s]+\\.iam\\.gserviceaccount\\.com$", var.build_service_account))
    error_message = "build_service_account must be a service-account email (NAME@PROJECT.iam.gserviceaccount.com), or null for the default."
  }
}

variable "labels" {
  description = "Labels added to the buckets, topics, functions and secrets."
  type        = map(string)
  default     = {}
  nullable    = false
}

# Buckets: queue configs (gs://config/queues/<queue>.yaml), launch records (state), the
# default staging bucket of jobs, and the function sources. All regional in var.region
# (Vertex AI needs the staging bucket in the job's region), uniform access, public access
# prevention enforced.

resource "google_storage_bucket" "this" {
  for_each                    = local.buckets
  project                     = var.project_id
  name                        = each.value
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.buckets.force_destroy
  labels                      = local.labels
  depends_on                  = [google_project_service.this]
}

# One object per build: its name carries the zip's MD5, so a new build makes a new object
# and Terraform redeploys exactly the functions whose bundle changed.
resource "google_storage_bucket_object" "bundle" {
  for_each = local.function_names
  bucket   = google_storage_bucket.this["sources"].name
  name     = "functions/${each.key}-${filemd5("${local.bundles_dir}/${each.key}.zip")}.zip"
  source   = "${local.bundles_dir}/${each.key}.zip"
}

# Provider constraint: the module is checked offline against the google provider 6.50
# schema (test/terraform/schema.test.ts); any 6.x from 6.50 on is accepted.
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.50.0, < 7.0.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

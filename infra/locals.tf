data "aws_partition" "current" {}

# A closed list of zone names: the subnets never move because AWS opened a new zone.
data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "zone-name"
    values = coalesce(var.availability_zones, [for letter in ["a", "b", "c", "d", "e", "f"] : "${var.aws_region}${letter}"])
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) >= var.az_count
      error_message = "Fewer available zones than az_count: set availability_zones explicitly or lower az_count."
    }
  }
}

locals {
  prefix    = "${var.project_name}-${var.environment}"
  partition = data.aws_partition.current.partition
  account   = var.account_id
  region    = var.aws_region

  # Bucket names are global: the account and region make them unique and predictable.
  bucket_suffix = "${var.account_id}-${var.aws_region}"

  # The five lake buckets share one definition; lifecycle differs by role.
  lake_buckets = {
    raw = {
      name = "${local.prefix}-raw-${local.bucket_suffix}"
      # The original demo's lifecycle: Standard -> IA -> Glacier -> Deep Archive (30, 90, 365 days by default).
      transitions = [
        { days = var.raw_standard_ia_days, storage_class = "STANDARD_IA" },
        { days = var.raw_glacier_days, storage_class = "GLACIER" },
        { days = var.raw_deep_archive_days, storage_class = "DEEP_ARCHIVE" },
      ]
      expiration_days = null
    }
    processed = {
      name = "${local.prefix}-processed-${local.bucket_suffix}"
      # Queried by Athena: Intelligent-Tiering has no retrieval fee, unlike Standard-IA.
      transitions = [
        { days = 30, storage_class = "INTELLIGENT_TIERING" },
      ]
      expiration_days = null
    }
    archive = {
      name = "${local.prefix}-archive-${local.bucket_suffix}"
      transitions = [
        { days = 0, storage_class = "GLACIER" },
        { days = 180, storage_class = "DEEP_ARCHIVE" },
      ]
      expiration_days = null
    }
    athena_results = {
      name            = "${local.prefix}-athena-results-${local.bucket_suffix}"
      transitions     = []
      expiration_days = var.athena_results_expiration_days
    }
    scripts = {
      name            = "${local.prefix}-scripts-${local.bucket_suffix}"
      transitions     = []
      expiration_days = null
    }
  }

  logs_bucket_name = "${local.prefix}-logs-${local.bucket_suffix}"

  # Buckets whose object reads and writes CloudTrail records as data events.
  data_event_buckets = ["raw", "processed", "archive", "scripts"]

  glue_database = replace(local.prefix, "-", "_")

  # Spark jobs and the transform spec written in jobs/; uploaded only when present so plan works before they exist.
  jobs_dir = "${path.module}/../jobs"
  job_files = {
    sales_etl           = { file = "sales_etl.py", content_type = "text/x-python" }
    customer_aggregates = { file = "customer_aggregates.py", content_type = "text/x-python" }
    transform_spec      = { file = "transform_spec.json", content_type = "application/json" }
  }
  present_job_files = {
    for key, job in local.job_files : key => job if fileexists("${local.jobs_dir}/${job.file}")
  }
  job_keys = { for key, job in local.job_files : key => "jobs/${job.file}" }

  # The sales job's bookmark: the raw files each run consumed, and each run's row counts.
  bookmark_key = "state/bookmarks/sales_etl.json"

  azs = slice(data.aws_availability_zones.available.names, 0, var.az_count)

  redshift_serverless  = var.redshift_mode == "serverless"
  redshift_provisioned = var.redshift_mode == "provisioned"
  emr_cluster          = var.emr_mode == "cluster"
  emr_serverless       = var.emr_mode == "serverless"
  emr_enabled          = var.emr_mode != "none"

  # EMR's managed policy v2 only acts on resources carrying this tag.
  emr_managed_tag = { "for-use-with-amazon-emr-managed-policies" = "true" }
}

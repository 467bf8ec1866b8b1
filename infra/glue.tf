resource "aws_glue_catalog_database" "lake" {
  name        = local.glue_database
  description = "Tables of the ${local.prefix} data lake (raw landing zone; processed Iceberg tables)."
}

# Encrypts the whole account's Data Catalog in this region with the project key: principals that
# read the catalog (Athena users, Redshift Spectrum) need kms:Decrypt on it.
resource "aws_glue_data_catalog_encryption_settings" "lake" {
  data_catalog_encryption_settings {
    encryption_at_rest {
      catalog_encryption_mode = "SSE-KMS"
      sse_aws_kms_key_id      = aws_kms_key.lake.arn
    }

    connection_password_encryption {
      return_connection_password_encrypted = true
      aws_kms_key_id                       = aws_kms_key.lake.arn
    }
  }
}

resource "aws_glue_security_configuration" "lake" {
  name = "${local.prefix}-glue"

  encryption_configuration {
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = aws_kms_key.lake.arn
    }

    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = aws_kms_key.lake.arn
    }

    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = aws_kms_key.lake.arn
    }
  }
}

resource "aws_cloudwatch_log_group" "glue_jobs" {
  name              = "/aws-glue/${local.prefix}/jobs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.lake.arn
}

# ---------------------------------------------------------------------------
# Crawler: the raw landing zone (JSON + CSV, year=/month=/day=). The processed zone needs none: its
# tables are Iceberg tables that `datalake deploy` creates in this database (pyiceberg's Glue catalog)
# and `datalake run-etl` commits each run to, one snapshot per table.
# ---------------------------------------------------------------------------
resource "aws_glue_crawler" "raw" {
  name                   = "${local.prefix}-raw"
  description            = "Catalogs new partitions of the raw landing zone."
  database_name          = aws_glue_catalog_database.lake.name
  role                   = aws_iam_role.glue_crawler.arn
  security_configuration = aws_glue_security_configuration.lake.name
  table_prefix           = "raw_"

  s3_target {
    path       = "s3://${aws_s3_bucket.lake["raw"].id}/"
    exclusions = ["**/_SUCCESS", "**/_temporary/**", "**.crc"]
  }

  # Raw is append-only: crawl only new folders (partitions), never rescan the history.
  recrawl_policy {
    recrawl_behavior = "CRAWL_NEW_FOLDERS_ONLY"
  }

  schema_change_policy {
    delete_behavior = "LOG"
    update_behavior = "LOG"
  }

  configuration = jsonencode({
    Version = 1.0
    Grouping = {
      TableGroupingPolicy = "CombineCompatibleSchemas"
    }
    CrawlerOutput = {
      Partitions = { AddOrUpdateBehavior = "InheritFromTable" }
    }
  })
}

# ---------------------------------------------------------------------------
# ETL jobs (Glue 5.0: Spark 3.5, Python 3.11, same as EMR 7 and local Spark)
# ---------------------------------------------------------------------------
locals {
  glue_job_arguments = {
    "--job-language" = "python"
    # Glue's own bookmarks follow DynamicFrame sources only: the job keeps its bookmark in --bookmark_path.
    "--job-bookmark-option"              = "job-bookmark-disable"
    "--enable-metrics"                   = "true"
    "--enable-observability-metrics"     = "true"
    "--enable-continuous-cloudwatch-log" = "true"
    "--continuous-log-logGroup"          = aws_cloudwatch_log_group.glue_jobs.name
    "--enable-spark-ui"                  = "true"
    "--spark-event-logs-path"            = "s3://${aws_s3_bucket.lake["scripts"].id}/spark-events/"
    "--TempDir"                          = "s3://${aws_s3_bucket.lake["scripts"].id}/tmp/"
    "--raw_path"                         = "s3://${aws_s3_bucket.lake["raw"].id}/"
    "--processed_path"                   = "s3://${aws_s3_bucket.lake["processed"].id}/"
    "--quarantine_path"                  = "s3://${aws_s3_bucket.lake["processed"].id}/quarantine/"
    "--spec_path"                        = "s3://${aws_s3_bucket.lake["scripts"].id}/${local.job_keys["transform_spec"]}"
    # Started without --input_list (by the workflow's trigger), the job reads this bookmark and processes
    # exactly the raw files it does not list; either way it commits what it consumed there.
    "--bookmark_path" = "s3://${aws_s3_bucket.lake["scripts"].id}/${local.bookmark_key}"
  }
}

resource "aws_glue_job" "sales_etl" {
  name                   = "${local.prefix}-sales-etl"
  description            = "raw JSON/CSV -> quality checks -> partitioned Parquet (jobs/sales_etl.py)."
  role_arn               = aws_iam_role.glue_job.arn
  glue_version           = "5.0"
  worker_type            = var.glue_worker_type
  number_of_workers      = var.glue_number_of_workers
  timeout                = var.glue_job_timeout_minutes
  max_retries            = 0
  security_configuration = aws_glue_security_configuration.lake.name

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${aws_s3_bucket.lake["scripts"].id}/${local.job_keys["sales_etl"]}"
  }

  default_arguments = local.glue_job_arguments

  execution_property {
    max_concurrent_runs = 1
  }
}

resource "aws_glue_job" "customer_aggregates" {
  name                   = "${local.prefix}-customer-aggregates"
  description            = "Heavy customer aggregates over the processed sales (jobs/customer_aggregates.py)."
  role_arn               = aws_iam_role.glue_job.arn
  glue_version           = "5.0"
  worker_type            = var.glue_worker_type
  number_of_workers      = var.glue_aggregates_number_of_workers
  timeout                = var.glue_job_timeout_minutes
  max_retries            = 0
  security_configuration = aws_glue_security_configuration.lake.name

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${aws_s3_bucket.lake["scripts"].id}/${local.job_keys["customer_aggregates"]}"
  }

  default_arguments = { for key, value in local.glue_job_arguments : key => value if key != "--bookmark_path" }

  execution_property {
    max_concurrent_runs = 1
  }
}

# ---------------------------------------------------------------------------
# Workflow: start -> crawl raw -> (crawl SUCCEEDED) ETL -> (job SUCCEEDED) aggregates. The ETL run it
# starts records its files in the job's bookmark; the next `datalake run-etl` commits them to the tables.
# ---------------------------------------------------------------------------
resource "aws_glue_workflow" "lake" {
  name                = "${local.prefix}-pipeline"
  description         = "Crawl the raw zone, run the ETL when the crawl succeeds, then the aggregates."
  max_concurrent_runs = 1
}

resource "aws_glue_trigger" "start" {
  name          = "${local.prefix}-start"
  workflow_name = aws_glue_workflow.lake.name
  type          = var.workflow_schedule == null ? "ON_DEMAND" : "SCHEDULED"
  schedule      = var.workflow_schedule

  actions {
    crawler_name = aws_glue_crawler.raw.name
  }
}

resource "aws_glue_trigger" "raw_crawled" {
  name          = "${local.prefix}-raw-crawled"
  workflow_name = aws_glue_workflow.lake.name
  type          = "CONDITIONAL"

  predicate {
    conditions {
      crawler_name     = aws_glue_crawler.raw.name
      crawl_state      = "SUCCEEDED"
      logical_operator = "EQUALS"
    }
  }

  actions {
    job_name = aws_glue_job.sales_etl.name
  }
}

resource "aws_glue_trigger" "etl_succeeded" {
  name          = "${local.prefix}-etl-succeeded"
  workflow_name = aws_glue_workflow.lake.name
  type          = "CONDITIONAL"

  predicate {
    conditions {
      job_name         = aws_glue_job.sales_etl.name
      state            = "SUCCEEDED"
      logical_operator = "EQUALS"
    }
  }

  actions {
    job_name = aws_glue_job.customer_aggregates.name
  }
}

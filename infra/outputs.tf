# Read by `datalake` after `deploy --target aws` (terraform output -json). Scalar strings only;
# outputs of disabled components are null and left out by the CLI.

output "region" {
  description = "Region of the lake."
  value       = var.aws_region
}

output "raw_bucket" {
  description = "Landing zone bucket (JSON + CSV, year=/month=/day=)."
  value       = aws_s3_bucket.lake["raw"].id
}

output "processed_bucket" {
  description = "Partitioned Parquet bucket (and quarantine/ prefix)."
  value       = aws_s3_bucket.lake["processed"].id
}

# The original demo's output names, kept beside ours so its README's commands work unchanged.
output "raw_bucket_name" {
  description = "The raw bucket (the original demo's name for it)."
  value       = aws_s3_bucket.lake["raw"].id
}

output "glue_crawler_name" {
  description = "The raw zone's crawler (the original demo's name for it)."
  value       = aws_glue_crawler.raw.name
}

output "glue_etl_job_name" {
  description = "The sales ETL Glue job (the original demo's name for it)."
  value       = aws_glue_job.sales_etl.name
}

output "archive_bucket" {
  description = "Archive bucket for raw partitions past retention."
  value       = aws_s3_bucket.lake["archive"].id
}

output "athena_results_bucket" {
  description = "Athena query results bucket."
  value       = aws_s3_bucket.lake["athena_results"].id
}

output "scripts_bucket" {
  description = "Job scripts, transform spec, Spark temp files."
  value       = aws_s3_bucket.lake["scripts"].id
}

output "logs_bucket" {
  description = "S3 access logs, CloudTrail and EMR logs."
  value       = aws_s3_bucket.logs.id
}

output "glue_database" {
  description = "Glue Data Catalog database."
  value       = aws_glue_catalog_database.lake.name
}

output "raw_crawler_name" {
  description = "Crawler over the raw zone."
  value       = aws_glue_crawler.raw.name
}

output "glue_job_name" {
  description = "The sales ETL Glue job."
  value       = aws_glue_job.sales_etl.name
}

output "aggregates_job_name" {
  description = "The customer aggregates Glue job."
  value       = aws_glue_job.customer_aggregates.name
}

output "glue_workflow_name" {
  description = "Workflow chaining crawl -> ETL -> aggregates."
  value       = aws_glue_workflow.lake.name
}

output "athena_workgroup" {
  description = "Athena workgroup with enforced settings."
  value       = aws_athena_workgroup.lake.name
}

output "redshift_mode" {
  description = "serverless, provisioned or none."
  value       = var.redshift_mode
}

output "redshift_workgroup" {
  description = "Redshift Serverless workgroup (serverless mode)."
  value       = local.redshift_serverless ? aws_redshiftserverless_workgroup.lake[0].workgroup_name : null
}

output "redshift_cluster_id" {
  description = "Provisioned Redshift cluster identifier (provisioned mode)."
  value       = local.redshift_provisioned ? aws_redshift_cluster.lake[0].cluster_identifier : null
}

output "redshift_database" {
  description = "Warehouse database."
  value       = var.redshift_mode == "none" ? null : var.redshift_database_name
}

output "redshift_secret_arn" {
  description = "Secrets Manager secret holding the admin credentials."
  value = (
    local.redshift_serverless ? aws_redshiftserverless_namespace.lake[0].admin_password_secret_arn :
    local.redshift_provisioned ? aws_redshift_cluster.lake[0].master_password_secret_arn : null
  )
}

output "redshift_copy_role_arn" {
  description = "IAM role for COPY from the processed bucket."
  value       = aws_iam_role.redshift_copy.arn
}

output "emr_cluster_id" {
  description = "EMR cluster id (emr_mode = cluster)."
  value       = local.emr_cluster ? aws_emr_cluster.lake[0].id : null
}

output "emr_serverless_application_id" {
  description = "EMR Serverless application id (emr_mode = serverless)."
  value       = local.emr_serverless ? aws_emrserverless_application.lake[0].id : null
}

output "emr_job_role_arn" {
  description = "Runtime role for EMR Serverless job runs (and the cluster's instance role)."
  value       = aws_iam_role.emr_job.arn
}

output "alerts_topic_arn" {
  description = "SNS topic receiving Glue failure alerts."
  value       = aws_sns_topic.alerts.arn
}

output "operator_policy_arn" {
  description = "Attach to whoever runs the datalake CLI against this lake (seed, run-etl, query, status, cost-report)."
  value       = aws_iam_policy.operator.arn
}

output "glue_job_role_arn" {
  description = "Role the Glue jobs run as."
  value       = aws_iam_role.glue_job.arn
}

output "glue_crawler_role_arn" {
  description = "Role the crawlers run as."
  value       = aws_iam_role.glue_crawler.arn
}

output "kms_key_arn" {
  description = "Project KMS key."
  value       = aws_kms_key.lake.arn
}

resource "aws_athena_workgroup" "lake" {
  name          = local.prefix
  description   = "Queries of the ${local.prefix} lake: results encrypted, per-query scan limit enforced."
  force_destroy = var.force_destroy

  configuration {
    # Clients cannot override the output location, encryption or the scan limit.
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location       = "s3://${aws_s3_bucket.lake["athena_results"].id}/results/"
      expected_bucket_owner = local.account

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = aws_kms_key.lake.arn
      }
    }
  }
}

locals {
  trail_name = "${local.prefix}-trail"
  # Built from parts so the logs bucket policy can name the trail before the trail exists.
  trail_arn = "arn:${local.partition}:cloudtrail:${local.region}:${local.account}:trail/${local.trail_name}"
}

# ---------------------------------------------------------------------------
# Alerts: Glue job and crawler failures -> EventBridge -> SNS
# ---------------------------------------------------------------------------
resource "aws_sns_topic" "alerts" {
  name              = "${local.prefix}-alerts"
  kms_master_key_id = aws_kms_key.lake.arn
}

resource "aws_sns_topic_policy" "alerts" {
  arn = aws_sns_topic.alerts.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EventBridgePublishesLakeAlerts"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.alerts.arn
        Condition = {
          ArnEquals = {
            "aws:SourceArn" = [aws_cloudwatch_event_rule.glue_job_failed.arn, aws_cloudwatch_event_rule.glue_crawler_failed.arn]
          }
        }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "alerts_email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_event_rule" "glue_job_failed" {
  name        = "${local.prefix}-glue-job-failed"
  description = "A lake Glue job failed, timed out or errored."
  event_pattern = jsonencode({
    source        = ["aws.glue"]
    "detail-type" = ["Glue Job State Change"]
    detail = {
      jobName = [aws_glue_job.sales_etl.name, aws_glue_job.customer_aggregates.name]
      state   = ["FAILED", "TIMEOUT", "ERROR"]
    }
  })
}

resource "aws_cloudwatch_event_target" "glue_job_failed" {
  rule      = aws_cloudwatch_event_rule.glue_job_failed.name
  target_id = "sns"
  arn       = aws_sns_topic.alerts.arn
}

resource "aws_cloudwatch_event_rule" "glue_crawler_failed" {
  name        = "${local.prefix}-glue-crawler-failed"
  description = "A lake Glue crawler failed."
  event_pattern = jsonencode({
    source        = ["aws.glue"]
    "detail-type" = ["Glue Crawler State Change"]
    detail = {
      crawlerName = [aws_glue_crawler.raw.name]
      state       = ["Failed"]
    }
  })
}

resource "aws_cloudwatch_event_target" "glue_crawler_failed" {
  rule      = aws_cloudwatch_event_rule.glue_crawler_failed.name
  target_id = "sns"
  arn       = aws_sns_topic.alerts.arn
}

# ---------------------------------------------------------------------------
# Audit: CloudTrail with S3 data events on the lake buckets
# ---------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "cloudtrail" {
  name              = "/aws/cloudtrail/${local.prefix}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.lake.arn
}

resource "aws_cloudtrail" "lake" {
  #checkov:skip=CKV_AWS_252:A notification per delivered log file is noise; delivery problems show in the CloudWatch Logs integration and the alerts topic carries real failures.
  name                          = local.trail_name
  s3_bucket_name                = aws_s3_bucket.logs.id
  s3_key_prefix                 = "cloudtrail"
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = aws_kms_key.lake.arn
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.cloudtrail.arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.cloudtrail.arn

  event_selector {
    read_write_type           = "All"
    include_management_events = true

    data_resource {
      type   = "AWS::S3::Object"
      values = [for key in local.data_event_buckets : "${aws_s3_bucket.lake[key].arn}/"]
    }
  }

  depends_on = [aws_s3_bucket_policy.logs]
}

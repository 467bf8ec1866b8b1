# One role per service. Every statement names the project's buckets, catalog, log groups or key;
# the only "*" resource is cloudwatch:PutMetricData, which has no resource-level permissions and is
# pinned to the Glue namespace by a condition.

locals {
  bucket_arns = { for key, bucket in aws_s3_bucket.lake : key => bucket.arn }

  glue_catalog_arns = [
    "arn:${local.partition}:glue:${local.region}:${local.account}:catalog",
    "arn:${local.partition}:glue:${local.region}:${local.account}:database/${local.glue_database}",
    "arn:${local.partition}:glue:${local.region}:${local.account}:table/${local.glue_database}/*",
  ]

  glue_log_group_arns = [
    "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws-glue/*",
    "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws-glue/*:log-stream:*",
  ]
}

# ---------------------------------------------------------------------------
# Shared statements
# ---------------------------------------------------------------------------
data "aws_iam_policy_document" "use_lake_key" {
  statement {
    sid       = "UseLakeKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.lake.arn]
  }
}

data "aws_iam_policy_document" "catalog_read_write" {
  statement {
    sid = "CatalogReadWrite"
    actions = [
      "glue:GetDatabase",
      "glue:GetDatabases",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:CreatePartition",
      "glue:UpdatePartition",
      "glue:BatchCreatePartition",
      "glue:BatchGetPartition",
      "glue:BatchUpdatePartition",
    ]
    resources = local.glue_catalog_arns
  }
}

# ---------------------------------------------------------------------------
# Glue crawlers
# ---------------------------------------------------------------------------
data "aws_iam_policy_document" "glue_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "glue_crawler" {
  name               = "${local.prefix}-glue-crawler"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

data "aws_iam_policy_document" "glue_crawler" {
  source_policy_documents = [
    data.aws_iam_policy_document.catalog_read_write.json,
    data.aws_iam_policy_document.use_lake_key.json,
  ]

  # Only the raw zone is crawled: the processed zone's tables are Iceberg tables, committed by run-etl.
  statement {
    sid       = "ListCrawledBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [local.bucket_arns["raw"]]
  }

  statement {
    sid       = "ReadCrawledObjects"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arns["raw"]}/*"]
  }

  statement {
    sid       = "CrawlerLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = local.glue_log_group_arns
  }
}

resource "aws_iam_role_policy" "glue_crawler" {
  name   = "crawl-lake"
  role   = aws_iam_role.glue_crawler.id
  policy = data.aws_iam_policy_document.glue_crawler.json
}

# ---------------------------------------------------------------------------
# Glue ETL jobs
# ---------------------------------------------------------------------------
resource "aws_iam_role" "glue_job" {
  name               = "${local.prefix}-glue-job"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

# What the Spark job (jobs/sales_etl.py) touches, on Glue and on EMR alike: it reads the raw files it is
# handed (or lists them, when the Glue workflow starts it), the scripts and its run's pending list;
# it writes the processed zone and commits the bookmark (state/bookmarks/), the run's record.
data "aws_iam_policy_document" "lake_job" {
  source_policy_documents = [data.aws_iam_policy_document.use_lake_key.json]

  statement {
    sid     = "ListLakeBuckets"
    actions = ["s3:ListBucket"]
    resources = [
      local.bucket_arns["raw"],
      local.bucket_arns["processed"],
      local.bucket_arns["scripts"],
    ]
  }

  statement {
    sid     = "ReadRawScriptsAndRunState"
    actions = ["s3:GetObject"]
    resources = [
      "${local.bucket_arns["raw"]}/*",
      "${local.bucket_arns["scripts"]}/jobs/*",
      "${local.bucket_arns["scripts"]}/state/*",
    ]
  }

  statement {
    sid       = "WriteProcessed"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.bucket_arns["processed"]}/*"]
  }

  statement {
    sid       = "CommitBookmark"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arns["scripts"]}/state/bookmarks/*"]
  }

  # The job writes data files; the tables' metadata is the operator's to write (run-etl commits).
  statement {
    sid       = "NeverTouchTableMetadata"
    effect    = "Deny"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.bucket_arns["processed"]}/*/_iceberg/*"]
  }
}

data "aws_iam_policy_document" "glue_job" {
  source_policy_documents = [data.aws_iam_policy_document.lake_job.json]

  # Glue's --TempDir and the Spark UI's event logs (--spark-event-logs-path): Glue's, not the job's, paths.
  statement {
    sid       = "GlueTemporaryFiles"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.bucket_arns["scripts"]}/tmp/*", "${local.bucket_arns["scripts"]}/spark-events/*"]
  }

  statement {
    sid       = "JobLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = local.glue_log_group_arns
  }

  statement {
    sid       = "JobMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
  }
}

resource "aws_iam_role_policy" "glue_job" {
  name   = "run-lake-jobs"
  role   = aws_iam_role.glue_job.id
  policy = data.aws_iam_policy_document.glue_job.json
}

# ---------------------------------------------------------------------------
# Redshift: COPY from the processed bucket only
# ---------------------------------------------------------------------------
data "aws_iam_policy_document" "redshift_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "redshift_copy" {
  name               = "${local.prefix}-redshift-copy"
  assume_role_policy = data.aws_iam_policy_document.redshift_assume.json
}

data "aws_iam_policy_document" "redshift_copy" {
  statement {
    sid       = "ListProcessed"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [local.bucket_arns["processed"]]
  }

  statement {
    sid       = "ReadProcessed"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arns["processed"]}/*"]
  }

  statement {
    sid       = "DecryptProcessed"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [aws_kms_key.lake.arn]
  }
}

resource "aws_iam_role_policy" "redshift_copy" {
  name   = "copy-from-processed"
  role   = aws_iam_role.redshift_copy.id
  policy = data.aws_iam_policy_document.redshift_copy.json
}

# ---------------------------------------------------------------------------
# EMR: service role, instance profile (cluster) or job runtime role (serverless)
# ---------------------------------------------------------------------------
data "aws_iam_policy_document" "emr_service_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["elasticmapreduce.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "emr_service" {
  count = local.emr_cluster ? 1 : 0

  name               = "${local.prefix}-emr-service"
  assume_role_policy = data.aws_iam_policy_document.emr_service_assume.json
}

# AWS's v2 service policy is scoped to resources tagged for-use-with-amazon-emr-managed-policies=true.
resource "aws_iam_role_policy_attachment" "emr_service" {
  count = local.emr_cluster ? 1 : 0

  role       = aws_iam_role.emr_service[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"
}

data "aws_iam_policy_document" "emr_service_pass_role" {
  statement {
    sid       = "PassInstanceRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.emr_job.arn]
    condition {
      test     = "StringLike"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com*"]
    }
  }
}

resource "aws_iam_role_policy" "emr_service_pass_role" {
  count = local.emr_cluster ? 1 : 0

  name   = "pass-instance-role"
  role   = aws_iam_role.emr_service[0].id
  policy = data.aws_iam_policy_document.emr_service_pass_role.json
}

data "aws_iam_policy_document" "emr_job_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com", "emr-serverless.amazonaws.com"]
    }
  }
}

# The role the Spark jobs run as on EMR: EC2 instance profile for a cluster, runtime role for Serverless.
resource "aws_iam_role" "emr_job" {
  name               = "${local.prefix}-emr-job"
  assume_role_policy = data.aws_iam_policy_document.emr_job_assume.json
}

data "aws_iam_policy_document" "emr_job" {
  source_policy_documents = [data.aws_iam_policy_document.lake_job.json]

  statement {
    sid       = "WriteEmrLogs"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${aws_s3_bucket.logs.arn}/emr/*"]
  }

  statement {
    sid       = "ListLogsBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.logs.arn]
  }
}

resource "aws_iam_role_policy" "emr_job" {
  name   = "run-lake-jobs"
  role   = aws_iam_role.emr_job.id
  policy = data.aws_iam_policy_document.emr_job.json
}

resource "aws_iam_instance_profile" "emr_job" {
  count = local.emr_cluster ? 1 : 0

  name = "${local.prefix}-emr-job"
  role = aws_iam_role.emr_job.name
}

# ---------------------------------------------------------------------------
# Delivery roles: VPC flow logs and CloudTrail into CloudWatch Logs
# ---------------------------------------------------------------------------
data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  name               = "${local.prefix}-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume.json
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    actions = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [
      aws_cloudwatch_log_group.flow_logs.arn,
      "${aws_cloudwatch_log_group.flow_logs.arn}:*",
    ]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "deliver-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

data "aws_iam_policy_document" "cloudtrail_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "cloudtrail" {
  name               = "${local.prefix}-cloudtrail"
  assume_role_policy = data.aws_iam_policy_document.cloudtrail_assume.json
}

data "aws_iam_policy_document" "cloudtrail" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.cloudtrail.arn}:*"]
  }
}

resource "aws_iam_role_policy" "cloudtrail" {
  name   = "deliver-trail"
  role   = aws_iam_role.cloudtrail.id
  policy = data.aws_iam_policy_document.cloudtrail.json
}

# ---------------------------------------------------------------------------
# Operator: whoever runs `datalake seed / run-etl / query / status / cost-report` against the lake
# (attach the policy to that user or role). Deploying and destroying need Terraform's own, wider rights.
# Athena reads the data and writes its results with the caller's own permissions, hence the S3
# reads of raw/processed and the writes under athena_results/results/. run-etl commits the runs to
# the processed zone's Iceberg tables, hence the writes under <table>/_iceberg/ and glue:UpdateTable.
# ---------------------------------------------------------------------------
data "aws_iam_policy_document" "operator" {
  source_policy_documents = [data.aws_iam_policy_document.use_lake_key.json]

  statement {
    sid       = "ListLakeBuckets"
    actions   = ["s3:ListBucket"]
    resources = concat(values(local.bucket_arns), [aws_s3_bucket.logs.arn])
  }

  statement {
    sid     = "ReadLake"
    actions = ["s3:GetObject"]
    resources = [
      "${local.bucket_arns["raw"]}/*",
      "${local.bucket_arns["processed"]}/*",
      "${local.bucket_arns["scripts"]}/jobs/*",
      "${local.bucket_arns["scripts"]}/state/*",
      "${local.bucket_arns["athena_results"]}/results/*",
    ]
  }

  statement {
    sid     = "LandRawAndStageRuns"
    actions = ["s3:PutObject"]
    resources = [
      "${local.bucket_arns["raw"]}/*",
      "${local.bucket_arns["scripts"]}/jobs/*",
      "${local.bucket_arns["scripts"]}/state/seeds.json",
      "${local.bucket_arns["scripts"]}/state/runs/*",
      "${local.bucket_arns["processed"]}/_staging/*",
      "${local.bucket_arns["athena_results"]}/results/*",
    ]
  }

  # run-etl commits the job's files to the Iceberg tables: new metadata files (table metadata, manifest
  # lists, manifests) under each table's _iceberg/ folder, then the Glue table's metadata pointer
  # (glue:UpdateTable, below). Data files stay the job's to write.
  statement {
    sid       = "CommitIcebergMetadata"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arns["processed"]}/*/_iceberg/*"]
  }

  statement {
    sid       = "RunRawCrawler"
    actions   = ["glue:StartCrawler", "glue:GetCrawler"]
    resources = [aws_glue_crawler.raw.arn]
  }

  statement {
    sid       = "RunJobs"
    actions   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns"]
    resources = [aws_glue_job.sales_etl.arn, aws_glue_job.customer_aggregates.arn]
  }

  statement {
    sid       = "ReadDatabase"
    actions   = ["glue:GetDatabase"]
    resources = slice(local.glue_catalog_arns, 0, 2)
  }

  # pyiceberg loads a table (GetTable) to read or commit it; Athena does too, as the caller
  statement {
    sid       = "ReadCatalog"
    actions   = ["glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"]
    resources = local.glue_catalog_arns
  }

  # `datalake run-etl` swaps an Iceberg table's metadata pointer (UpdateTable, conditional on the table's
  # version); `datalake run-job customer_aggregates` registers the job's output table for Athena.
  statement {
    sid       = "CommitTables"
    actions   = ["glue:CreateTable", "glue:UpdateTable"]
    resources = local.glue_catalog_arns
  }

  statement {
    sid = "QueryAthena"
    actions = [
      "athena:StartQueryExecution",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:ListQueryExecutions",
      "athena:BatchGetQueryExecution",
      "athena:GetWorkGroup",
    ]
    resources = [aws_athena_workgroup.lake.arn]
  }

  dynamic "statement" {
    for_each = local.emr_cluster ? [1] : []
    content {
      sid       = "RunEmrSteps"
      actions   = ["elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:DescribeStep", "elasticmapreduce:ListSteps"]
      resources = [aws_emr_cluster.lake[0].arn]
    }
  }

  dynamic "statement" {
    for_each = var.redshift_mode == "none" ? [] : [1]
    content {
      sid       = "LoadAndQueryRedshift"
      actions   = ["redshift-data:ExecuteStatement", "redshift-data:BatchExecuteStatement"]
      resources = [local.redshift_serverless ? aws_redshiftserverless_workgroup.lake[0].arn : aws_redshift_cluster.lake[0].arn]
    }
  }

  dynamic "statement" {
    for_each = var.redshift_mode == "none" ? [] : [1]
    content {
      sid = "ReadRedshiftStatements"
      # DescribeStatement and GetStatementResult have no resource type: they only see the caller's statements.
      actions   = ["redshift-data:DescribeStatement", "redshift-data:GetStatementResult"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.redshift_serverless ? [1] : []
    content {
      sid       = "RedshiftServerlessCredentials"
      actions   = ["redshift-serverless:GetCredentials"]
      resources = [aws_redshiftserverless_workgroup.lake[0].arn]
    }
  }

  dynamic "statement" {
    for_each = local.redshift_provisioned ? [1] : []
    content {
      sid       = "RedshiftAdminSecret"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [aws_redshift_cluster.lake[0].master_password_secret_arn]
    }
  }
}

resource "aws_iam_policy" "operator" {
  name        = "${local.prefix}-operator"
  description = "What the datalake CLI needs to seed, run, query and measure the ${local.prefix} lake."
  policy      = data.aws_iam_policy_document.operator.json
}

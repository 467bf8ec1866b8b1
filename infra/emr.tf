# Optional Spark capacity beyond Glue: an EC2 cluster that runs on spot and stops itself when idle,
# or an EMR Serverless application. Both live in the private subnets.

# ---------------------------------------------------------------------------
# Security configuration (cluster)
# ---------------------------------------------------------------------------
resource "aws_emr_security_configuration" "lake" {
  count = local.emr_cluster ? 1 : 0

  name = "${local.prefix}-emr"
  configuration = jsonencode({
    EncryptionConfiguration = {
      EnableInTransitEncryption = false
      EnableAtRestEncryption    = true
      AtRestEncryptionConfiguration = {
        S3EncryptionConfiguration = {
          EncryptionMode = "SSE-KMS"
          AwsKmsKey      = aws_kms_key.lake.arn
        }
        LocalDiskEncryptionConfiguration = {
          EncryptionKeyProviderType = "AwsKms"
          AwsKmsKey                 = aws_kms_key.lake.arn
          EnableEbsEncryption       = true
        }
      }
    }
    InstanceMetadataServiceConfiguration = {
      MinimumInstanceMetadataServiceVersion = 2
      HttpPutResponseHopLimit               = 2
    }
  })
}

# EMR manages the rules of these groups itself (they must start empty); revoke_rules_on_delete lets them be deleted.
resource "aws_security_group" "emr_primary" {
  count = local.emr_cluster ? 1 : 0

  name                   = "${local.prefix}-emr-primary"
  description            = "EMR managed security group of the primary node"
  vpc_id                 = aws_vpc.lake.id
  revoke_rules_on_delete = true
  tags                   = local.emr_managed_tag
}

resource "aws_security_group" "emr_core" {
  count = local.emr_cluster ? 1 : 0

  name                   = "${local.prefix}-emr-core"
  description            = "EMR managed security group of core and task nodes"
  vpc_id                 = aws_vpc.lake.id
  revoke_rules_on_delete = true
  tags                   = local.emr_managed_tag
}

resource "aws_security_group" "emr_service" {
  count = local.emr_cluster ? 1 : 0

  name                   = "${local.prefix}-emr-service"
  description            = "EMR service access from the EMR control plane to a cluster in a private subnet"
  vpc_id                 = aws_vpc.lake.id
  revoke_rules_on_delete = true
  tags                   = local.emr_managed_tag
}

# ---------------------------------------------------------------------------
# Cluster: on-demand primary, spot core and task fleets, idle auto-termination
# ---------------------------------------------------------------------------
resource "aws_emr_cluster" "lake" {
  count = local.emr_cluster ? 1 : 0

  name                              = "${local.prefix}-spark"
  release_label                     = var.emr_release_label
  applications                      = ["Hadoop", "Spark"]
  service_role                      = aws_iam_role.emr_service[0].arn
  security_configuration            = aws_emr_security_configuration.lake[0].name
  log_uri                           = "s3://${aws_s3_bucket.logs.id}/emr/"
  keep_job_flow_alive_when_no_steps = true
  termination_protection            = false
  step_concurrency_level            = 1
  ebs_root_volume_size              = 32

  ec2_attributes {
    subnet_id                         = aws_subnet.private[0].id
    instance_profile                  = aws_iam_instance_profile.emr_job[0].arn
    emr_managed_master_security_group = aws_security_group.emr_primary[0].id
    emr_managed_slave_security_group  = aws_security_group.emr_core[0].id
    service_access_security_group     = aws_security_group.emr_service[0].id
  }

  master_instance_fleet {
    name                      = "primary"
    target_on_demand_capacity = 1

    instance_type_configs {
      instance_type = var.emr_primary_instance_type
    }
  }

  core_instance_fleet {
    name                 = "core-spot"
    target_spot_capacity = var.emr_core_spot_units

    dynamic "instance_type_configs" {
      for_each = var.emr_worker_instance_types
      content {
        instance_type     = instance_type_configs.value
        weighted_capacity = 1
      }
    }

    launch_specifications {
      spot_specification {
        allocation_strategy      = "capacity-optimized"
        timeout_action           = "SWITCH_TO_ON_DEMAND"
        timeout_duration_minutes = 10
      }
    }
  }

  auto_termination_policy {
    idle_timeout = var.emr_idle_timeout_seconds
  }

  # Spark on EMR uses the same Glue Data Catalog as Glue and Athena.
  configurations_json = jsonencode([
    {
      Classification = "spark-hive-site"
      Properties = {
        "hive.metastore.client.factory.class" = "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
      }
    },
  ])

  tags = local.emr_managed_tag

  depends_on = [aws_vpc_endpoint.s3, aws_vpc_endpoint.interface]
}

resource "aws_emr_instance_fleet" "task" {
  count = local.emr_cluster && var.emr_task_spot_units > 0 ? 1 : 0

  cluster_id           = aws_emr_cluster.lake[0].id
  name                 = "task-spot"
  target_spot_capacity = var.emr_task_spot_units

  dynamic "instance_type_configs" {
    for_each = var.emr_worker_instance_types
    content {
      instance_type     = instance_type_configs.value
      weighted_capacity = 1
    }
  }

  launch_specifications {
    spot_specification {
      allocation_strategy      = "capacity-optimized"
      timeout_action           = "TERMINATE_CLUSTER"
      timeout_duration_minutes = 10
    }
  }
}

# ---------------------------------------------------------------------------
# EMR Serverless: billed only while a job runs, stops itself when idle
# ---------------------------------------------------------------------------
resource "aws_security_group" "emr_serverless" {
  count = local.emr_serverless ? 1 : 0

  name        = "${local.prefix}-emr-serverless"
  description = "EMR Serverless workers: HTTPS out to S3 and the VPC endpoints only"
  vpc_id      = aws_vpc.lake.id

  egress {
    description     = "S3 through the gateway endpoint"
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    prefix_list_ids = [aws_vpc_endpoint.s3.prefix_list_id]
  }

  egress {
    description = "AWS service interface endpoints inside the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }
}

resource "aws_emrserverless_application" "lake" {
  count = local.emr_serverless ? 1 : 0

  name          = "${local.prefix}-spark"
  release_label = var.emr_release_label
  type          = "spark"

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = max(1, floor(var.emr_idle_timeout_seconds / 60))
  }

  maximum_capacity {
    cpu    = "64 vCPU"
    memory = "256 GB"
  }

  network_configuration {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.emr_serverless[0].id]
  }
}

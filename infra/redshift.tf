# The warehouse lives in the private subnets, reachable only from var.redshift_allowed_cidrs, and
# reaches S3 through the gateway endpoint (enhanced VPC routing).
resource "aws_security_group" "redshift" {
  count = var.redshift_mode == "none" ? 0 : 1

  name        = "${local.prefix}-redshift"
  description = "Redshift ${var.redshift_mode}: SQL clients in, S3 gateway endpoint out"
  vpc_id      = aws_vpc.lake.id

  dynamic "ingress" {
    for_each = length(var.redshift_allowed_cidrs) > 0 ? [1] : []
    content {
      description = "SQL clients"
      from_port   = 5439
      to_port     = 5439
      protocol    = "tcp"
      cidr_blocks = var.redshift_allowed_cidrs
    }
  }

  egress {
    description     = "COPY/UNLOAD to S3 through the gateway endpoint"
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    prefix_list_ids = [aws_vpc_endpoint.s3.prefix_list_id]
  }
}

# ---------------------------------------------------------------------------
# Serverless (default)
# ---------------------------------------------------------------------------
resource "aws_redshiftserverless_namespace" "lake" {
  count = local.redshift_serverless ? 1 : 0

  namespace_name                   = local.prefix
  db_name                          = var.redshift_database_name
  admin_username                   = var.redshift_admin_username
  manage_admin_password            = true
  admin_password_secret_kms_key_id = aws_kms_key.lake.arn
  kms_key_id                       = aws_kms_key.lake.arn
  iam_roles                        = [aws_iam_role.redshift_copy.arn]
  default_iam_role_arn             = aws_iam_role.redshift_copy.arn
  log_exports                      = ["userlog", "connectionlog", "useractivitylog"]
}

resource "aws_redshiftserverless_workgroup" "lake" {
  count = local.redshift_serverless ? 1 : 0

  workgroup_name       = local.prefix
  namespace_name       = aws_redshiftserverless_namespace.lake[0].namespace_name
  base_capacity        = var.redshift_base_capacity
  max_capacity         = var.redshift_max_capacity
  publicly_accessible  = false
  enhanced_vpc_routing = true
  subnet_ids           = aws_subnet.private[*].id
  security_group_ids   = [aws_security_group.redshift[0].id]

  config_parameter {
    parameter_key   = "require_ssl"
    parameter_value = "true"
  }

  config_parameter {
    parameter_key   = "enable_user_activity_logging"
    parameter_value = "true"
  }

  lifecycle {
    precondition {
      condition     = var.az_count >= 3
      error_message = "Redshift Serverless needs subnets in at least 3 availability zones: set az_count >= 3."
    }
  }
}

# ---------------------------------------------------------------------------
# Provisioned cluster (option)
# ---------------------------------------------------------------------------
resource "aws_redshift_subnet_group" "lake" {
  count = local.redshift_provisioned ? 1 : 0

  name       = "${local.prefix}-redshift"
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_redshift_parameter_group" "lake" {
  count = local.redshift_provisioned ? 1 : 0

  name   = "${local.prefix}-redshift"
  family = "redshift-1.0"

  parameter {
    name  = "require_ssl"
    value = "true"
  }

  parameter {
    name  = "enable_user_activity_logging"
    value = "true"
  }
}

resource "aws_redshift_cluster" "lake" {
  #checkov:skip=CKV_AWS_71:Audit logging is configured by aws_redshift_logging.lake (the inline logging block is deprecated in provider 5.x); checkov only inspects the inline block.
  count = local.redshift_provisioned ? 1 : 0

  cluster_identifier                  = local.prefix
  database_name                       = var.redshift_database_name
  master_username                     = var.redshift_admin_username
  manage_master_password              = true
  master_password_secret_kms_key_id   = aws_kms_key.lake.arn
  node_type                           = var.redshift_node_type
  number_of_nodes                     = var.redshift_node_count
  cluster_type                        = var.redshift_node_count > 1 ? "multi-node" : "single-node"
  encrypted                           = true
  kms_key_id                          = aws_kms_key.lake.arn
  publicly_accessible                 = false
  enhanced_vpc_routing                = true
  cluster_subnet_group_name           = aws_redshift_subnet_group.lake[0].name
  cluster_parameter_group_name        = aws_redshift_parameter_group.lake[0].name
  vpc_security_group_ids              = [aws_security_group.redshift[0].id]
  iam_roles                           = [aws_iam_role.redshift_copy.arn]
  default_iam_role_arn                = aws_iam_role.redshift_copy.arn
  allow_version_upgrade               = true
  automated_snapshot_retention_period = 7
  skip_final_snapshot                 = var.force_destroy
  final_snapshot_identifier           = var.force_destroy ? null : "${local.prefix}-final"
}

resource "aws_redshift_logging" "lake" {
  count = local.redshift_provisioned ? 1 : 0

  cluster_identifier   = aws_redshift_cluster.lake[0].id
  log_destination_type = "cloudwatch"
  log_exports          = ["connectionlog", "userlog", "useractivitylog"]
}

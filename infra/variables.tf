# ---------------------------------------------------------------------------
# Identity
# ---------------------------------------------------------------------------
variable "aws_region" {
  description = "Region for every resource of the lake."
  type        = string
  default     = "us-east-1"
}

variable "account_id" {
  description = "AWS account id the lake is deployed into; the provider refuses any other account."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be the 12-digit AWS account id."
  }
}

variable "environment" {
  description = "Deployment stage, part of every name."
  type        = string
  default     = "dev"

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, staging, prod."
  }
}

variable "project_name" {
  description = "Short lowercase name, prefix of every resource (bucket names must stay under 63 characters)."
  type        = string
  default     = "datalake"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.project_name))
    error_message = "project_name must be 2-16 characters: lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "cost_center" {
  description = "Value of the CostCenter tag on every resource (activate it as a cost allocation tag)."
  type        = string
  default     = "data-platform"
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------
variable "s3_kms_encryption" {
  description = "Encrypt the lake buckets with the project KMS key (SSE-KMS + bucket keys) instead of SSE-S3."
  type        = bool
  default     = false
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets and skip Redshift's final snapshot. Keep false outside dev."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version is kept in the lake buckets."
  type        = number
  default     = 90
}

variable "raw_standard_ia_days" {
  description = "Age in days at which raw landing files move to S3 Standard-IA (the original demo: 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_standard_ia_days >= 30
    error_message = "S3 moves objects to Standard-IA at 30 days of age at the earliest."
  }
}

variable "raw_glacier_days" {
  description = "Age in days at which raw landing files move to S3 Glacier Flexible Retrieval (the original demo: 90)."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_glacier_days >= var.raw_standard_ia_days + 30
    error_message = "raw_glacier_days must be at least 30 days after raw_standard_ia_days (S3's minimum stay in Standard-IA)."
  }
}

variable "raw_deep_archive_days" {
  description = "Age in days at which raw landing files move to S3 Glacier Deep Archive (the original demo: 365)."
  type        = number
  default     = 365

  validation {
    condition     = var.raw_deep_archive_days >= var.raw_glacier_days + 90
    error_message = "raw_deep_archive_days must be at least 90 days after raw_glacier_days (Glacier's minimum storage duration)."
  }
}

variable "athena_results_expiration_days" {
  description = "Days Athena query results are kept."
  type        = number
  default     = 30
}

variable "log_bucket_expiration_days" {
  description = "Days S3 access logs, CloudTrail and EMR logs are kept in the logs bucket."
  type        = number
  default     = 730
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups (Glue, VPC flow logs, CloudTrail)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention value of at least one year."
  }
}

# ---------------------------------------------------------------------------
# Glue
# ---------------------------------------------------------------------------
variable "glue_worker_type" {
  description = "Worker type of the Glue ETL job."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.1X", "G.2X", "G.4X", "G.8X", "G.025X"], var.glue_worker_type)
    error_message = "glue_worker_type must be one of G.025X, G.1X, G.2X, G.4X, G.8X."
  }
}

variable "glue_number_of_workers" {
  description = "Number of workers of the Glue ETL job."
  type        = number
  default     = 2

  validation {
    condition     = var.glue_number_of_workers >= 2
    error_message = "A Glue Spark job needs at least 2 workers."
  }
}

variable "glue_aggregates_number_of_workers" {
  description = "Number of workers of the heavier customer_aggregates Glue job."
  type        = number
  default     = 4
}

variable "glue_job_timeout_minutes" {
  description = "Timeout of the Glue jobs, so a stuck run cannot bill for 48 hours."
  type        = number
  default     = 60
}

variable "workflow_schedule" {
  description = "Cron expression that starts the Glue workflow (crawl -> ETL); null means on demand only."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------
# Athena
# ---------------------------------------------------------------------------
variable "athena_bytes_scanned_cutoff" {
  description = "Per-query limit of bytes scanned in the Athena workgroup (10 GiB = $0.05 at $5/TB)."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.athena_bytes_scanned_cutoff >= 10485760
    error_message = "Athena's smallest per-query cutoff is 10 MB (10485760 bytes)."
  }
}

# ---------------------------------------------------------------------------
# Redshift
# ---------------------------------------------------------------------------
variable "redshift_mode" {
  description = "serverless (default, billed per RPU-second), provisioned (node_type x node_count), or none."
  type        = string
  default     = "serverless"

  validation {
    condition     = contains(["serverless", "provisioned", "none"], var.redshift_mode)
    error_message = "redshift_mode must be serverless, provisioned or none."
  }
}

variable "redshift_database_name" {
  description = "Database created in the warehouse."
  type        = string
  default     = "datalake"
}

variable "redshift_admin_username" {
  description = "Admin user; its password is generated and kept in Secrets Manager."
  type        = string
  default     = "lake_admin"
}

variable "redshift_base_capacity" {
  description = "Serverless base capacity in RPUs."
  type        = number
  default     = 8
}

variable "redshift_max_capacity" {
  description = "Serverless maximum capacity in RPUs, a ceiling on cost."
  type        = number
  default     = 64
}

variable "redshift_node_type" {
  description = "Provisioned node type. The original demo quotes $250 per node-month; ra3.xlplus lists at about $793 (us-east-1, on-demand), dc2.large at about $183: cost-report prices the type set here."
  type        = string
  default     = "ra3.xlplus"
}

variable "redshift_node_count" {
  description = "Provisioned node count."
  type        = number
  default     = 2
}

variable "redshift_allowed_cidrs" {
  description = "CIDRs allowed to reach the warehouse on 5439, in addition to nothing: the VPC itself is not trusted by default."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------------------
# EMR
# ---------------------------------------------------------------------------
variable "emr_mode" {
  description = "none (default), cluster (EC2 cluster with spot capacity) or serverless (EMR Serverless application)."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "cluster", "serverless"], var.emr_mode)
    error_message = "emr_mode must be none, cluster or serverless."
  }
}

variable "emr_release_label" {
  description = "EMR release (7.x ships Spark 3.5 and Python 3.11, like Glue 5.0)."
  type        = string
  default     = "emr-7.5.0"
}

variable "emr_primary_instance_type" {
  description = "On-demand primary node instance type."
  type        = string
  default     = "m5.xlarge"
}

variable "emr_worker_instance_types" {
  description = "Instance types the spot core and task fleets may use (diversity keeps spot capacity available)."
  type        = list(string)
  default     = ["m5.xlarge", "m5a.xlarge", "m6i.xlarge"]
}

variable "emr_core_spot_units" {
  description = "Spot capacity units of the core fleet."
  type        = number
  default     = 2
}

variable "emr_task_spot_units" {
  description = "Spot capacity units of the task fleet (0 for none)."
  type        = number
  default     = 2
}

variable "emr_idle_timeout_seconds" {
  description = "The cluster terminates itself after this long without work."
  type        = number
  default     = 1800
}

# ---------------------------------------------------------------------------
# Network and alerts
# ---------------------------------------------------------------------------
variable "vpc_cidr" {
  description = "CIDR of the lake VPC."
  type        = string
  default     = "10.42.0.0/16"
}

variable "az_count" {
  description = "Private subnets, one per availability zone (Redshift Serverless needs 3)."
  type        = number
  default     = 3

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6
    error_message = "az_count must be between 2 and 6."
  }
}

variable "availability_zones" {
  description = "Zone names for the private subnets (e.g. [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]); null = zones a-f of the region that are available."
  type        = list(string)
  default     = null
}

variable "enable_nat_gateway" {
  description = "Add a public subnet and a NAT gateway (about $33/month + data). Off: AWS is reached through VPC endpoints."
  type        = bool
  default     = false
}

variable "alarm_email" {
  description = "Email subscribed to the alerts topic (Glue job or crawler failure); null for none."
  type        = string
  default     = null
}

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 6.0.0"
    }
  }
}

provider "aws" {
  region = var.aws_region

  # Refuse to touch any account but the one named in the tfvars: a wrong profile fails at plan time.
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = merge(var.tags, {
      Project     = var.project_name
      Environment = var.environment
      CostCenter  = var.cost_center
      ManagedBy   = "terraform"
    })
  }
}

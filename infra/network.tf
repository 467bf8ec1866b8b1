resource "aws_vpc" "lake" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = "${local.prefix}-vpc" }
}

# The default security group of the VPC allows nothing: every workload gets its own group.
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.lake.id
}

resource "aws_subnet" "private" {
  count = var.az_count

  vpc_id                  = aws_vpc.lake.id
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, count.index)
  availability_zone       = local.azs[count.index]
  map_public_ip_on_launch = false

  tags = merge(local.emr_managed_tag, { Name = "${local.prefix}-private-${local.azs[count.index]}", Tier = "private" })
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.lake.id

  tags = { Name = "${local.prefix}-private" }
}

resource "aws_route_table_association" "private" {
  count = var.az_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# S3 traffic (Redshift COPY, EMR, Glue catalog clients) stays on the AWS network and costs nothing.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.lake.id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]

  tags = { Name = "${local.prefix}-s3" }
}

data "aws_prefix_list" "s3" {
  prefix_list_id = aws_vpc_endpoint.s3.prefix_list_id
}

# Interface endpoints that EMR needs without a NAT gateway (about $7/month each per AZ, so only with EMR).
resource "aws_security_group" "endpoints" {
  count = local.emr_enabled ? 1 : 0

  name        = "${local.prefix}-endpoints"
  description = "HTTPS from inside the lake VPC to the AWS service endpoints"
  vpc_id      = aws_vpc.lake.id

  ingress {
    description = "HTTPS from the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.emr_enabled ? toset(["elasticmapreduce", "glue", "kms", "logs", "sts"]) : toset([])

  vpc_id              = aws_vpc.lake.id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true

  tags = { Name = "${local.prefix}-${each.key}" }
}

# Optional egress to the internet, only when asked for.
resource "aws_internet_gateway" "lake" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id = aws_vpc.lake.id
}

resource "aws_subnet" "public" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id                  = aws_vpc.lake.id
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, 15)
  availability_zone       = local.azs[0]
  map_public_ip_on_launch = false

  tags = { Name = "${local.prefix}-public", Tier = "public" }
}

resource "aws_route_table" "public" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id = aws_vpc.lake.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.lake[0].id
  }
}

resource "aws_route_table_association" "public" {
  count = var.enable_nat_gateway ? 1 : 0

  subnet_id      = aws_subnet.public[0].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  count = var.enable_nat_gateway ? 1 : 0

  domain = "vpc"
}

resource "aws_nat_gateway" "lake" {
  count = var.enable_nat_gateway ? 1 : 0

  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id
}

resource "aws_route" "private_nat" {
  count = var.enable_nat_gateway ? 1 : 0

  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.lake[0].id
}

# VPC flow logs, encrypted and kept a year.
resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/aws/vpc/${local.prefix}/flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.lake.arn
}

resource "aws_flow_log" "lake" {
  vpc_id               = aws_vpc.lake.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn         = aws_iam_role.flow_logs.arn
}

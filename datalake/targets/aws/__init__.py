"""The aws target and its backend: Terraform, S3, Glue, EMR, Athena and Redshift through boto3."""

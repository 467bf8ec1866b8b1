"""cost-report: the price table, the shape of infra/, the arithmetic and the report."""

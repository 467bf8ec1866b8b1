"""run-etl on the local target: the orchestration and its two transform engines (DuckDB, local Spark)."""

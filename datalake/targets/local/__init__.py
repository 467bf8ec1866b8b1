"""The local target and its backend: folders for buckets, a JSON catalog, DuckDB and local Spark."""

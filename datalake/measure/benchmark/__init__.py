"""`datalake benchmark`: the same queries on raw files, the Parquet lake and the warehouse (see `run`)."""

"""What the tool measures: the results files, the benchmark and the cost model."""

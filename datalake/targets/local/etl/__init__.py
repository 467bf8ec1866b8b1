"""run-etl on the local target: the orchestration (`run`) and its transform engines.

`engine` says what an engine is given and returns; `duckdb_engine` and `spark_engine` implement it
and import only `engine`, never each other or this package's factory, so nothing here is circular.
"""

from __future__ import annotations

from datalake.targets.local.etl.engine import TransformEngine


def create_engine(name: str) -> TransformEngine:
    """The transform engine by name; heavy engines are imported only when chosen."""
    from datalake.errors import UsageError

    if name == "duckdb":
        from datalake.targets.local.etl.duckdb_engine import DuckDBTransformEngine

        return DuckDBTransformEngine()
    if name == "spark":
        from datalake.targets.local.etl.spark_engine import (
            SparkTransformEngine,  # pyspark itself is imported when the engine runs
        )

        return SparkTransformEngine()
    raise UsageError(f"unknown --engine {name!r}", hint="choose duckdb or spark")

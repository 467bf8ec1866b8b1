"""Redshift for the aws target: reload the warehouse from the processed Parquet in one Data API transaction.

`COPY ... FORMAT AS PARQUET` reads manifests that list the exact files of each Iceberg table's current
snapshot, so a load never picks up a file no snapshot holds (a dimension's older versions, a run not
committed yet).
"""

from __future__ import annotations

import json
from typing import Any

from datalake.domain.schema import (
    DIMENSIONS,
    SALES_FACT_COLUMNS,
    SALES_PARTITION_KEYS,
    WAREHOUSE_FACT_TABLE,
    WAREHOUSE_SORT_KEY,
)
from datalake.errors import AwsError
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.aws.clients import aws_errors
from datalake.targets.aws.lake import AwsLake


def _redshift_type(sql_type: str) -> str:
    return "VARCHAR(1024)" if sql_type.upper() == "VARCHAR" else sql_type


def _ddl(table: str, columns: list[tuple[str, str]], extra: str = "") -> str:
    cols = ", ".join(f"{name} {_redshift_type(kind)}" for name, kind in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} ({cols}){extra}"


def _write_manifest(lake: AwsLake, bucket: str, key: str, objects: list[tuple[str, int]]) -> str:
    entries = [
        {"url": f"s3://{bucket}/{k}", "mandatory": True, "meta": {"content_length": size}} for k, size in objects
    ]
    lake.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps({"entries": entries}).encode())
    return f"s3://{bucket}/{key}"


def warehouse_load_sql(lake: AwsLake, manifests: dict[str, str]) -> list[str]:
    """The statements of one reload transaction: the fact table and the dimensions, from manifests."""
    role = lake.require("redshift_copy_role_arn")
    copy = "IAM_ROLE '{role}' FORMAT AS PARQUET MANIFEST"
    fact_cols = [(c.name, c.type) for c in SALES_FACT_COLUMNS]
    # Parquet files do not store the partition columns: stage the rest, derive them from sale_date.
    stored = [(n, t) for n, t in fact_cols if n not in SALES_PARTITION_KEYS]
    staging = "sales_fact_staging"
    select = ", ".join(
        f"EXTRACT({n} FROM sale_date)::INTEGER" if n in SALES_PARTITION_KEYS else n for n, _ in fact_cols
    )
    sort = f" SORTKEY ({', '.join(WAREHOUSE_SORT_KEY)})"
    sqls = [
        _ddl(WAREHOUSE_FACT_TABLE, fact_cols, sort),
        f"CREATE TEMP TABLE {staging} ({', '.join(f'{n} {_redshift_type(t)}' for n, t in stored)})",
        f"COPY {staging} FROM '{manifests[WAREHOUSE_FACT_TABLE]}' " + copy.format(role=role),
        f"DELETE FROM {WAREHOUSE_FACT_TABLE}",
        f"INSERT INTO {WAREHOUSE_FACT_TABLE} SELECT {select} FROM {staging} ORDER BY {', '.join(WAREHOUSE_SORT_KEY)}",
        f"DROP TABLE {staging}",
    ]
    for dim, columns in DIMENSIONS.items():
        if dim not in manifests:
            continue
        sqls += [
            _ddl(dim, [(c.name, c.type) for c in columns]),
            f"DELETE FROM {dim}",
            f"COPY {dim} FROM '{manifests[dim]}' " + copy.format(role=role),
        ]
    sqls.append(f"CREATE OR REPLACE VIEW sales_fact AS SELECT * FROM {WAREHOUSE_FACT_TABLE}")
    return sqls


def load_warehouse(lake: AwsLake, load_id: str, progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
    """Reload Redshift from the Iceberg tables' current files (one transaction); rows in the fact table after."""
    from datalake.targets.aws import iceberg
    from datalake.targets.aws.engines import RedshiftData

    data = RedshiftData(lake)
    processed = lake.require("processed_bucket")
    manifests: dict[str, str] = {}
    files = 0
    current = iceberg.current_files(lake, [iceberg.FACT, *DIMENSIONS])
    with aws_errors(f"preparing the warehouse load from s3://{processed}"):
        for table, source in [(WAREHOUSE_FACT_TABLE, iceberg.FACT)] + [(d, d) for d in DIMENSIONS]:
            objects = current[source]
            if not objects:
                if table == WAREHOUSE_FACT_TABLE:
                    raise AwsError(
                        f"no Parquet files under s3://{processed}/sales_fact/ after the ETL job",
                        hint="check the job's output and logs",
                    )
                continue
            files += len(objects)
            key = f"_staging/copy-manifests/{load_id}/{table}.manifest"
            manifests[table] = _write_manifest(lake, processed, key, objects)
    with progress.task("Loading Redshift (COPY ... FORMAT AS PARQUET)"):
        data.run(warehouse_load_sql(lake, manifests), "loading the Redshift warehouse")
        counted = data.run([f"SELECT count(*) FROM {WAREHOUSE_FACT_TABLE}"], "counting the warehouse rows")
        with aws_errors("counting the warehouse rows"):
            _, rows = data.fetch(counted["Id"])
    return {"files": files, "rows": int(rows[0][0]) if rows else 0, "tables": sorted(manifests)}

"""The aws target's Iceberg tables: pyiceberg's Glue catalog over the processed bucket.

The Glue database Terraform makes (`glue_database`) is the namespace; each table is a Glue table with
`table_type=ICEBERG` whose data and metadata lie in the processed bucket, where the Spark job writes
(`sales_fact/`, `quarantine/sales/`, `<dim>/`; metadata under `<table>/_iceberg/`). What a table is and
how a run commits are shared with the local target (`datalake.domain.iceberg_tables`); this module says
where the catalog and the files are on AWS.

Who writes what: the Spark job (Glue, EMR) writes Parquet files and records, in its run's bookmark
record, the files it wrote per table (`outputs`); the orchestrator (`run-etl`, as the operator) commits
them, one snapshot per table, sales_fact first. A run is committed exactly when `sales_fact` has a
snapshot carrying its run id, so a run the Glue workflow started is committed by the next `run-etl`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from datalake.domain import iceberg_tables as tables
from datalake.domain.iceberg_tables import CATALOG_NAME, FACT, TableDef, table_defs
from datalake.errors import DatalakeError, UsageError
from datalake.model import Snapshot, TableHistory
from datalake.targets.aws.clients import aws_errors, endpoint_url, session
from datalake.targets.aws.lake import AwsLake

# The key of a run record (the job's bookmark) listing the files it wrote: table -> {s3 uri: size}
OUTPUTS = "outputs"


def table_prefix(tdef: TableDef) -> str:
    """A table's folder in the processed bucket: the local lake's folder, without its `processed/` zone."""
    return tdef.folder.removeprefix("processed/")


def table_location(lake: AwsLake, tdef: TableDef) -> str:
    return f"s3://{lake.require('processed_bucket')}/{table_prefix(tdef)}"


def catalog_properties(lake: AwsLake) -> dict[str, str]:
    """Exactly what `load_catalog(CATALOG_NAME, **properties)` takes to open the lake's Glue catalog.

    No credentials: pyiceberg's Glue client and pyarrow's S3 take the caller's own (the default chain).
    The endpoints appear only when an endpoint override (an emulator) is set.
    """
    props = {
        "type": "glue",
        "glue.region": lake.region,
        "s3.region": lake.region,
        "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
    }
    if endpoint := endpoint_url(lake.settings):
        props |= {"glue.endpoint": endpoint, "s3.endpoint": endpoint}
    return props


def catalog_info(lake: AwsLake) -> dict[str, Any]:
    """What `deploy --json` prints as `iceberg_catalog`: enough for any pyiceberg user to open our tables."""
    return {"name": CATALOG_NAME, "properties": catalog_properties(lake), "namespace": lake.require("glue_database")}


def open_catalog(lake: AwsLake) -> Any:
    """The Glue catalog through the lake's own Glue client (retries, endpoint), files through pyarrow's S3.

    pyarrow's S3 does not read boto3's profiles: the session's resolved credentials are handed to the
    FileIO (in memory only; `catalog_properties`, which is printed, carries none).
    """
    from pyiceberg.catalog.glue import GlueCatalog

    props = {k: v for k, v in catalog_properties(lake).items() if k != "type"}
    credentials = session(lake.settings).get_credentials()
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        props |= {"s3.access-key-id": frozen.access_key, "s3.secret-access-key": frozen.secret_key}
        if frozen.token:
            props["s3.session-token"] = frozen.token
    return GlueCatalog(CATALOG_NAME, client=lake.client("glue"), **props)


def _identifier(lake: AwsLake, name: str) -> tuple[str, str]:
    return (lake.require("glue_database"), name)


def ensure_tables(lake: AwsLake, catalog: Any = None) -> dict[str, str]:
    """Every table run-etl writes, created (empty, no snapshot) where missing: name -> created / exists."""
    from pyiceberg.exceptions import NoSuchTableError

    catalog = catalog if catalog is not None else open_catalog(lake)
    database = lake.require("glue_database")
    done: dict[str, str] = {}
    with aws_errors(f"creating the Iceberg tables in the Glue database {database}"):
        for name, tdef in table_defs().items():
            try:
                catalog.load_table(_identifier(lake, name))
                done[name] = "exists"
            except NoSuchTableError:
                tables.create_table(catalog, tdef, table_location(lake, tdef), namespace=database)
                done[name] = "created"
    return done


def load_table(lake: AwsLake, name: str, catalog: Any = None) -> Any:
    """A processed table, or one line saying which tables there are."""
    from pyiceberg.exceptions import NoSuchTableError

    catalog = catalog if catalog is not None else open_catalog(lake)
    database = lake.require("glue_database")
    with aws_errors(f"loading the Iceberg table {database}.{name}"):
        try:
            return catalog.load_table(_identifier(lake, name))
        except NoSuchTableError:
            pass
    names = ", ".join(table_defs())
    if name in table_defs():
        raise DatalakeError(
            f"the Glue database {database} has no Iceberg table {name!r}", hint="run `datalake deploy --target aws`"
        )
    raise DatalakeError(f"no table {name!r} in the lake's Iceberg catalog", hint=f"choose one of: {names}")


# ---------------------------------------------------------------------------------------- commits


def _data_file(table: Any, uri: str, size: int) -> tuple[Any, int]:
    """An Iceberg DataFile for a Parquet file the job wrote (footer read through the table's FileIO), and its rows."""
    import pyarrow.parquet as pq

    location = table.location().rstrip("/") + "/"
    if not uri.startswith(location):
        raise DatalakeError(f"the job recorded {uri} for the table at {location}: it lies outside the table")
    folders = uri.removeprefix(location).split("/")[:-1]
    with table.io.new_input(uri).open() as stream:
        metadata = pq.read_metadata(stream)
    return tables.data_file(table, uri, size, metadata, folders), metadata.num_rows


def _recorded_runs(bookmark: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The job's run records that list their output files, in the order they finished."""
    runs = [(run_id, rec) for run_id, rec in bookmark.get("runs", {}).items() if isinstance(rec.get(OUTPUTS), dict)]
    return sorted(runs, key=lambda item: (str(item[1].get("finished") or ""), item[0]))


def commit_runs(lake: AwsLake, bookmark: dict[str, Any], catalog: Any = None) -> dict[str, list[str]]:
    """Commit every run the job recorded that the tables do not hold yet; run id -> the tables committed.

    Repeatable: each table is committed a run's files once (`commit_retrying` asks the table first).
    Runs go in the order they finished, each table in `commit_order` (sales_fact, the run's commit point,
    first), so a dimension ends at the newest run's version. A run that wrote no rows to a table adds no
    snapshot to it; a dimension's snapshot replaces the table's previous file.
    """
    catalog = catalog if catalog is not None else open_catalog(lake)
    defs = table_defs()
    committed: dict[str, list[str]] = {}
    loaded = {name: load_table(lake, name, catalog) for name in defs}
    held = {name: tables.committed_runs(table) for name, table in loaded.items()}
    for run_id, record in _recorded_runs(bookmark):
        outputs: dict[str, dict[str, int]] = record[OUTPUTS]
        summary = tables.run_summary(run_id, {k: int(record[k]) for k in _counts(record)})
        for name in tables.commit_order(n for n in outputs if n in defs):
            if run_id in held[name] or not outputs[name]:
                continue
            files = outputs[name]
            dimension = defs[name].is_dimension

            def load(name: str = name) -> Any:
                return catalog.load_table(_identifier(lake, name))

            def changes(table: Any, files: dict[str, int] = files, dimension: bool = dimension) -> Any:
                built = [_data_file(table, uri, size) for uri, size in sorted(files.items())]
                add = [data for data, rows in built if rows or dimension]
                return add, (tables.current_data_files(table) if dimension else [])

            with aws_errors(f"committing run {run_id} to the Iceberg table {name}"):
                if tables.commit_retrying(load, run_id, changes, summary, replace=dimension):
                    committed.setdefault(run_id, []).append(name)
    return committed


def _counts(record: dict[str, Any]) -> list[str]:
    """The row counts a run record carries that a snapshot summary keeps."""
    return [k for k in ("rows_in", "rows_processed", "rows_quarantined") if isinstance(record.get(k), int)]


def current_files(lake: AwsLake, names: Iterable[str], catalog: Any = None) -> dict[str, list[tuple[str, int]]]:
    """Each table's data files in its current snapshot, as (key in the processed bucket, size)."""
    catalog = catalog if catalog is not None else open_catalog(lake)
    prefix = f"s3://{lake.require('processed_bucket')}/"
    found: dict[str, list[tuple[str, int]]] = {}
    for name in names:
        table = load_table(lake, name, catalog)
        with aws_errors(f"planning the Iceberg table {name}"):
            files = tables.current_data_files(table)
        found[name] = sorted((f.file_path.removeprefix(prefix), int(f.file_size_in_bytes)) for f in files)
    return found


# ---------------------------------------------------------------------------------------- reads


def history(lake: AwsLake, name: str) -> TableHistory:
    """Every snapshot of the table, oldest first (through the Glue catalog)."""
    return tables.table_history(name, load_table(lake, name))


def table_stats(lake: AwsLake, catalog: Any = None) -> list[dict[str, Any]]:
    """status's tables: files, bytes and rows of each table's current snapshot, from its summary."""
    catalog = catalog if catalog is not None else open_catalog(lake)
    database = lake.require("glue_database")
    found = []
    for name, tdef in table_defs().items():
        table = load_table(lake, name, catalog)
        snap = table.current_snapshot()
        props = dict(snap.summary.additional_properties) if snap is not None and snap.summary else {}

        def total(key: str, props: dict[str, str] = props) -> int:
            return int(props.get(key, 0) or 0)

        found.append(
            {
                "database": database,
                "table": name,
                "format": "iceberg",
                "rows": total("total-records"),
                "partitions": len(tdef.partition_by),
                "files": total("total-data-files"),
                "bytes": total("total-files-size"),
                "location": table.location(),
                "snapshots": len(table.metadata.snapshots),
                "current_snapshot": snap.snapshot_id if snap is not None else None,
                "run_id": props.get(tables.RUN_ID),
            }
        )
    return found


def as_of_versions(lake: AwsLake, as_of: str) -> tuple[Snapshot, dict[str, int], str | None]:
    """What `query --as-of` pins each table to: the sales_fact snapshot chosen, table -> snapshot id, and
    the instant when `as_of` named one (Athena's `FOR TIMESTAMP AS OF` for sales_fact then).

    As locally, the other tables are taken at the same run as the sales_fact snapshot (or the last snapshot
    before it); a table with nothing by then is left out (UsageError if a query names it).
    """
    from datetime import UTC, datetime

    catalog = open_catalog(lake)
    facts = load_table(lake, FACT, catalog)
    with aws_errors("reading sales_fact's snapshots"):
        chosen = tables.resolve_as_of(facts, as_of)
    at = next(s for s in tables.table_history(FACT, facts).snapshots if s.snapshot_id == chosen.snapshot_id)
    run_id = chosen.summary.additional_properties.get(tables.RUN_ID) if chosen.summary else None
    versions = {FACT: chosen.snapshot_id}
    for name in table_defs():
        if name != FACT:
            pick = tables.snapshot_of_run(load_table(lake, name, catalog), run_id, chosen.timestamp_ms)
            if pick is not None:
                versions[name] = pick.snapshot_id
    instant = None
    text = as_of.strip()
    if not text.lstrip("-").isdigit():
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        instant = moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
    return at, versions, instant


def pin_tables(sql: str, versions: dict[str, int], instant: str | None, known: Iterable[str]) -> str:
    """Trino SQL with each lake table read at its snapshot: `FOR VERSION AS OF id`, and sales_fact
    `FOR TIMESTAMP AS OF` the instant (with its zone, to the millisecond) when one was asked for (Athena's
    Iceberg time travel).
    """
    import sqlglot
    from sqlglot import exp

    known = set(known)
    tree = sqlglot.parse_one(sql, read="trino")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        name = table.name
        if table.db or name in ctes or name not in known:
            continue
        if name not in versions:
            raise UsageError(
                f"--as-of: the table {name} had no snapshot yet then", hint="see `datalake history` for its snapshots"
            )
        if name == FACT and instant is not None:
            # milliseconds kept (a snapshot's time has them), the zone explicit: Athena compares instants
            moment = exp.Cast(
                this=exp.Literal.string(instant), to=exp.DataType.build("TIMESTAMP(3) WITH TIME ZONE", dialect="trino")
            )
            version = exp.Version(this="TIMESTAMP", kind="AS OF", expression=moment)
        else:
            version = exp.Version(this="VERSION", kind="AS OF", expression=exp.Literal.number(versions[name]))
        table.set("version", version)
    return tree.sql(dialect="trino")

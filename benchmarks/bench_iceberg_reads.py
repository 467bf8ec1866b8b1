"""The lake engine's two ways to find the files to read: the listing it had vs pyiceberg's scan planning.

Both hand DuckDB the same Parquet files through the same view (`fact_reader_sql`), so what can differ
is (1) planning: the time to decide which files a query reads, and (2) what DuckDB then does with the
list. Measured on the six benchmark queries, side by side, rounds alternating:
  glob     before Iceberg: `published_files` lists the processed folders and leaves out files of runs still
           being published (reading the run journals before and after), then the views are made
  iceberg  the lake engine now (`engines._lake_engine`): pyiceberg opens the SQL catalog once, loads each
           table's current snapshot and plans its files (`iceberg.current_files`), then the same views
           over exactly those files
Per query: median seconds over --repeat runs on an open engine, bytes scanned from DuckDB's profile,
and the median time to open the engine (planning + views). Also, when the lake has one run: the time
an Iceberg commit of that run takes (on a scratch copy of the catalog) against the run's own seconds.

DuckDB's iceberg extension is the third way the issue names; it cannot be measured here: the newest
`duckdb-extension-iceberg` wheel is built for DuckDB 1.5.5 and DuckDB 2.0.1 refuses to load it.

Usage (a seeded and processed lake):
    PYTHONPATH=. python benchmarks/bench_iceberg_reads.py --lake /tmp/lake2m --repeat 5 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datalake.config import Settings
from datalake.domain.duckdb_sql import sql_list, sql_string
from datalake.domain.schema import DIMENSIONS, FACT_TABLE, WAREHOUSE_FACT_TABLE
from datalake.domain.sql import anchor_dates
from datalake.layout import LakeLayout
from datalake.measure.benchmark.queries import load_queries
from datalake.measure.benchmark.run import lake_end_date
from datalake.targets.local import iceberg
from datalake.targets.local.engines import DuckDBEngine, _lake_engine, published_files
from datalake.targets.local.etl.run import commit_iceberg, journals
from datalake.targets.local.target import LocalTarget
from datalake.targets.local.warehouse import fact_reader_sql

RESULTS = Path(__file__).resolve().parent / "results" / "iceberg_reads.json"


def glob_engine(layout: LakeLayout) -> DuckDBEngine:
    """The lake engine as it was before Iceberg: views over the listed, published files."""
    published = published_files(layout)
    dims = {dim: [layout.processed / dim / f"{dim}.parquet"] for dim in DIMENSIONS}
    return _views(layout, published.facts, published.quarantined, dims, "listed Parquet files")


def iceberg_engine(layout: LakeLayout) -> DuckDBEngine:
    """The lake engine as it is now (`engines._lake_engine`): the files of each table's current snapshot."""
    return _lake_engine(layout)


def _views(
    layout: LakeLayout, facts: list[Path], quarantined: list[Path], dims: dict[str, list[Path]], what: str
) -> DuckDBEngine:
    def setup(con: Any) -> None:
        con.execute(f"CREATE VIEW {FACT_TABLE} AS {fact_reader_sql(facts)}")
        con.execute(f"CREATE VIEW {WAREHOUSE_FACT_TABLE} AS SELECT * FROM {FACT_TABLE}")
        for dim, files in dims.items():
            (path,) = files
            con.execute(f"CREATE VIEW {dim} AS SELECT * FROM read_parquet({sql_string(path)})")
        if quarantined:
            con.execute(
                "CREATE VIEW sales_quarantine AS SELECT * FROM "
                f"read_parquet({sql_list(quarantined)}, hive_partitioning = true)"
            )

    return DuckDBEngine("lake", what, setup, [layout.root])


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    value = fn()
    return time.perf_counter() - began, value


def plan_only(layout: LakeLayout) -> dict[str, float]:
    """Planning alone, without DuckDB: listing vs pyiceberg (catalog open, table load, plan_files)."""
    glob_s, listed = timed(lambda: published_files(layout))
    ice_s, planned = timed(lambda: iceberg.current_files(layout))
    assert sorted(listed.facts) == planned[iceberg.FACT], "the two plans must name the same fact files"
    return {"glob_s": glob_s, "iceberg_s": ice_s, "fact_files": len(planned[iceberg.FACT])}


def commit_cost(layout: LakeLayout) -> dict[str, Any] | None:
    """The Iceberg commit of the lake's one run, redone on a scratch copy of the lake's state and metadata."""
    records = journals(layout)
    if len(records) != 1 or "summary" not in records[0]:
        return None
    record = records[0]
    scratch = Path(tempfile.mkdtemp(prefix="iceberg-commit-"))
    try:
        # a copy of the lake that shares the data files (hard links) and has no Iceberg catalog yet
        copy = LakeLayout(scratch / "lake")
        for rel in record["moves"]:
            dst = copy.root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.hardlink_to(layout.root / rel)
        iceberg.ensure_tables(copy)  # deploy creates them: not part of a run's commit
        seconds, _ = timed(lambda: commit_iceberg(copy, record))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    run_seconds = record["summary"]["seconds"]  # with its own commit, when the run was made by this version
    return {
        "run_id": record["run_id"],
        "rows_in": record["summary"]["rows_in"],
        "run_stages": record["summary"].get("stages"),
        "run_seconds": run_seconds,
        "iceberg_commit_s": seconds,
        "share_of_run": seconds / run_seconds if run_seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    target = LocalTarget(Settings(lake=args.lake))
    layout = target.layout
    as_of = lake_end_date(target).isoformat()
    openers = {"glob": lambda: glob_engine(layout), "iceberg": lambda: iceberg_engine(layout)}
    times: dict[tuple[str, str], list[float]] = {}
    opens: dict[str, list[float]] = {name: [] for name in openers}
    scanned: dict[tuple[str, str], dict[str, Any]] = {}
    answers: dict[tuple[str, str], Any] = {}
    plans = [plan_only(layout) for _ in range(args.rounds * 3)]
    for _ in range(args.rounds):
        for query in load_queries():
            for way, opener in openers.items():
                seconds, engine = timed(opener)
                opens[way].append(seconds)
                with engine:
                    sql = engine.translate(anchor_dates(query.sql, as_of))
                    engine.con.execute(sql).fetchall()  # warm-up
                    for _ in range(args.repeat):
                        began = time.perf_counter()
                        rows = engine.con.execute(sql).fetchall()
                        times.setdefault((query.name, way), []).append(time.perf_counter() - began)
                    answers[(query.name, way)] = sorted(map(repr, rows))
                    if (query.name, way) not in scanned:
                        stats = engine.measure(anchor_dates(query.sql, as_of)).stats
                        scanned[(query.name, way)] = {
                            k: stats.get(k) for k in ("bytes_scanned", "files_read", "row_groups_scanned")
                        }
    per_query = []
    for query in load_queries():
        row: dict[str, Any] = {"query": query.name}
        for way in openers:
            row[f"{way}_s"] = statistics.median(times[(query.name, way)])
            row[f"{way}_bytes_scanned"] = scanned[(query.name, way)]["bytes_scanned"]
            row[f"{way}_files_read"] = scanned[(query.name, way)]["files_read"]
        row["same_answer"] = answers[(query.name, "glob")] == answers[(query.name, "iceberg")]
        per_query.append(row)
    result = {
        "benchmark": "iceberg_reads",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "lake": str(args.lake),
        "fact_rows": sum(s.total_rows for s in iceberg.history(layout, iceberg.FACT).snapshots if s.current),
        "repeat": args.repeat,
        "rounds": args.rounds,
        "plan_only_median": {
            "glob_s": statistics.median(p["glob_s"] for p in plans),
            "iceberg_s": statistics.median(p["iceberg_s"] for p in plans),
            "fact_files": plans[0]["fact_files"],
        },
        "engine_open_median": {way: statistics.median(v) for way, v in opens.items()},
        "per_query": per_query,
        "sum_of_query_medians": {way: sum(r[f"{way}_s"] for r in per_query) for way in openers},
        "iceberg_commit": commit_cost(layout),
        "duckdb_iceberg_extension": "not measured: duckdb-extension-iceberg 1.5.5 (newest) does not load in DuckDB 2.0.1",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

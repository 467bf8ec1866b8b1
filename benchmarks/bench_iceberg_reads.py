"""The lake engine's two ways to find the files to read: the listing it had vs pyiceberg's scan planning.

Both hand DuckDB the same Parquet files through the same view (`fact_reader_sql`), so what can differ
is (1) planning: the time to decide which files a query reads, and (2) what DuckDB then does with the
list. Measured on the six benchmark queries, side by side, rounds alternating:
  glob     before Iceberg: the processed folders listed (the benchmark's lake has no run being
           published), then the views are made
  iceberg  the lake engine now (`engines._lake_engine`): each table's current snapshot's files
           (`iceberg.current_files`: the catalog, metadata and manifests read with the standard library,
           `iceberg_read`), then the same views over exactly those files
Per query: median seconds over --repeat runs on an open engine, bytes scanned from DuckDB's profile,
and the median time to open the engine (planning + views). Planning alone is also timed through pyiceberg's
scan planning (`iceberg._current_files_planned`, pyiceberg already imported), the way the engine planned
before. Also, when the lake has one run: the time an Iceberg commit of that run takes (on a scratch copy of
the catalog) against the run's own seconds.

DuckDB's iceberg extension is the third way the issue names; it cannot be measured here: the newest
`duckdb-extension-iceberg` wheel is built for DuckDB 1.5.5 and DuckDB 2.0.1 refuses to load it.

Usage (without --lake it seeds and processes a lake of --rows sales in a temporary folder first):
    PYTHONPATH=. python benchmarks/bench_iceberg_reads.py --rows 2000000 --repeat 5 --rounds 3
Results: benchmarks/results/iceberg_reads.json.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import results
from datalake.config import Settings
from datalake.domain.duckdb_sql import sql_list, sql_string
from datalake.domain.schema import DIMENSIONS, FACT_TABLE, WAREHOUSE_FACT_TABLE
from datalake.domain.sql import anchor_dates
from datalake.layout import LakeLayout
from datalake.measure.benchmark.queries import load_queries
from datalake.measure.benchmark.run import lake_end_date
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local import iceberg
from datalake.targets.local.crawler import list_data_files
from datalake.targets.local.engines import DuckDBEngine, Published, _lake_engine
from datalake.targets.local.etl.run import commit_iceberg, journals
from datalake.targets.local.target import LocalTarget
from datalake.targets.local.warehouse import fact_reader_sql

RESULT_NAMES = ("iceberg_reads",)


def listed_files(layout: LakeLayout) -> Published:
    """The processed folders listed, as readers found their files before Iceberg (the lake is quiescent here)."""
    return Published(
        [f.path for f in list_data_files(layout.processed, "processed", "sales_fact")],
        [f.path for f in list_data_files(layout.quarantine, "quarantine", "sales")],
        {},
    )


def glob_engine(layout: LakeLayout) -> DuckDBEngine:
    """The lake engine as it was before Iceberg: views over the listed files."""
    published = listed_files(layout)
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

    return DuckDBEngine("lake", what, setup, [layout.root], layout.scratch)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    value = fn()
    return time.perf_counter() - began, value


def plan_only(layout: LakeLayout) -> dict[str, float]:
    """Planning alone, without DuckDB: listing vs the snapshots read directly vs pyiceberg's scan planning."""
    glob_s, listed = timed(lambda: listed_files(layout))
    ice_s, planned = timed(lambda: iceberg.current_files(layout))
    py_s, through_pyiceberg = timed(lambda: iceberg._current_files_planned(layout))
    assert sorted(listed.facts) == planned[iceberg.FACT], "the two plans must name the same fact files"
    assert planned == through_pyiceberg, "the direct read and pyiceberg must name the same files"
    return {"glob_s": glob_s, "iceberg_s": ice_s, "pyiceberg_s": py_s, "fact_files": len(planned[iceberg.FACT])}


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
    parser.add_argument("--lake", type=Path, default=None, help="a seeded and processed lake (default: build one)")
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows of the lake built without --lake")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scratch = None
    args.built = args.lake is None
    if args.lake is None:
        scratch = Path(tempfile.mkdtemp(prefix="iceberg-reads-bench-"))
        args.lake = scratch / "lake"
        built = LocalTarget(Settings(lake=args.lake))
        built.deploy()
        built.seed(SeedOptions(rows=args.rows, days=365, end_date=date(2026, 6, 30)))
        built.run_etl(EtlOptions())
    try:
        figures = measure(args)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(results.write("iceberg_reads", figures))
    print(render(results.read("iceberg_reads")))


def measure(args: argparse.Namespace) -> dict[str, Any]:
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
    return {
        "fact_rows": sum(s.total_rows for s in iceberg.history(layout, iceberg.FACT).snapshots if s.current),
        "repeat": args.repeat,
        "rounds": args.rounds,
        "plan_only_median": {
            "glob_s": statistics.median(p["glob_s"] for p in plans),
            "iceberg_s": statistics.median(p["iceberg_s"] for p in plans),
            "pyiceberg_s": statistics.median(p["pyiceberg_s"] for p in plans),
            "fact_files": plans[0]["fact_files"],
        },
        "engine_open_median": {way: statistics.median(v) for way, v in opens.items()},
        "per_query": per_query,
        "sum_of_query_medians": {way: sum(r[f"{way}_s"] for r in per_query) for way in openers},
        "iceberg_commit": commit_cost(layout),
        "duckdb_iceberg_extension": "not measured: duckdb-extension-iceberg 1.5.5 (newest) does not load in DuckDB 2.0.1",
    }


def render(document: dict[str, Any]) -> str:
    f = document["figures"]
    intro = (
        f"The lake engine's two ways to find the files a query reads, on a lake of {f['fact_rows']:,} fact rows: "
        "*glob* (the processed folders listed, runs still being published left out: before Iceberg) and *iceberg* "
        "(the files of each table's current snapshot, read from the catalog, metadata and manifests: now). Both "
        f"hand DuckDB the same files through the same view. Per query, the median of {f['repeat']} runs on an open "
        f"engine, {f['rounds']} rounds alternating."
    )
    plan, opens = f["plan_only_median"], f["engine_open_median"]
    lines = [
        *results.header(document, "Iceberg reads: planning from the snapshot", intro),
        "| query | glob (s) | iceberg (s) | bytes scanned glob / iceberg | files read glob / iceberg | same answer |",
        "|---|---:|---:|---|---|---|",
        *(
            f"| {r['query']} | {r['glob_s']:.4f} | {r['iceberg_s']:.4f} | {r['glob_bytes_scanned']:,} / "
            f"{r['iceberg_bytes_scanned']:,} | {r['glob_files_read']} / {r['iceberg_files_read']} | "
            f"{'yes' if r['same_answer'] else '**no**'} |"
            for r in f["per_query"]
        ),
        "",
        "| planning alone (median) | seconds |",
        "|---|---:|",
        f"| listing the folders (`list_data_files`) | {plan['glob_s']:.4f} |",
        f"| the current snapshots read directly (`iceberg.current_files`) | {plan['iceberg_s']:.4f} |",
        f"| the same through pyiceberg's scan planning (already imported) | {plan['pyiceberg_s']:.4f} |",
        f"| opening the engine, glob / iceberg (planning + views) | {opens['glob']:.4f} / {opens['iceberg']:.4f} |",
        "",
        f"The fact table has {plan['fact_files']} files. Sum of the query medians: glob "
        f"{f['sum_of_query_medians']['glob']:.3f} s, iceberg {f['sum_of_query_medians']['iceberg']:.3f} s.",
    ]
    commit = f.get("iceberg_commit")
    if commit:
        share = (
            f"{commit['share_of_run']:.1%} of the run's {commit['run_seconds']:.2f} s" if commit["share_of_run"] else ""
        )
        lines.append(
            f"Redoing the run's Iceberg commit on a scratch copy: {commit['iceberg_commit_s']:.3f} s ({share})."
        )
    lines.append(f"DuckDB's iceberg extension: {f['duckdb_iceberg_extension']}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

"""run-etl against a floor that writes the same outputs, whole processes, side by side in one run.

For each size a lake is seeded once; then, in turn, each as its own process (wall seconds, peak RSS of the
process tree):
  floor      one DuckDB process that reads the same raw files (JSON lines and CSV, DuckDB's own readers),
             joins the three dimensions for the fact columns (rows without positive amounts left out: they have
             no profit margin), writes the partitioned zstd Parquet (by year
             and month, sorted by sale_date, region, sale_id, as the lake is) and loads the same rows into
             a DuckDB table sorted by (sale_date, region): run-etl's outputs, without its quality rules,
             quarantine, per-line accounting, crash safety, catalog or Iceberg commit
  bare COPY  `COPY (raw columns + partition keys) TO ... (FORMAT parquet, PARTITION_BY (year, month))`, no
             warehouse (the floor of earlier measurements, kept for continuity)
  run-etl    `datalake run-etl --json` on a fresh lake holding the same raw files (hard links)
Every DuckDB connection, the floor's included, gets the settings of datalake.targets.local.duckdb_resources.
The criterion: run-etl within 1.3x of the floor at every size.

Usage:
    PYTHONPATH=. python benchmarks/bench_etl_floor.py --sizes 2000000 10000000 --workdir /work/bench-etl-floor
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the checkout's packages

from benchmarks import process_tree, results

RESULT_NAMES = ("etl_floor",)
CRITERION = 1.3
END_DATE = "2026-06-30"

# The floor's child process: its SQL is built from the package's definitions (columns, derived values),
# so it writes the columns and types run-etl writes, but none of run-etl's code runs.
FLOOR = textwrap.dedent(
    """
    import glob, json, sys
    from pathlib import Path
    from datalake.domain.duckdb_sql import connect, dimension_reader_sql, sql_list, sql_string
    from datalake.domain.schema import FACT_SORT_KEY, SALES_FACT_COLUMNS, SALES_PARTITION_KEYS, WAREHOUSE_SORT_KEY
    from datalake.domain.transform import CASTS, DERIVED, FROM_DIMENSIONS
    from datalake.targets.local import duckdb_resources

    raw, out, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    js = sorted(glob.glob(str(raw / "sales" / "**" / "*.json"), recursive=True))
    cs = sorted(glob.glob(str(raw / "sales" / "**" / "*.csv"), recursive=True))
    out.mkdir(parents=True)
    con = duckdb_resources.connect(out / "tmp", out / "warehouse.duckdb")
    columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in CASTS.items()) + "}"
    sales = (
        f"SELECT * FROM read_json({sql_list(js)}, format = 'newline_delimited', columns = {columns}) "
        f"UNION ALL BY NAME SELECT * FROM read_csv({sql_list(cs)}, header = true, columns = {columns})"
    )
    processed = out / "processed" / "sales_fact"
    processed.parent.mkdir()
    if mode == "bare":
        con.execute(
            f"COPY (SELECT *, year(sale_timestamp) AS year, month(sale_timestamp) AS month FROM ({sales})) "
            f"TO {sql_string(processed)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month))"
        )
        print(json.dumps({"rows": con.execute(f"SELECT count(*) FROM read_parquet({sql_string(str(processed) + '/**/*.parquet')})").fetchone()[0]}))
        sys.exit(0)
    for dim in ("customers", "products", "stores"):
        files = sorted(glob.glob(str(raw / dim / "*.csv")))
        con.execute(f"CREATE TEMP TABLE {dim} AS SELECT * FROM {dimension_reader_sql(dim, files)}")
    attributes = {"_customer_segment": "c.customer_segment", "_customer_region": "c.region",
                  "_product_name": "p.product_name", "_category": "p.category", "_unit_cost": "p.unit_cost",
                  "_store_region": "s.region"}
    joined = (
        "SELECT r.*, " + ", ".join(f"{expr} AS {alias}" for alias, expr in attributes.items())
        + ", now() AS _run_ts FROM (" + sales + ") r LEFT JOIN customers c USING (customer_id) "
        "LEFT JOIN products p USING (product_id) LEFT JOIN stores s ON s.store_id = r.store_id "
        # the one check the floor needs: a row without a positive amount has no profit margin to compute
        "WHERE r.quantity > 0 AND r.unit_price > 0 AND r.total_amount > 0"
    )
    select = ", ".join(
        f"CAST({DERIVED.get(c.name, FROM_DIMENSIONS.get(c.name, c.name))} AS {c.type}) AS {c.name}"
        for c in SALES_FACT_COLUMNS
    )
    con.execute(
        f"COPY (SELECT {select} FROM ({joined}) ORDER BY {', '.join(FACT_SORT_KEY)}) TO {sql_string(processed)} "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, PARTITION_BY ({', '.join(SALES_PARTITION_KEYS)}))"
    )
    con.execute(
        "CREATE TABLE sales_fact_redshift AS SELECT * FROM read_parquet("
        f"{sql_string(str(processed) + '/**/*.parquet')}, hive_partitioning = true) "
        f"ORDER BY {', '.join(WAREHOUSE_SORT_KEY)}"
    )
    con.execute("CHECKPOINT")
    print(json.dumps({"rows": con.execute("SELECT count(*) FROM sales_fact_redshift").fetchone()[0]}))
    """
)


def seed(lake: Path, rows: int, log: Path) -> dict[str, Any]:
    process_tree.run(process_tree.datalake_command("deploy", "--lake", str(lake)), log=log)
    cmd = process_tree.datalake_command("seed", "--rows", str(rows), "--end-date", END_DATE, "--lake", str(lake))
    return process_tree.run(cmd, log=log).figures()


def floor(raw: Path, out: Path, mode: str, log: Path) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    measured = process_tree.run([sys.executable, "-c", FLOOR, str(raw), str(out), mode], log=log)
    figures = {**measured.figures(), **json.loads(measured.stdout.strip().splitlines()[-1])}
    shutil.rmtree(out, ignore_errors=True)
    return figures


def run_etl(seeded: Path, lake: Path, log: Path) -> dict[str, Any]:
    """run-etl on a freshly deployed lake whose raw zone hard-links the seeded files (run-etl only reads them)."""
    shutil.rmtree(lake, ignore_errors=True)
    process_tree.run(process_tree.datalake_command("deploy", "--lake", str(lake)), log=log)
    shutil.rmtree(lake / "raw")
    shutil.copytree(seeded / "raw", lake / "raw", copy_function=os.link)
    measured = process_tree.run(process_tree.datalake_command("run-etl", "--json", "--lake", str(lake)), log=log)
    summary = json.loads(measured.stdout)
    shutil.rmtree(lake, ignore_errors=True)
    return {
        **measured.figures(),
        "rows": summary["rows_processed"],
        "rows_in": summary["rows_in"],
        "stages": summary["stages"],
    }


def measure(sizes: list[int], workdir: Path) -> dict[str, Any]:
    from rich.progress import Progress

    from datalake.targets.local import duckdb_resources

    shutil.rmtree(workdir, ignore_errors=True)
    log = workdir / "commands.log"
    figures: dict[str, Any] = {
        "criterion": CRITERION,
        "memory_limit_mb": duckdb_resources.memory_limit() // 2**20,
        "sizes": {},
    }
    with Progress() as progress:
        task = progress.add_task("etl floor", total=4 * len(sizes))
        for rows in sizes:
            seeded = workdir / f"seeded-{rows}"
            progress.update(task, description=f"seed {rows:,}")
            size: dict[str, Any] = {"seed": seed(seeded, rows, log)}
            progress.advance(task)
            size["load_average_before"] = process_tree.load_average()
            progress.update(task, description=f"floor {rows:,}")
            size["floor"] = floor(seeded / "raw", workdir / "floor", "floor", log)
            progress.advance(task)
            progress.update(task, description=f"bare COPY {rows:,}")
            size["bare_copy"] = floor(seeded / "raw", workdir / "bare", "bare", log)
            progress.advance(task)
            progress.update(task, description=f"run-etl {rows:,}")
            size["run_etl"] = run_etl(seeded, workdir / "etl", log)
            progress.advance(task)
            size["load_average_after"] = process_tree.load_average()
            size["ratio"] = round(size["run_etl"]["seconds"] / size["floor"]["seconds"], 2)
            size["ratio_bare"] = round(size["run_etl"]["seconds"] / size["bare_copy"]["seconds"], 2)
            size["met"] = size["ratio"] <= CRITERION
            figures["sizes"][str(rows)] = size
            shutil.rmtree(seeded)
    figures["all_met"] = all(s["met"] for s in figures["sizes"].values())
    return figures


def render(document: dict[str, Any]) -> str:
    """The Markdown section of docs/benchmarks.md for an `etl_floor` results file."""
    f = document["figures"]
    m = document["machine"]
    lines = [
        "## run-etl against a floor that writes the same outputs",
        "",
        f"`{document['command']}`, {document['date']}, commit {document['commit']}, "
        f"{m['cores']} cores, {m['memory_gb']} GB, {m['cpu']}.",
        "",
        "Whole processes, in turn on the same raw files. The floor is one DuckDB process: raw JSON and CSV "
        "read by DuckDB's readers, the dimensions joined, partitioned zstd Parquet written and the same rows "
        "loaded into a DuckDB table sorted by (sale_date, region); no quality rules, quarantine or crash "
        f"safety. Every DuckDB connection has a {f['memory_limit_mb']:,} MB limit. Criterion: run-etl within "
        f"{f['criterion']}x of the floor.",
        "",
        "| rows | floor s | bare COPY s | run-etl s | run-etl / floor | met | run-etl / bare | peak GB floor / run-etl | load |",
        "|---:|---:|---:|---:|---:|---|---:|---|---|",
    ]
    for rows, s in f["sizes"].items():
        lines.append(
            f"| {int(rows):,} | {s['floor']['seconds']:,.1f} | {s['bare_copy']['seconds']:,.1f} | "
            f"{s['run_etl']['seconds']:,.1f} | {s['ratio']:.2f}x | {'yes' if s['met'] else 'NO'} | "
            f"{s['ratio_bare']:.2f}x | {s['floor']['peak_rss_gb']:.2f} / {s['run_etl']['peak_rss_gb']:.2f} | "
            f"{s['load_average_before'][0]:.1f} / {s['load_average_after'][0]:.1f} |"
        )
    lines += ["", "run-etl's stages (seconds, from its run summary):", ""]
    for rows, s in f["sizes"].items():
        stages = ", ".join(f"{k} {v:,.1f}" for k, v in s["run_etl"]["stages"].items())
        lines.append(
            f"- {int(rows):,} rows: {stages}; rows written: floor {s['floor']['rows']:,}, "
            f"run-etl {s['run_etl']['rows']:,} (the floor keeps the rows run-etl quarantines)"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000_000, 10_000_000])
    parser.add_argument("--workdir", type=Path, default=Path("/work/bench-etl-floor"))
    parser.add_argument("--output", type=Path, help="write the results here instead of benchmarks/results/")
    args = parser.parse_args()
    if any(rows < 1 for rows in args.sizes):
        raise SystemExit("error: every size must be 1 or more")
    figures = measure(args.sizes, args.workdir.resolve())
    path = results.write("etl_floor", figures, output=args.output)
    print(render(json.loads(path.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()

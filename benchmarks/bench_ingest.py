"""Measure `datalake ingest` of one large CSV: wall time and peak memory (it must stream, not load).

    PYTHONPATH=. python benchmarks/bench_ingest.py --size 1     # ~1 GB, the default
    PYTHONPATH=. python benchmarks/bench_ingest.py --size 5     # the 5 GB case of the issue

The CSV (orders: id, ISO date, timestamp, quoted text with commas, decimal, integer) is generated
by DuckDB. Each step runs in a fresh child process that reports its own wall time and peak RSS
(resource.getrusage ru_maxrss, which includes DuckDB's native memory):
  ingest      the whole command: hash + UTF-8 scan, sniff, two-pass typing, raw copy, partitioned
              zstd Parquet (--partition-by order_date:month), catalog, warehouse load
  bare COPY   DuckDB `COPY (FROM read_csv(auto_detect)) TO ... (FORMAT parquet, PARTITION_BY ...)`
              on the same file with the same memory limit: the floor for the conversion alone
Results: benchmarks/results/ingest.json (printed as Markdown too); the workdir is deleted afterwards unless
--keep.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from benchmarks import results

RESULT_NAMES = ("ingest",)

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    began = time.perf_counter()
    {body}
    print(json.dumps({{"seconds": time.perf_counter() - began,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}}))
    """
)

ROW_SQL = """
    SELECT range AS order_id,
      DATE '2023-01-01' + CAST(range % 730 AS INTEGER) AS order_date,
      TIMESTAMP '2023-01-01 00:00:00' + to_seconds(CAST(range % 63072000 AS BIGINT)) AS ordered_at,
      'Customer ' || (range % 50000) || ', Ltd' AS customer,
      CAST((range * 7919) % 100000 AS DECIMAL(12,2)) / 100 AS amount,
      range % 17 + 1 AS quantity
    FROM range({rows})
"""


def child(body: str) -> dict[str, float]:
    code = CHILD.format(body=textwrap.dedent(body).strip())
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def generate(path: Path, size_gb: float) -> int:
    import duckdb

    con = duckdb.connect()
    sample = path.with_suffix(".sample.csv")
    con.execute(f"COPY ({ROW_SQL.format(rows=100_000)}) TO '{sample}' (HEADER)")
    rows = int(size_gb * (1 << 30) / (sample.stat().st_size / 100_000))
    sample.unlink()
    con.execute(f"COPY ({ROW_SQL.format(rows=rows)}) TO '{path}' (HEADER)")
    con.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=float, default=1.0, help="CSV size in GB (default 1; the issue's case is 5)")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir (CSV, lake) afterwards")
    args = parser.parse_args()
    work: Path = args.workdir or Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    csv_path = work / "orders.csv"
    try:
        rows = generate(csv_path, args.size)
        size = csv_path.stat().st_size
        lake = work / "lake"
        ingest = child(
            f"""
            from pathlib import Path
            from datalake.config import Settings
            from datalake.targets.local.ingest.run import IngestOptions
            from datalake.targets.local.target import LocalTarget
            t = LocalTarget(Settings(lake=Path({str(lake)!r})))
            t.deploy()
            r = t.ingest(IngestOptions(table="orders", paths=(Path({str(csv_path)!r}),), partition_by="order_date:month"))
            extra = {{"rows": r.rows, "bytes_out": r.bytes_out, "parquet_files": r.parquet_files,
                      "types": {{c["name"]: c["type"] for c in r.columns}}}}
            """
        )
        shutil.rmtree(lake, ignore_errors=True)
        bare_out = work / "bare"
        bare = child(
            f"""
            import duckdb
            con = duckdb.connect(config={{"memory_limit": "1GB", "temp_directory": {str(work / "tmp")!r}}})
            con.execute("SET preserve_insertion_order = false")
            con.execute("COPY (SELECT *, year(order_date) AS year, month(order_date) AS month "
                        "FROM read_csv({str(csv_path)!r})) TO {str(bare_out)!r} "
                        "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month))")
            extra = {{}}
            """
        )
        figures = {"csv_bytes": size, "rows": rows, "ingest": ingest, "bare_copy": bare}
        print(results.write("ingest", figures))
        print(render(results.read("ingest")))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def render(document: dict[str, Any]) -> str:
    figures = document["figures"]
    size, ingest, bare = figures["csv_bytes"], figures["ingest"], figures["bare_copy"]
    intro = (
        f"`datalake ingest` of one generated orders CSV ({size / 1e9:.2f} GB, {figures['rows']:,} rows: id, ISO date, "
        "timestamp, quoted text with commas, decimal, integer), `--partition-by order_date:month`, against a bare "
        "DuckDB `COPY read_csv(auto_detect) TO parquet PARTITION_BY` of the same file with the same memory limit "
        "(1 GB); each in a fresh child process."
    )
    lines = [
        *results.header(document, "Ingest", intro),
        "| step | seconds | MB/s | peak RSS (MB) |",
        "|---|---:|---:|---:|",
    ]
    for name, r in (("`datalake ingest`", ingest), ("bare DuckDB COPY", bare)):
        lines.append(f"| {name} | {r['seconds']:.1f} | {size / 2**20 / r['seconds']:.0f} | {r['peak_rss_mb']:,.0f} |")
    types = ", ".join(f"{name} {kind}" for name, kind in ingest["types"].items())
    lines += [
        "",
        f"Ingest takes {ingest['seconds'] / bare['seconds']:.1f}x the bare COPY; its Parquet is "
        f"{ingest['bytes_out'] / size:.2f} of the CSV bytes; inferred types: {types}.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

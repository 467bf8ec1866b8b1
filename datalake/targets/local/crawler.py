"""The crawler: infer raw files' schemas and partitions into the catalog, as a Glue crawler does.

Each top-level folder of the raw zone is a table; `key=value` folders below it are partitions;
JSON lines and CSV files may sit side by side (classification "json+csv"). Types come from
DuckDB's sniffers on a sample of files per format, widened across formats; the ETL itself never
trusts them (it reads raw values as text and casts with its own rules), but the catalog tells
users and engines what is there. Archived partitions stay in the table with their new location,
so the raw engine still finds them.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datalake.domain.duckdb_sql import records_sql
from datalake.layout import LakeLayout
from datalake.targets.local import duckdb_resources
from datalake.targets.local.catalog import Catalog, CatalogColumn, Partition, Table

RAW_DATABASE = "raw"
PROCESSED_DATABASE = "processed"
FORMATS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet"}
_PARTITION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
SAMPLE_FILES = 8

_GLUE_TYPES = {
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "UBIGINT": "bigint",
    "INTEGER": "int",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "DOUBLE": "double",
    "FLOAT": "float",
    "VARCHAR": "string",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
}


def glue_type(duckdb_type: str) -> str:
    """Map a DuckDB type name to the Glue/Hive type a crawler would record."""
    upper = duckdb_type.upper().strip('"')
    if upper in ("NULL", "JSON"):
        return "null"  # only nulls seen: let the other formats or samples decide
    if upper.startswith("DECIMAL"):
        return upper.lower()
    if upper.startswith(("STRUCT", "MAP")) or upper.endswith("[]"):
        return "string"
    return _GLUE_TYPES.get(upper, "string")


def _widen(a: str, b: str) -> str:
    if a == b or b == "null":
        return a
    if a == "null":
        return b
    numeric = ["tinyint", "smallint", "int", "bigint", "double"]
    if a in numeric and b in numeric:
        return numeric[max(numeric.index(a), numeric.index(b))]
    if {a, b} <= {"date", "timestamp"}:
        return "timestamp"
    if (a.startswith("decimal") and b in numeric) or (b.startswith("decimal") and a in numeric):
        return "double"
    return "string"


@dataclass
class DataFile:
    path: Path
    zone: str
    relative: str  # path below the zone root, e.g. sales/year=2026/month=01/day=02/x.json
    table: str
    partition: tuple[tuple[str, str], ...]
    format: str
    size: int


@dataclass
class CrawlResult:
    tables: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    partitions: int = 0
    new_partitions: int = 0
    unreadable: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def hive_partition(folders: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The (key, value) pairs of the `key=value` folders among path parts, in path order."""
    return tuple(m.groups() for m in (_PARTITION.match(f) for f in folders) if m)  # type: ignore[misc]


def list_data_files(zone_root: Path, zone: str, table: str | None = None) -> list[DataFile]:
    """Every data file below a zone (optionally one table), sorted, with its partition values."""
    found: list[DataFile] = []
    if not zone_root.is_dir():
        return found
    tables = [table] if table else sorted(p.name for p in zone_root.iterdir() if p.is_dir())
    for name in tables:
        base = zone_root / name
        if not base.is_dir() or name.startswith(("_", ".")):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(("_", ".")))
            rel_dir = Path(dirpath).relative_to(base)
            parts = hive_partition(rel_dir.parts)
            for filename in sorted(filenames):
                suffix = Path(filename).suffix.lower()
                if filename.startswith((".", "_")) or suffix not in FORMATS:
                    continue
                path = Path(dirpath) / filename
                found.append(
                    DataFile(
                        path=path,
                        zone=zone,
                        relative=str(path.relative_to(zone_root)),
                        table=name,
                        partition=parts,
                        format=FORMATS[suffix],
                        size=path.stat().st_size,
                    )
                )
    return found


def sales_files(layout: LakeLayout) -> list[DataFile]:
    """Every raw sales file: those still in the raw zone, then the archived ones (archive keeps raw's layout)."""
    return list_data_files(layout.raw, "raw", "sales") + list_data_files(layout.archive, "archive", "sales")


def sales_records_sql(con: Any, layout: LakeLayout, files: list[DataFile], store_rejects: bool) -> str:
    """The raw records of these sales files, read as run-etl reads them; run it on `con`.

    Empty files are left out: the readers reject them, and run-etl reports them as bad files instead.
    """
    readable = [f for f in files if f.size > 0]
    return records_sql(
        con,
        [f.path for f in readable if f.format == "json"],
        [f.path for f in readable if f.format == "csv"],
        [layout.raw, layout.archive],
        store_rejects=store_rejects,
    )


def group_partitions(files: list[DataFile], root: Path) -> dict[tuple[str, ...], Partition]:
    """Partitions (by their key values) of partitioned data files, with file counts, bytes and formats."""
    partitions: dict[tuple[str, ...], Partition] = {}
    for f in files:
        if not f.partition:
            continue
        values = tuple(v for _, v in f.partition)
        part = partitions.setdefault(values, Partition(list(values), str(f.path.parent.relative_to(root))))
        part.files += 1
        part.bytes += f.size
        if f.format not in part.formats:
            part.formats.append(f.format)
    return partitions


def _infer_columns(con: Any, files: list[DataFile]) -> tuple[list[CatalogColumn], list[dict[str, str]]]:
    by_format: dict[str, list[DataFile]] = defaultdict(list)
    for f in files:
        if f.size > 0:
            by_format[f.format].append(f)
    merged: dict[str, str] = {}
    unreadable: list[dict[str, str]] = []
    for fmt, group in sorted(by_format.items()):
        step = max(1, len(group) // SAMPLE_FILES)
        sample = group[::step][:SAMPLE_FILES]
        paths = [str(f.path) for f in sample]
        reader = {
            "json": "read_json_auto({p}, union_by_name=true, ignore_errors=true, format='newline_delimited')",
            "csv": "read_csv_auto({p}, union_by_name=true, ignore_errors=true)",
            "parquet": "read_parquet({p}, union_by_name=true)",
        }[fmt].format(p=paths)
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
        except Exception as exc:  # a sample the sniffer cannot read: note it, keep crawling
            unreadable.append({"file": sample[0].relative, "problem": str(exc).splitlines()[0]})
            continue
        for name, dtype, *_ in described:
            if name in ("filename",) or any(f.partition and name == k for f in sample for k, _ in f.partition):
                continue
            merged[name] = _widen(merged[name], glue_type(dtype)) if name in merged else glue_type(dtype)
    columns = [CatalogColumn(n, "string" if t == "null" else t) for n, t in merged.items()]
    return columns, unreadable


def crawl(layout: LakeLayout, catalog: Catalog) -> CrawlResult:
    """Crawl raw (and archived raw) files into the `raw` database of the catalog."""
    result = CrawlResult()
    catalog.create_database(RAW_DATABASE)
    files = list_data_files(layout.raw, "raw") + list_data_files(layout.archive, "archive")
    by_table: dict[str, list[DataFile]] = defaultdict(list)
    for f in files:
        by_table[f.table].append(f)
    con = duckdb_resources.connect(layout.scratch)
    try:
        for name, table_files in sorted(by_table.items()):
            previous = catalog.get(RAW_DATABASE, name)
            if previous and previous.parameters.get("crawler") == "datalake-ingest":
                continue  # `datalake ingest` crawled these files with its own, stricter inference
            known = {tuple(p.values) for p in previous.partitions} if previous else set()
            columns, unreadable = _infer_columns(con, table_files)
            if previous and not columns:
                columns = previous.columns
            result.unreadable += unreadable
            keys = [k for k, _ in table_files[0].partition]
            partitions = group_partitions(table_files, layout.root) if keys else {}
            formats = sorted({f.format for f in table_files})
            table = Table(
                database=RAW_DATABASE,
                name=name,
                location=str((layout.raw / name).relative_to(layout.root)),
                classification="+".join(formats),
                columns=[c for c in columns if c.name not in keys],
                partition_keys=[CatalogColumn(k, "string") for k in keys],
                partitions=[partitions[v] for v in sorted(partitions)],
                parameters={
                    "files": len(table_files),
                    "bytes": sum(f.size for f in table_files),
                    "crawler": "datalake",
                },
            )
            catalog.put(table)
            result.tables.append(name)
            result.files += len(table_files)
            result.bytes += sum(f.size for f in table_files)
            result.partitions += len(partitions)
            result.new_partitions += len(set(partitions) - known)
    finally:
        con.close()
    return result

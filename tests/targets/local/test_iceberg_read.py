"""The standard-library read of the current snapshots names exactly the files pyiceberg's planning names."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from datalake.domain.seed import seed
from datalake.layout import LakeLayout
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local import iceberg, iceberg_read
from datalake.targets.local.etl.run import run_etl
from tests.conftest import END_DATE, RUN_TS


def _planned(layout: LakeLayout) -> dict[str, list[Path]]:
    return iceberg._current_files_planned(layout)


def test_the_current_files_match_pyiceberg_after_appends_and_overwrites(processed_lake: LakeLayout) -> None:
    layout = processed_lake
    first = iceberg.current_files(layout)
    assert first == _planned(layout) and len(first[iceberg.FACT]) > 1
    for day in (1, 2):  # appends to the fact, an overwrite of every dimension's one file
        seed(layout, SeedOptions(rows=400, days=1, end_date=END_DATE + timedelta(days=day), seed=90 + day))
        assert run_etl(layout, EtlOptions(run_ts=RUN_TS + timedelta(days=day))).status == "completed"
    after = iceberg.current_files(layout)
    assert after == _planned(layout)
    assert set(after[iceberg.FACT]) > set(first[iceberg.FACT])  # the older runs' files are still live
    for dim in ("customers", "products", "stores"):
        assert len(after[dim]) == 1 and after[dim] != first[dim]  # the replaced file left the snapshot


def test_a_deleted_entry_leaves_the_file_list(processed_lake: LakeLayout) -> None:
    """Entries a manifest marks deleted are not part of the snapshot, whatever the decoder reads around them."""
    layout = processed_lake
    seed(layout, SeedOptions(rows=400, days=1, end_date=END_DATE + timedelta(days=1), seed=5))
    run_etl(layout, EtlOptions(run_ts=RUN_TS + timedelta(days=1)))
    metadata = iceberg_read.current_tables(
        iceberg.catalog_file(layout), iceberg.CATALOG_NAME, iceberg.NAMESPACE, ["customers"]
    )
    snapshot = iceberg_read.current_snapshot(metadata["customers"])
    assert snapshot is not None
    entries = [
        entry
        for manifest in iceberg_read.read_avro(iceberg_read.local_path(snapshot["manifest-list"]))
        for entry in iceberg_read.read_avro(iceberg_read.local_path(manifest["manifest_path"]))
    ]
    statuses = sorted(entry["status"] for entry in entries)
    assert iceberg_read.DELETED in statuses  # the overwrite removed the old file...
    live = [e["data_file"]["file_path"] for e in entries if e["status"] != iceberg_read.DELETED]
    assert iceberg_read.snapshot_files(snapshot) == live and len(live) == 1  # ...and only the new one is listed


def test_what_the_reader_cannot_decode_is_planned_by_pyiceberg(
    processed_lake: LakeLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _planned(processed_lake)

    def refuse(snapshot: dict[str, object]) -> list[str]:
        raise iceberg_read.Unsupported("Avro codec snappy")

    monkeypatch.setattr(iceberg_read, "snapshot_files", refuse)
    assert iceberg.current_files(processed_lake) == expected


def test_a_table_without_a_snapshot_is_left_out(lake: LakeLayout) -> None:
    assert iceberg.current_files(lake) == {} == _planned(lake)


def test_a_lake_query_imports_neither_pyiceberg_nor_the_etl(processed_lake: LakeLayout) -> None:
    """The query path's import budget: what a point query loads is what it uses."""
    script = (
        "import sys, json\n"
        "from datalake.cli.app import app\n"
        "try:\n"
        f"    app(['query', 'SELECT count(*) FROM sales_fact', '--lake', {str(processed_lake.root)!r}, '--json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('pyiceberg', 'pyarrow', 'sqlalchemy')"
        " or m.startswith('datalake.targets.local.etl'))), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["rows"][0]["count_star()"] > 0
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []

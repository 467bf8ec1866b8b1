from __future__ import annotations

from datetime import date

import pytest

from datalake.errors import UsageError
from datalake.layout import LakeLayout
from datalake.model import EtlOptions
from datalake.targets.local.archive import archive
from datalake.targets.local.catalog import Catalog
from datalake.targets.local.engines import open_local_engine
from datalake.targets.local.etl.run import run_etl
from tests.conftest import RUN_TS


def test_archive_moves_old_processed_partitions_and_raw_engine_still_reads_them(processed_lake: LakeLayout) -> None:
    with open_local_engine(processed_lake, "raw") as eng:
        before = eng.execute("SELECT count(*), sum(total_amount) FROM sales_fact").rows
    dry = archive(processed_lake, older_than_days=30, dry_run=True, today=date(2026, 7, 1))
    assert dry.partitions > 0 and not any(processed_lake.archive.rglob("*.json"))
    result = archive(processed_lake, older_than_days=30, today=date(2026, 7, 1))
    assert result.partitions == dry.partitions and result.files == dry.files
    moved = list(processed_lake.archive.rglob("*.*"))
    assert len(moved) == result.files
    remaining_days = {p.parent.name for p in (processed_lake.raw / "sales").rglob("*.*")}
    assert all(d >= "day=01" for d in remaining_days)
    with open_local_engine(processed_lake, "raw") as eng:
        assert eng.execute("SELECT count(*), sum(total_amount) FROM sales_fact").rows == before
    table = Catalog(processed_lake.catalog_dir).get("raw", "sales")
    assert table is not None and any(p.location.startswith("archive/") for p in table.partitions)
    # archived files are not new files for the ETL
    assert run_etl(processed_lake, EtlOptions(run_ts=RUN_TS)).status == "nothing_to_do"


def test_unprocessed_partitions_stay(processed_lake: LakeLayout) -> None:
    folder = processed_lake.raw / "sales" / "year=2026" / "month=05" / "day=10"
    (folder / "late.json").write_text(next(folder.glob("*.json")).read_text())
    result = archive(processed_lake, older_than_days=30, today=date(2026, 7, 1))
    assert "sales/year=2026/month=05/day=10" in result.skipped_unprocessed
    assert (folder / "late.json").exists()


def test_negative_days_rejected(processed_lake: LakeLayout) -> None:
    with pytest.raises(UsageError, match="--older-than"):
        archive(processed_lake, older_than_days=-1)

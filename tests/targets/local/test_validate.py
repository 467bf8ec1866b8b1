from __future__ import annotations

from datetime import date
from pathlib import Path

from datalake.layout import LakeLayout
from datalake.model import EtlOptions
from datalake.targets.local.etl.run import run_etl
from datalake.targets.local.validate import validate
from tests.conftest import RUN_TS


def _checks(report: object) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}  # type: ignore[attr-defined]


def test_a_clean_lake_passes_every_check(shared_processed_lake: LakeLayout) -> None:
    report = validate(shared_processed_lake, today=date(2026, 7, 1))
    assert report.ok, report.to_dict()
    assert _checks(report)["reconciliation"] == "pass"
    assert sum(report.rules.values()) > 0  # the seed's defects were quarantined and counted per rule


def test_reconciliation_fails_when_a_processed_file_goes_missing(processed_lake: LakeLayout) -> None:
    victim = next((processed_lake.processed / "sales_fact").rglob("*.parquet"))
    victim.unlink()
    report = validate(processed_lake, today=date(2026, 7, 1))
    assert not report.ok and _checks(report)["reconciliation"] == "fail"


def test_freshness_limit_and_pending_files(processed_lake: LakeLayout) -> None:
    assert _checks(validate(processed_lake, freshness_days=3, today=date(2026, 7, 1)))["freshness"] == "pass"
    stale = validate(processed_lake, freshness_days=3, today=date(2026, 8, 1))
    assert _checks(stale)["freshness"] == "fail" and not stale.ok
    folder = processed_lake.raw / "sales" / "year=2026" / "month=06" / "day=30"
    Path(folder / "late.csv").write_text((next(folder.glob("*.csv"))).read_text())
    report = validate(processed_lake, today=date(2026, 7, 1))
    assert _checks(report)["raw_files_processed"] == "warn"
    run_etl(processed_lake, EtlOptions(run_ts=RUN_TS))
    report = validate(processed_lake, today=date(2026, 7, 1))
    assert report.ok and _checks(report)["raw_files_processed"] == "pass"


def test_a_run_loaded_twice_into_the_warehouse_is_a_duplicate(processed_lake: LakeLayout) -> None:
    from datalake.targets.local import warehouse

    facts = sorted((processed_lake.processed / "sales_fact").rglob("*.parquet"))
    assert warehouse.load_run(processed_lake, "the-same-files-again", facts) > 0  # a new segment, same rows
    report = validate(processed_lake, today=date(2026, 7, 1))
    dups = next(c for c in report.checks if c.name == "no_duplicate_sale_id")
    assert dups.status == "fail" and dups.observed["lake"] == 0 and dups.observed["warehouse"] > 0

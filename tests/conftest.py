"""Shared fixtures: a deployed empty lake, and one small seeded + processed lake per session."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from datalake.config import Settings
from datalake.layout import LakeLayout
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local.target import LocalTarget

# A fixed clock for tests: seeds end on END_DATE and runs happen the day after.
END_DATE = date(2026, 6, 30)
RUN_TS = datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)
SMALL_ROWS = 20_000


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATALAKE_HOME", "DATALAKE_TARGET", "DATALAKE_CONFIG", "DATALAKE_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def make_target(root: Path) -> LocalTarget:
    return LocalTarget(Settings(lake=root))


@pytest.fixture
def lake(tmp_path: Path) -> LakeLayout:
    """A freshly deployed, empty local lake."""
    target = make_target(tmp_path / "lake")
    target.deploy()
    return target.layout


def build_lake(root: Path, rows: int = SMALL_ROWS, days: int = 60, seed: int = 7) -> LocalTarget:
    target = make_target(root)
    target.deploy()
    target.seed(SeedOptions(rows=rows, days=days, end_date=END_DATE, seed=seed))
    target.run_etl(EtlOptions(run_ts=RUN_TS))
    return target


@pytest.fixture(scope="session")
def _processed_lake_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "lake"
    build_lake(root)
    return root


def copy_lake(source: Path, root: Path) -> LakeLayout:
    """A copy of a lake whose Iceberg tables are its own.

    Iceberg metadata names files by absolute path, so a plain copy's catalog would still point at the
    source's metadata and data (and its commits would write metadata into the source). The copy's tables
    are made again and its published runs committed again from its journals, as the runs did (same run
    ids and files, new snapshot ids).
    """
    from datalake.targets.local import iceberg
    from datalake.targets.local.etl.run import journals, run_files

    shutil.copytree(source, root)
    layout = LakeLayout(root)
    iceberg.catalog_file(layout).unlink(missing_ok=True)
    for table in iceberg.table_defs().values():
        shutil.rmtree(iceberg.location(layout, table) / iceberg.METADATA_DIR, ignore_errors=True)
        shutil.rmtree(iceberg.location(layout, table) / iceberg.DIMENSION_DATA_DIR, ignore_errors=True)
    iceberg.ensure_tables(layout)
    for journal in journals(layout):
        if journal["status"] in ("published", "loaded"):  # each run its own files: no migration of the others'
            files = run_files(layout, journal)
            iceberg.commit_run(layout, journal["run_id"], files, journal.get("transform") or {})
    return layout


@pytest.fixture
def processed_lake(_processed_lake_template: Path, tmp_path: Path) -> LakeLayout:
    """A private copy of a small seeded and processed lake (20k rows over 60 days, with defects)."""
    return copy_lake(_processed_lake_template, tmp_path / "lake")


@pytest.fixture(scope="session")
def shared_processed_lake(_processed_lake_template: Path) -> LakeLayout:
    """The same lake, shared read-only across tests (do not modify it)."""
    return LakeLayout(_processed_lake_template)


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    """The one local SparkSession every Spark test shares (JVM start-up is paid once)."""
    from datalake.targets.local.spark import local_session

    return local_session()


@pytest.fixture
def terraform_on_path() -> None:
    """Terraform is part of this machine's image: a test that needs it fails without it, never skips."""
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH (the machine image ships it): the Terraform tests cannot run")

"""`datalake erase --dry-run`: the predicate checked, and every zone's matching rows counted per file, changing nothing."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.errors import UsageError
from datalake.layout import LakeLayout
from datalake.targets.local.erase import parse_predicate, plan
from tests.conftest import make_target

runner = CliRunner()


def _count(layout: LakeLayout, engine: str, sql: str) -> int:
    with make_target(layout.root).query_engine(engine) as eng:
        return int(eng.execute(sql).rows[0][0])


def _zone(result, zone: str, table: str):  # type: ignore[no-untyped-def]
    return next(z for z in result.zones if z.zone == zone and z.table == table)


def _a_customer(layout: LakeLayout) -> int:
    return _count(layout, "lake", "SELECT customer_id FROM sales_fact GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")


def test_dry_run_counts_what_each_engine_sees_and_changes_nothing(shared_processed_lake: LakeLayout) -> None:
    layout = shared_processed_lake
    customer = _a_customer(layout)
    before = {
        os.path.join(d, f): os.stat(os.path.join(d, f)).st_mtime_ns for d, _, fs in os.walk(layout.root) for f in fs
    }

    result = plan(layout, f"customer_id = {customer}")

    after = {
        os.path.join(d, f): os.stat(os.path.join(d, f)).st_mtime_ns for d, _, fs in os.walk(layout.root) for f in fs
    }
    assert after == before
    where = f"WHERE customer_id = {customer}"
    facts = _zone(result, "processed", "sales_fact")
    assert facts.current_matching == _count(layout, "lake", f"SELECT count(*) FROM sales_fact {where}") > 0
    assert facts.current_rows == _count(layout, "lake", "SELECT count(*) FROM sales_fact")
    # the raw files, read as run-etl reads them, hold the processed rows and those quarantined
    raw = _zone(result, "raw", "sales")
    quarantined = _count(layout, "lake", "SELECT count(*) FROM sales_quarantine")
    assert facts.current_matching <= raw.matching <= facts.current_matching + quarantined
    assert _count(layout, "raw", f"SELECT count(*) FROM sales_fact {where}") == facts.current_matching
    warehouse = _zone(result, "warehouse", "sales_fact_redshift")
    assert warehouse.matching == _count(layout, "warehouse", f"SELECT count(*) FROM sales_fact_redshift {where}")
    assert _zone(result, "processed", "customers").current_matching == 1
    assert _zone(result, "raw", "customers").matching == 1
    assert _zone(result, "warehouse", "customers").matching == 1
    # per file: every file named holds matching rows, and they add up to the zone's count
    for zone in result.zones:
        assert sum(f.matching for f in zone.files) == zone.matching
        for f in zone.files:
            assert (layout.root / f.file).is_file() or zone.zone == "warehouse"
    data = result.to_dict()
    assert data["matching"] == result.matching and data["columns"] == ["customer_id"]
    assert all(f["matching"] > 0 for z in data["zones"] for f in z["files"])


def test_a_predicate_on_a_dimension_column_finds_the_dimension_only(shared_processed_lake: LakeLayout) -> None:
    layout = shared_processed_lake
    with make_target(layout.root).query_engine("lake") as eng:
        email = eng.execute("SELECT email FROM customers ORDER BY customer_id LIMIT 1").rows[0][0]
    result = plan(layout, f"email = '{email}'")
    assert {(z.zone, z.table) for z in result.zones} == {
        ("processed", "customers"),
        ("raw", "customers"),
        ("warehouse", "customers"),
    }
    assert all(z.matching >= 1 for z in result.zones)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("nope = 1", "unknown column(s): nope"),
        ("customer_id", "is not a predicate"),
        ("1 = 1", "names no column"),
        ("customer_id = 1; DROP TABLE sales_fact", "is not one predicate"),
        ("customer_id = (SELECT 1)", "may not use Subquery"),
        ("length(read_text('/etc/hostname')) > 0", "may not use"),
        ("customer_id = = 2", "is not a predicate"),
    ],
)
def test_bad_predicates_are_refused_in_one_line(where: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_predicate(where)


def test_a_predicate_matching_every_row_needs_yes(shared_processed_lake: LakeLayout) -> None:
    with pytest.raises(UsageError, match="matches every one of sales_fact"):
        plan(shared_processed_lake, "sale_id > 0 OR sale_id IS NULL")
    assert plan(shared_processed_lake, "sale_id > 0 OR sale_id IS NULL", yes=True).matching > 0


def test_the_command_plans_with_dry_run_and_refuses_bad_predicates_in_one_line(
    shared_processed_lake: LakeLayout,
) -> None:
    lake = str(shared_processed_lake.root)
    result = runner.invoke(app, ["erase", "--lake", lake, "--where", "customer_id = 1", "--dry-run", "--json"])
    assert result.exit_code == 0 and '"matching"' in result.output
    for where in ("nope = 1", "customer_id", "1 = 1"):
        result = runner.invoke(app, ["erase", "--lake", lake, "--where", where])
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert len([line for line in result.output.splitlines() if line.startswith("Error:")]) == 1

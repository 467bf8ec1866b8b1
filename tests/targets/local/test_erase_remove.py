"""`datalake erase --where P`: every zone's matching rows removed and proven gone, the rest unchanged, kill -9 safe.

The proof is checked here independently of erase's own scan: every file below the lake root is read with
DuckDB (Parquet files with the column, every warehouse database file) or as text (raw, archive and the
quarantine's original lines, JSON parsed, CSV split), old snapshots' files included.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.domain import iceberg_tables
from datalake.domain.seed import seed
from datalake.errors import UsageError
from datalake.layout import LakeLayout
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local import erase_remove, iceberg, warehouse
from datalake.targets.local.erase import plan
from datalake.targets.local.erase_remove import audit_dir, erase, journal_file
from datalake.targets.local.etl.run import journals, run_etl, run_files
from datalake.targets.local.validate import validate
from tests.conftest import RUN_TS, make_target

runner = CliRunner()


def _build(root: Path) -> None:
    """Two runs (so old snapshots and an older dimension version hold the rows too), June archived."""
    target = make_target(root)
    target.deploy()
    for i in range(2):
        seed(
            target.layout,
            SeedOptions(rows=3_000, days=10, end_date=date(2026, 6, 25) + timedelta(days=10 * i), seed=40 + i),
        )
        run_etl(target.layout, EtlOptions(run_ts=RUN_TS + timedelta(days=15, hours=i)))
    target.archive(older_than_days=(date.today() - date(2026, 6, 30)).days)


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("erase") / "lake"
    _build(root)
    return root


@pytest.fixture
def lake(_template: Path, tmp_path: Path) -> LakeLayout:
    """A private copy, its runs committed again to tables of its own (as test_maintain's `runs_lake`)."""
    shutil.copytree(_template, tmp_path / "lake")
    layout = LakeLayout(tmp_path / "lake")
    iceberg.catalog_file(layout).unlink()
    for table in iceberg.table_defs().values():
        shutil.rmtree(iceberg.location(layout, table) / iceberg.METADATA_DIR, ignore_errors=True)
        shutil.rmtree(iceberg.location(layout, table) / iceberg.DIMENSION_DATA_DIR, ignore_errors=True)
    iceberg.ensure_tables(layout)
    for journal in journals(layout):
        iceberg.commit_run(layout, journal["run_id"], run_files(layout, journal), journal["transform"])
    return layout


def _query(layout: LakeLayout, engine: str, sql: str) -> Any:
    with make_target(layout.root).query_engine(engine) as eng:
        return eng.execute(sql).rows[0][0]


def _customer(layout: LakeLayout) -> int:
    """A customer with sales in the archive, the raw zone and both runs."""
    return int(
        _query(
            layout,
            "lake",
            "SELECT customer_id FROM sales_fact GROUP BY 1 "
            "HAVING min(sale_date) < DATE '2026-06-30' AND max(sale_date) > DATE '2026-06-30' "
            "ORDER BY count(*) DESC, 1 LIMIT 1",
        )
    )


def _line_matches(line: str, customer: int, csv_header: bool) -> bool:
    text = line.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text).get("customer_id")
        except (ValueError, AttributeError):
            return False
        return str(value).strip() == str(customer)
    fields = [f.strip().strip('"').strip() for f in text.split(",")]
    return csv_header and len(fields) > 2 and fields[2] == str(customer)


def _everywhere(layout: LakeLayout, customer: int) -> dict[str, int]:
    """Lines or rows holding the customer, per zone, in every file below the lake root (independently of erase)."""
    found = {"parquet": 0, "warehouse": 0, "raw": 0, "archive": 0, "quarantine": 0}
    con = duckdb.connect()
    for path in layout.root.rglob("*.parquet"):
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
        if "customer_id" in columns:
            found["parquet"] += con.execute(
                f"SELECT count(*) FROM read_parquet('{path}') WHERE customer_id = {customer}"
            ).fetchone()[0]
        if "raw_record" in columns:
            for (line,) in con.execute(f"SELECT raw_record FROM read_parquet('{path}')").fetchall():
                found["quarantine"] += line is not None and _line_matches(line, customer, True)
    for zone, root in (("raw", layout.raw), ("archive", layout.archive)):
        for path in list(root.rglob("*.json")) + list(root.rglob("*.csv")):
            lines = path.read_bytes().decode("utf-8", "replace").splitlines()
            csv = path.suffix == ".csv"
            found[zone] += sum(_line_matches(line, customer, csv) for line in lines[1 if csv else 0 :])
    for path in layout.warehouse_dir.rglob("*.duckdb"):
        db = duckdb.connect(str(path), read_only=True)
        try:
            for (table,) in db.execute(
                "SELECT table_name FROM duckdb_columns() WHERE column_name = 'customer_id' GROUP BY 1"
            ).fetchall():
                found["warehouse"] += db.execute(
                    f'SELECT count(*) FROM "{table}" WHERE customer_id = {customer}'
                ).fetchone()[0]
        finally:
            db.close()
    con.close()
    return found


def _counts(layout: LakeLayout) -> dict[str, int]:
    return {
        "lake": int(_query(layout, "lake", "SELECT count(*) FROM sales_fact")),
        "warehouse": int(_query(layout, "warehouse", "SELECT count(*) FROM sales_fact_redshift")),
        "customers": int(_query(layout, "lake", "SELECT count(*) FROM customers")),
        "warehouse_customers": int(_query(layout, "warehouse", "SELECT count(*) FROM customers")),
        "raw": int(_query(layout, "raw", "SELECT count(*) FROM sales_fact")),
    }


def test_erase_removes_the_customer_from_every_file_of_every_zone_and_keeps_the_rest(lake: LakeLayout) -> None:
    customer = _customer(lake)
    where = f"customer_id = {customer}"
    before = _everywhere(lake, customer)
    assert before["parquet"] and before["warehouse"] and before["raw"] and before["archive"]
    counts = _counts(lake)
    facts = int(_query(lake, "lake", f"SELECT count(*) FROM sales_fact WHERE {where}"))
    wh = int(_query(lake, "warehouse", f"SELECT count(*) FROM sales_fact_redshift WHERE {where}"))

    result = erase(lake, where)

    assert result.ok and result.matching == 0
    assert _everywhere(lake, customer) == dict.fromkeys(before, 0)
    assert _counts(lake) == {
        "lake": counts["lake"] - facts,
        "warehouse": counts["warehouse"] - wh,
        "customers": counts["customers"] - 1,
        "warehouse_customers": counts["warehouse_customers"] - 1,
        "raw": counts["raw"] - facts,  # the raw engine reads raw and archive as run-etl does
    }
    removed = {(z.zone, z.table): z.removed for z in result.zones}
    assert removed[("processed", "sales_fact")] == facts and removed[("warehouse", "sales_fact_redshift")] == wh
    assert removed[("processed", "customers")] == removed[("warehouse", "customers")] == 1
    assert removed[("raw", "sales")] > 0 and removed[("archive", "sales")] > 0
    assert removed[("raw", "sales")] + removed[("archive", "sales")] == before["raw"] + before["archive"]
    assert validate(lake).ok
    assert not journal_file(lake).exists()

    # history: each table erase touched is left with its erase snapshot only
    for name in ("sales_fact", "customers"):
        snapshots = iceberg.history(lake, name).snapshots
        assert [s.snapshot_id for s in snapshots] == [result.snapshots[name]]
    # a dimension's published file is its current snapshot's file (the warehouse load reads it)
    published = lake.processed / "customers" / "customers.parquet"
    assert published.samefile(iceberg.committed_file(lake, "customers"))  # type: ignore[arg-type]

    # the audit record: the columns and counts, never the values
    audit_path = lake.root / str(result.audit)
    audit = json.loads(audit_path.read_text())
    assert audit["columns"] == ["customer_id"] and audit["erase_id"] == result.erase_id
    assert audit["rows"]["processed/sales_fact"] == facts
    assert audit["snapshots"] == {k: v for k, v in result.snapshots.items()}
    assert where not in audit_path.read_text() and "where" not in audit


def test_run_etl_after_erase_takes_nothing_again_and_a_new_round_validates(lake: LakeLayout) -> None:
    customer = _customer(lake)
    erase(lake, f"customer_id = {customer}")
    rows = _counts(lake)["lake"]

    again = run_etl(lake, EtlOptions(run_ts=RUN_TS + timedelta(days=40)))

    assert again.files_in == 0 and again.rows_in == 0 and _counts(lake)["lake"] == rows
    seed(lake, SeedOptions(rows=1_000, days=3, end_date=date(2026, 7, 20), seed=99))
    run_etl(lake, EtlOptions(run_ts=RUN_TS + timedelta(days=41)))
    assert _counts(lake)["lake"] > rows
    assert validate(lake).ok


def test_dry_run_changes_nothing_then_the_cli_erases_with_json_matching_the_audit(lake: LakeLayout) -> None:
    customer = _customer(lake)
    where = f"customer_id = {customer}"
    tree = {p: p.stat().st_mtime_ns for p in lake.root.rglob("*") if p.is_file()}
    planned = runner.invoke(app, ["erase", "--where", where, "--dry-run", "--json", "--lake", str(lake.root)])
    assert planned.exit_code == 0
    assert {p: p.stat().st_mtime_ns for p in lake.root.rglob("*") if p.is_file()} == tree
    assert json.loads(planned.output)["matching"] > 0

    done = runner.invoke(app, ["erase", "--where", where, "--json", "--lake", str(lake.root)])

    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["ok"] and data["remaining"] == 0 and data["removed"] > 0
    audit = json.loads((lake.root / data["audit"]).read_text())
    assert audit["rows"] == {f"{z['zone']}/{z['table']}": z["removed"] for z in data["zones"]}
    assert audit["snapshots"] == data["snapshots"]
    assert sorted(p.name for p in audit_dir(lake).iterdir()) == [f"{data['erase_id']}.json"]


def test_a_predicate_on_a_dimension_column_erases_the_dimension_and_validate_still_balances(lake: LakeLayout) -> None:
    email = _query(lake, "lake", "SELECT email FROM customers ORDER BY customer_id LIMIT 1")
    result = erase(lake, f"email = '{email}'")
    assert result.ok and {(z.zone, z.table) for z in result.zones if z.removed} == {
        ("processed", "customers"),
        ("raw", "customers"),
        ("warehouse", "customers"),
    }
    assert _query(lake, "lake", f"SELECT count(*) FROM customers WHERE email = '{email}'") == 0
    assert validate(lake).ok


# ---------------------------------------------------------------------------------------- kill -9


def _erase_and_die_at(root: str, where: str, point: str) -> None:  # a child process: erase, killed at `point`
    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "after_the_first_table_commit":
        real_commit = iceberg_tables.commit_files

        def commit_then_die(*args, **kwargs):  # type: ignore[no-untyped-def]
            real_commit(*args, **kwargs)
            die()

        iceberg_tables.commit_files = commit_then_die  # type: ignore[assignment]
    elif point == "after_the_first_landing_file":
        real_rewrite = erase_remove._rewrite_lines

        def rewrite_then_die(*args, **kwargs):  # type: ignore[no-untyped-def]
            real_rewrite(*args, **kwargs)
            die()

        erase_remove._rewrite_lines = rewrite_then_die  # type: ignore[assignment]
    elif point == "after_the_warehouse_switch":
        real_switch = warehouse._switch

        def switch_then_die(*args, **kwargs):  # type: ignore[no-untyped-def]
            real_switch(*args, **kwargs)
            die()

        warehouse._switch = switch_then_die  # type: ignore[assignment]
    erase(LakeLayout(Path(root)), where)


@pytest.mark.parametrize(
    "point", ["after_the_first_table_commit", "after_the_first_landing_file", "after_the_warehouse_switch"]
)
def test_erase_killed_leaves_every_zone_readable_and_a_rerun_finishes(lake: LakeLayout, point: str) -> None:
    customer = _customer(lake)
    where = f"customer_id = {customer}"
    counts = _counts(lake)
    facts = int(_query(lake, "lake", f"SELECT count(*) FROM sales_fact WHERE {where}"))
    first = plan(lake, where)
    child = multiprocessing.get_context("fork").Process(target=_erase_and_die_at, args=(str(lake.root), where, point))
    child.start()
    child.join(180)
    assert child.exitcode == -signal.SIGKILL

    assert journal_file(lake).is_file()
    _counts(lake)  # every engine still reads the lake
    checks = {c.name: c.status for c in validate(lake).checks}
    assert checks["iceberg_tables_consistent"] == "pass"
    assert _everywhere(lake, customer) != dict.fromkeys(_everywhere(lake, customer), 0)  # not done yet
    with pytest.raises(UsageError, match="is unfinished"):
        erase(lake, "customer_id = -1")

    result = erase(lake, where)

    assert result.ok and result.recovered
    assert _everywhere(lake, customer) == {"parquet": 0, "warehouse": 0, "raw": 0, "archive": 0, "quarantine": 0}
    assert _counts(lake)["lake"] == counts["lake"] - facts
    assert _counts(lake)["warehouse"] == counts["warehouse"] - facts
    # rows removed are counted from before the kill, not from what the rerun found left
    assert {(z.zone, z.table): z.removed for z in result.zones} == {
        (z.zone, z.table): (z.current_matching if z.zone == "processed" else z.matching) for z in first.zones
    }
    assert validate(lake).ok
    assert not journal_file(lake).exists()
    named = {s.file for s in warehouse.current(lake).segments}  # type: ignore[union-attr]
    assert {p.name for p in warehouse.segments_dir(lake).glob("*.duckdb")} == named  # no old segment left


def _quarantined_customer(layout: LakeLayout) -> int:
    """A customer one of whose lines was quarantined (its customer_id still readable), JSON or CSV."""
    con = duckdb.connect()
    files = [str(p) for p in (layout.root / "quarantine").rglob("*.parquet")]
    for (line,) in con.execute(f"SELECT raw_record FROM read_parquet({files}) ORDER BY raw_record").fetchall():
        text = (line or "").strip()
        candidate = None
        if text.startswith("{"):
            try:
                candidate = json.loads(text).get("customer_id")
            except (ValueError, AttributeError):
                continue
        elif text.count(",") == 10:
            candidate = text.split(",")[2]
        if candidate is not None and str(candidate).strip().isdigit():
            customer = int(str(candidate).strip())
            if _line_matches(line, customer, True):
                return customer
    raise AssertionError("no quarantined line with a readable customer_id")


def test_a_quarantined_line_of_the_customer_is_erased_too(lake: LakeLayout) -> None:
    customer = _quarantined_customer(lake)
    before = _everywhere(lake, customer)
    assert before["quarantine"] > 0

    result = erase(lake, f"customer_id = {customer}")

    assert result.ok
    assert next(z for z in result.zones if z.zone == "quarantine").removed == before["quarantine"]
    assert _everywhere(lake, customer) == dict.fromkeys(before, 0)
    assert validate(lake).ok


def test_a_predicate_on_a_column_raw_files_lack_is_balanced_as_erased(lake: LakeLayout) -> None:
    day = "DATE '2026-07-01'"
    rows = int(_query(lake, "lake", f"SELECT count(*) FROM sales_fact WHERE sale_date = {day}"))
    assert rows > 0

    result = erase(lake, f"sale_date = {day} AND month = 7")

    assert result.ok and {(z.zone, z.table) for z in result.zones} == {
        ("processed", "sales_fact"),
        ("warehouse", "sales_fact_redshift"),
    }
    assert int(_query(lake, "lake", f"SELECT count(*) FROM sales_fact WHERE sale_date = {day}")) == 0
    assert int(_query(lake, "warehouse", f"SELECT count(*) FROM sales_fact_redshift WHERE sale_date = {day}")) == 0
    report = validate(lake)
    reconciliation = next(c for c in report.checks if c.name == "reconciliation")
    assert report.ok and reconciliation.observed["erased"] == rows  # raw still holds those lines: counted as erased


def test_an_ingested_table_holding_the_column_is_refused_before_anything_changes(
    lake: LakeLayout, tmp_path: Path
) -> None:
    from datalake.model import IngestOptions

    source = tmp_path / "loyalty.csv"
    source.write_text("customer_id,points\n1,10\n2,20\n")
    make_target(lake.root).ingest(IngestOptions(table="loyalty", paths=(source,), today=date(2026, 7, 20)))
    tree = {p: p.stat().st_mtime_ns for p in lake.root.rglob("*") if p.is_file()}

    with pytest.raises(UsageError, match="cannot erase ingested tables yet, and processed/loyalty holds customer_id"):
        erase(lake, "customer_id = 1")

    assert {p: p.stat().st_mtime_ns for p in lake.root.rglob("*") if p.is_file() and p.name != "lake.lock"} == {
        p: t for p, t in tree.items() if p.name != "lake.lock"
    }


def test_rows_left_anywhere_mean_a_non_zero_exit_no_audit_and_a_rerun_finishes(
    lake: LakeLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = _customer(lake)
    where = f"customer_id = {customer}"
    monkeypatch.setattr(erase_remove, "_rewrite_lines", lambda *args, **kwargs: None)  # the landing files stay

    failed = runner.invoke(app, ["erase", "--where", where, "--lake", str(lake.root)])

    assert failed.exit_code == 1
    text = " ".join(failed.output.split())
    assert "matching row(s) remain" in text and "Traceback" not in failed.output
    assert journal_file(lake).is_file() and not audit_dir(lake).exists()
    left = _everywhere(lake, customer)
    assert left["raw"] > 0 and left["parquet"] == left["warehouse"] == 0

    monkeypatch.undo()
    done = runner.invoke(app, ["erase", "--where", where, "--lake", str(lake.root)])
    assert done.exit_code == 0, done.output
    assert "Verified" in done.output and _everywhere(lake, customer) == dict.fromkeys(left, 0)
    assert validate(lake).ok

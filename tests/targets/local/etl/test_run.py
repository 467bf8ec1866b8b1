"""The ETL's guarantees: every row accounted for, bad input quarantined, idempotent, crash-safe, locked."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datalake.domain.seed import seed
from datalake.errors import LakeNotFoundError, LockedError
from datalake.layout import LakeLayout
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local.etl.run import journals, run_etl
from datalake.targets.local.lock import lake_lock
from datalake.targets.local.warehouse import fact_reader_sql
from tests.conftest import END_DATE, RUN_TS

OPTS = EtlOptions(run_ts=RUN_TS)
HEADER = "sale_id,channel,customer_id,product_id,store_id,quantity,unit_price,discount,total_amount,payment_method,sale_timestamp\n"


def _scalar(sql: str) -> object:
    return duckdb.connect().execute(sql).fetchall()[0][0]


def _facts(layout: LakeLayout) -> list[Path]:
    return sorted((layout.processed / "sales_fact").rglob("*.parquet"))


def _quarantine(layout: LakeLayout) -> list[dict[str, object]]:
    files = sorted(layout.quarantine.rglob("*.parquet"))
    if not files:
        return []
    rows = duckdb.connect().execute(f"SELECT * FROM read_parquet({[str(f) for f in files]})").fetchall()
    cols = ["source_file", "raw_record", "reason", "detail", "run_id"]
    return [dict(zip(cols, r, strict=False)) for r in rows]


def _count_facts(layout: LakeLayout) -> int:
    return _scalar(f"SELECT count(*) FROM ({fact_reader_sql(_facts(layout))})")


def _day_dir(layout: LakeLayout, day: str = "2026-06-29") -> Path:
    y, m, d = day.split("-")
    folder = layout.raw / "sales" / f"year={y}" / f"month={m}" / f"day={d}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_requires_a_deployed_lake(tmp_path: Path) -> None:
    with pytest.raises(LakeNotFoundError, match="no lake at") as info:
        run_etl(LakeLayout(tmp_path / "nowhere"), OPTS)
    assert "datalake deploy" in str(info.value.hint)


def test_rows_in_equal_processed_plus_quarantined(lake: LakeLayout) -> None:
    seeded = seed(lake, SeedOptions(rows=8_000, days=20, end_date=END_DATE, error_rate=0.02))
    summary = run_etl(lake, OPTS)
    assert summary.rows_in == seeded.rows == summary.rows_processed + summary.rows_quarantined
    assert _count_facts(lake) == summary.rows_processed
    assert len(_quarantine(lake)) == summary.rows_quarantined
    # every injected defect is caught by the rule made for it
    mapping = {"missing_customer_id": "missing_required_field"}
    expected = {mapping.get(k, k): v for k, v in seeded.defects.items()}
    assert summary.by_reason == expected
    assert summary.warehouse_rows_loaded == summary.rows_processed


def test_fact_columns_cover_the_demo_table_and_partitions_follow_dates(processed_lake: LakeLayout) -> None:
    demo_columns = [
        "sale_id",
        "customer_id",
        "product_name",
        "quantity",
        "unit_price",
        "total_amount",
        "region",
        "payment_method",
        "sale_date",
        "sale_timestamp",
        "processing_timestamp",
        "profit_margin",
        "customer_segment",
        "month_name",
        "quarter",
        "day_of_week",
        "year",
        "month",
        "day",
    ]
    con = duckdb.connect()
    con.execute(f"CREATE VIEW f AS {fact_reader_sql(_facts(processed_lake))}")
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE f)").fetchall())
    assert set(demo_columns) <= set(types)
    assert types["total_amount"] == "DECIMAL(12,2)" and types["sale_date"] == "DATE"
    bad = con.execute(
        "SELECT count(*) FROM f WHERE year <> year(sale_date) OR month <> month(sale_date) OR day <> day(sale_date) "
        "OR month_name <> monthname(sale_date) OR day_of_week <> dayname(sale_date) OR quarter <> quarter(sale_date)"
    ).fetchone()[0]
    assert bad == 0
    # the run's time, the same on every row (UTC, stored without a zone)
    stamps = con.execute("SELECT DISTINCT processing_timestamp FROM f").fetchall()
    assert stamps == [(RUN_TS.replace(tzinfo=None),)]
    for path in _facts(processed_lake):
        parts = dict(p.split("=") for p in path.relative_to(processed_lake.processed / "sales_fact").parts[:-1])
        lo, hi = con.execute(f"SELECT min(sale_date), max(sale_date) FROM read_parquet('{path}')").fetchone()
        assert (lo.year, lo.month) == (hi.year, hi.month) == (int(parts["year"]), int(parts["month"]))
        # sorted by the warehouse's sort key inside the file (the date first, so row-group statistics
        # can prune days), which lets the warehouse append the file as it is
        keys = con.execute(f"SELECT sale_date, region, sale_id FROM read_parquet('{path}')").fetchall()
        assert keys == sorted(keys)


def test_second_run_without_new_data_changes_nothing(processed_lake: LakeLayout) -> None:
    before = {p: p.stat().st_mtime_ns for p in processed_lake.root.rglob("*.parquet")}
    summary = run_etl(processed_lake, OPTS)
    assert summary.status == "nothing_to_do" and summary.rows_in == 0
    after = {p: p.stat().st_mtime_ns for p in processed_lake.root.rglob("*.parquet")}
    assert before == after


def test_new_raw_files_are_merged_and_duplicates_across_runs_quarantined(processed_lake: LakeLayout) -> None:
    rows_before = _count_facts(processed_lake)
    seed(processed_lake, SeedOptions(rows=2_000, days=5, end_date=END_DATE, error_rate=0))
    # replay an already-loaded record under a new file name: must not be loaded twice
    old_file = next((processed_lake.raw / "sales").rglob("online-b000-*.json"))
    first_line = old_file.read_text().splitlines()[0]
    (old_file.parent / "replayed.json").write_text(first_line + "\n")
    summary = run_etl(processed_lake, OPTS)
    assert summary.rows_in == 2_001
    assert summary.by_reason == {"duplicate_sale_id": 1}
    assert _count_facts(processed_lake) == rows_before + 2_000


def test_malformed_files_do_not_stop_the_run(lake: LakeLayout) -> None:
    seed(lake, SeedOptions(rows=1_000, days=3, end_date=END_DATE, error_rate=0))
    folder = _day_dir(lake)
    good = {
        "sale_id": 900000001,
        "channel": "online",
        "customer_id": 1,
        "product_id": 1,
        "store_id": None,
        "quantity": 1,
        "discount": 0,
        "payment_method": "paypal",
        "sale_timestamp": "2026-06-29T10:00:00",
    }
    price = _scalar(f"SELECT list_price FROM read_csv('{lake.raw}/products/products.csv') WHERE product_id = 1")
    good.update(unit_price=float(price), total_amount=float(price))  # type: ignore[arg-type]
    truncated = json.dumps(good) + "\n" + json.dumps({**good, "sale_id": 900000002})[:40]
    (folder / "truncated.json").write_text(truncated)
    (folder / "notobject.json").write_text("[1, 2, 3]\n")
    (folder / "empty.json").write_text("")
    (folder / "columns.csv").write_text(
        HEADER + "900000003,store,1,1,1,1,10.00,0,10.00,cash\n"  # one column short
        "900000004,store,1,1,1,abc,10.00,0,10.00,cash,2026-06-29T11:00:00\n"  # unparseable quantity
    )
    (folder / "latin1.csv").write_bytes(
        HEADER.encode() + "900000005,store,1,1,1,1,10.00,0,10.00,caf\xe9,2026-06-29T11:00:00\n".encode("latin-1")
    )
    summary = run_etl(lake, OPTS)
    assert summary.balanced
    assert summary.rows_in == 1_000 + 2 + 1 + 2 + 1
    assert summary.rows_processed == 1_000 + 1
    problems = {b["file"].rsplit("/", 1)[-1]: b["problems"] for b in summary.bad_files}
    assert set(problems) == {"truncated.json", "notobject.json", "empty.json", "columns.csv", "latin1.csv"}
    assert "empty_file" in problems["empty.json"]
    quarantined = {(q["source_file"].rsplit("/", 1)[-1], q["reason"]) for q in _quarantine(lake)}
    assert ("truncated.json", "malformed_record") in quarantined
    assert ("notobject.json", "malformed_record") in quarantined
    assert ("columns.csv", "malformed_record") in quarantined
    assert ("columns.csv", "unparseable_value") in quarantined
    assert ("latin1.csv", "malformed_record") in quarantined
    originals = [q["raw_record"] for q in _quarantine(lake) if q["source_file"].endswith("truncated.json")]
    assert originals == [truncated.splitlines()[1]]


def test_unreadable_lines_are_quarantined_once_each_across_batches(
    lake: LakeLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datalake.targets.local.etl import duckdb_engine as etl_duckdb
    from datalake.targets.local.validate import validate

    every_month_alone = etl_duckdb.batches
    monkeypatch.setattr(etl_duckdb, "batches", lambda files, max_bytes: every_month_alone(files, max_bytes, 0))
    seeded = seed(lake, SeedOptions(rows=1_000, days=40, end_date=END_DATE, error_rate=0))
    sale = "store,1,1,1,1,10.00,0,10.00,{},2026-06-29T11:00:00"
    # one line the reader rejects in each of two batches (May, June), and a June file whose lines end
    # three ways, which DuckDB's reader cannot read at all
    _day_dir(lake, "2026-05-29").joinpath("bytes.csv").write_bytes(
        (HEADER + "900000001," + sale.format("caf\xe9") + "\n").encode("latin-1")
    )
    _day_dir(lake).joinpath("bytes.csv").write_bytes((HEADER + "900000002," + sale.format("a\x1eb") + "\n").encode())
    lines = [f"90000000{i}," + sale.format("cash") for i in (3, 4, 5)]
    _day_dir(lake).joinpath("mixed.csv").write_bytes(
        (HEADER.strip() + "\r\n" + lines[0] + "\n" + lines[1] + "\r" + lines[2]).encode()
    )
    summary = run_etl(lake, OPTS)
    assert summary.rows_in == seeded.rows + 2 + 3 == summary.rows_processed + summary.rows_quarantined
    unreadable = sorted((q["raw_record"], q["detail"]) for q in _quarantine(lake) if "bytes.csv" in q["source_file"])
    assert unreadable == [
        ("900000001," + sale.format("caf\ufffd"), "invalid encoding: the line is not valid UTF-8"),
        ("900000002," + sale.format("a\x1eb"), "unreadable line: it holds the control character 0x1E"),
    ]
    facts = _scalar(f"SELECT list(sale_id ORDER BY sale_id) FROM ({fact_reader_sql(_facts(lake))}) WHERE sale_id > 9e8")
    assert facts == [900000003, 900000004, 900000005]
    # the raw count behind validate's reconciliation reads the same lines
    assert validate(lake, today=END_DATE).ok


@pytest.mark.parametrize(
    "line,reason",
    [
        ("1,store,1,1,1,0,10.00,0,0.00,cash,2026-06-29T11:00:00", "non_positive_quantity"),
        ("2,store,1,1,1,1,-1.00,0,-1.00,cash,2026-06-29T11:00:00", "non_positive_unit_price"),
        ("3,store,1,1,1,2,10.00,0,25.00,cash,2026-06-29T11:00:00", "inconsistent_total_amount"),
        ("4,store,1,1,1,1,10.00,0,10.00,cash,2026-07-05T11:00:00", "future_date"),
        ("5,store,999999,1,1,1,10.00,0,10.00,cash,2026-06-29T11:00:00", "unknown_customer_id"),
        ("6,store,1,999999,1,1,10.00,0,10.00,cash,2026-06-29T11:00:00", "unknown_product_id"),
        ("7,store,1,1,999999,1,10.00,0,10.00,cash,2026-06-29T11:00:00", "unknown_store_id"),
        ("8,kiosk,1,1,1,1,10.00,0,10.00,cash,2026-06-29T11:00:00", "invalid_channel"),
        ("9,store,,1,1,1,10.00,0,10.00,cash,2026-06-29T11:00:00", "missing_required_field"),
        ("10,store,1,1,1,1,10.00,1.5,10.00,cash,2026-06-29T11:00:00", "invalid_discount"),
        # integers are digits: DuckDB's own cast would round 1.5 to 2 and read 0x10 as 16
        ("11,store,1,1,1,1.5,10.00,0,15.00,cash,2026-06-29T11:00:00", "unparseable_value"),
        ("0x10,store,1,1,1,1,10.00,0,10.00,cash,2026-06-29T11:00:00", "unparseable_value"),
        ("11,store,1,1,1,1,10.00,0,10.00,cash,not-a-date", "unparseable_value"),
    ],
)
def test_each_quality_rule_quarantines_with_its_reason(lake: LakeLayout, line: str, reason: str) -> None:
    seed(lake, SeedOptions(rows=10, days=1, end_date=END_DATE, error_rate=0))
    (_day_dir(lake) / "one.csv").write_text(HEADER + line + "\n")
    summary = run_etl(lake, OPTS)
    assert summary.by_reason == {reason: 1}
    (row,) = [q for q in _quarantine(lake)]
    assert row["reason"] == reason and row["detail"]
    assert row["raw_record"] == line  # the original CSV line, exactly as it arrived


def test_integers_with_a_sign_leading_zeros_or_blanks_are_read(lake: LakeLayout) -> None:
    seed(lake, SeedOptions(rows=10, days=1, end_date=END_DATE, error_rate=0))
    price = _scalar(f"SELECT list_price FROM read_csv('{lake.raw}/products/products.csv') WHERE product_id = 1")
    (_day_dir(lake) / "one.csv").write_text(
        HEADER + f"+12,store,007,1,1, 2 ,{price},0,{2 * price},cash,2026-06-29T11:00:00\n"
    )
    summary = run_etl(lake, OPTS)
    assert summary.by_reason == {}
    row = _scalar(f"SELECT [sale_id, customer_id, quantity] FROM ({fact_reader_sql(_facts(lake))}) WHERE sale_id = 12")
    assert row == [12, 7, 2]


def _run_and_kill_at(root: str, stage: str) -> None:  # runs in a child process
    import datalake.targets.local.etl.run as etl

    real = {"publish": etl._publish, "warehouse": etl._load_warehouse}
    if stage == "transform":
        from datalake.targets.local.etl.duckdb_engine import DuckDBTransformEngine

        original = DuckDBTransformEngine.run

        def run_then_die(self, job, progress):  # type: ignore[no-untyped-def]
            original(self, job, progress)
            os.kill(os.getpid(), signal.SIGKILL)

        DuckDBTransformEngine.run = run_then_die  # type: ignore[method-assign]
    elif stage == "publish":

        def publish_half(layout, journal):  # type: ignore[no-untyped-def]
            moves = journal["moves"]
            half = dict(journal, moves=moves[: len(moves) // 2])
            staging = layout.staging / journal["run_id"]
            for rel in half["moves"]:
                dst = layout.root / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, dst)
            os.kill(os.getpid(), signal.SIGKILL)

        etl._publish = publish_half  # type: ignore[assignment]
    elif stage == "warehouse":

        def die(layout, journal):  # type: ignore[no-untyped-def]
            os.kill(os.getpid(), signal.SIGKILL)

        etl._load_warehouse = die  # type: ignore[assignment]
    assert real
    etl.run_etl(LakeLayout(Path(root)), OPTS)


@pytest.mark.parametrize("stage", ["transform", "publish", "warehouse"])
def test_killed_run_is_completed_by_the_next_without_loss_or_duplicates(lake: LakeLayout, stage: str) -> None:
    seed(lake, SeedOptions(rows=3_000, days=10, end_date=END_DATE, error_rate=0.01))
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_run_and_kill_at, args=(str(lake.root), stage))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    summary = run_etl(lake, OPTS)
    processed = _count_facts(lake)
    quarantined = len(_quarantine(lake))
    assert processed + quarantined == 3_000
    ids = _scalar(f"SELECT count(*) - count(DISTINCT sale_id) FROM ({fact_reader_sql(_facts(lake))})")
    assert ids == 0
    from datalake.targets.local.warehouse import table_counts

    assert table_counts(lake)["sales_fact_redshift"] == processed
    assert summary.recovered
    assert not any(lake.staging.iterdir())
    assert {j["status"] for j in journals(lake)} <= {"loaded", "abandoned"}


def test_a_second_concurrent_run_fails_clearly(lake: LakeLayout) -> None:
    with lake_lock(lake, purpose="test holder"), pytest.raises(LockedError, match="locked by test holder"):
        run_etl(lake, OPTS)


def test_a_second_run_can_wait_for_the_lock(lake: LakeLayout) -> None:
    seed(lake, SeedOptions(rows=100, days=1, end_date=END_DATE))
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()

    def hold() -> None:
        with lake_lock(lake, purpose="holder"):
            ready.set()
            time.sleep(1.5)

    holder = ctx.Process(target=hold)
    holder.start()
    assert ready.wait(10)
    summary = run_etl(lake, EtlOptions(run_ts=RUN_TS, wait=30))
    holder.join()
    assert summary.rows_in == 100


def test_raw_files_stay_in_raw(processed_lake: LakeLayout) -> None:
    assert any((processed_lake.raw / "sales").rglob("*.json"))
    shutil.rmtree(processed_lake.warehouse_dir)
    # a lost warehouse is rebuilt from the run journals on the next run
    run_etl(processed_lake, OPTS)
    from datalake.targets.local.warehouse import table_counts

    assert table_counts(processed_lake)["sales_fact_redshift"] == _count_facts(processed_lake)


def _warehouse_order(layout: LakeLayout) -> tuple[int, int]:
    """(partitions loaded, rows stored before a row with a smaller sort key) of the warehouse fact table.

    Stored order: the generation's segments in load order, each in its own row order.
    """
    from datalake.targets.local.warehouse import open_snapshot

    snap = open_snapshot(layout)
    stored = " UNION ALL ".join(
        f"SELECT {i} AS segment, rowid AS r, year, month, sale_date, region, sale_id FROM {alias}.sales_fact_redshift"
        for i, alias in enumerate(snap.aliases)
    )
    try:
        months, unsorted = snap.con.execute(
            "SELECT count(DISTINCT (year, month)), count(*) FILTER (WHERE key < previous) FROM ("
            "SELECT year, month, (sale_date, region, sale_id) AS key, "
            f"lag((sale_date, region, sale_id)) OVER (ORDER BY segment, r) AS previous FROM ({stored}))"
        ).fetchone()
    finally:
        snap.con.close()
    return months, unsorted


def test_warehouse_load_is_in_sort_key_order_across_partitions(shared_processed_lake: LakeLayout) -> None:
    months, unsorted = _warehouse_order(shared_processed_lake)
    assert months >= 2  # the load spans several partitions
    assert unsorted == 0


def test_a_lake_written_before_the_fact_sort_key_is_sorted_by_the_warehouse(processed_lake: LakeLayout) -> None:
    from datalake.targets.local.etl import run as etl

    # as the engines wrote fact files before: by time, so a date's regions are interleaved
    con = duckdb.connect()
    for path in _facts(processed_lake):
        tmp = path.with_suffix(".tmp")
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{path}') ORDER BY sale_timestamp, sale_id) TO '{tmp}' (FORMAT parquet)"
        )
        tmp.replace(path)
    for journal in journals(processed_lake):  # and their runs' journals did not say how files are sorted
        journal.pop("fact_sort")
        etl.run_journal(processed_lake).write(journal)
    shutil.rmtree(processed_lake.warehouse_dir)
    run_etl(processed_lake, OPTS)  # reloads the lost warehouse from the journals
    months, unsorted = _warehouse_order(processed_lake)
    assert months >= 2 and unsorted == 0  # appended as they are, these files would leave regions interleaved


def test_fact_files_are_appended_unsorted_only_when_their_dates_are_apart(tmp_path: Path) -> None:
    from datalake.targets.local.warehouse import in_sort_order

    def fact_file(name: str, days: list[str]) -> Path:
        path = tmp_path / f"{name}.parquet"
        table = pa.table({"sale_date": [date.fromisoformat(d) for d in days], "region": ["West"] * len(days)})
        pq.write_table(table, path, row_group_size=1)  # one row group per row: the check reads their statistics
        return path

    con = duckdb.connect()
    june, may = fact_file("june", ["2026-06-01", "2026-06-30"]), fact_file("may", ["2026-05-02", "2026-05-31"])
    assert in_sort_order(con, [june, may]) == [may, june]  # read by first date, whatever the listed order
    overlapping = fact_file("overlap", ["2026-05-20", "2026-06-02"])
    assert in_sort_order(con, [june, overlapping]) is None
    touching = fact_file("touch", ["2026-05-31"])  # same date: the region and sale_id order is unknown
    assert in_sort_order(con, [may, touching]) is None
    unsorted = fact_file("unsorted", ["2026-07-09", "2026-07-01"])
    assert in_sort_order(con, [unsorted]) is None


def test_fact_files_are_grouped_by_partition_in_time_order() -> None:
    from datalake.targets.local.warehouse import by_partition

    base = Path("/lake/processed/sales_fact")
    files = [base / "year=2026/month=10/a.parquet", base / "year=2026/month=2/b.parquet"]
    files += [base / "year=2025/month=12/c.parquet", base / "year=2026/month=2/d.parquet"]
    assert by_partition(files) == [[files[2]], [files[1], files[3]], [files[0]]]


def test_a_batch_spanning_two_partitions_writes_each_row_under_its_own_month(
    lake: LakeLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datalake.targets.local.etl import duckdb_engine as etl_duckdb

    every_month_alone = etl_duckdb.batches
    monkeypatch.setattr(etl_duckdb, "batches", lambda files, max_bytes: every_month_alone(files, max_bytes, 0))
    seeded = seed(lake, SeedOptions(rows=3_000, days=40, end_date=END_DATE))
    # a June file filed under May: its batch (one raw month folder) now holds rows of two months
    june = sorted((lake.raw / "sales" / "year=2026" / "month=06").rglob("*.json"))[0]
    may_day = next((lake.raw / "sales" / "year=2026" / "month=05").iterdir())
    shutil.move(june, may_day / f"moved-{june.name}")
    summary = run_etl(lake, OPTS)
    assert summary.rows_in == seeded.rows == summary.rows_processed + summary.rows_quarantined
    folders = {(p.parent.parent.name, p.parent.name) for p in _facts(lake)}
    assert folders == {("year=2026", "month=5"), ("year=2026", "month=6")}
    misplaced = _scalar(f"SELECT count(*) FROM ({fact_reader_sql(_facts(lake))}) WHERE month(sale_timestamp) <> month")
    assert misplaced == 0
    assert _count_facts(lake) == summary.rows_processed
    # June now has two files (from the May and June batches) whose dates overlap: the warehouse sorts
    # them instead of appending them
    assert len([p for p in _facts(lake) if p.parent.name == "month=6"]) == 2
    assert _warehouse_order(lake) == (2, 0)


def test_batches_join_small_months_and_keep_large_months_alone(tmp_path: Path) -> None:
    from datalake.targets.local.etl.duckdb_engine import batches

    def raw_file(month: int, day: int, size: int) -> Path:
        folder = tmp_path / "sales" / "year=2026" / f"month={month:02d}" / f"day={day:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "part.csv"
        path.write_bytes(b"x" * size)
        return path

    small = [raw_file(1, 1, 30), raw_file(2, 1, 30), raw_file(3, 1, 30), raw_file(4, 1, 30)]
    large = [raw_file(5, 1, 100), raw_file(5, 2, 100), raw_file(6, 1, 100)]
    groups = list(batches(small + large, max_bytes=150, min_bytes=60))
    # small months join until a batch holds 60 bytes; a batch never takes a file past 150 bytes
    assert groups == [small[:2], small[2:], [large[0]], [large[1]], [large[2]]]
    # with room for them, months are kept whole and never mixed once a batch holds min_bytes
    assert list(batches(small + large, max_bytes=1_000, min_bytes=60)) == [small[:2], small[2:], large[:2], [large[2]]]


def test_small_partitions_are_loaded_together_in_time_order(tmp_path: Path) -> None:
    from datalake.targets.local.warehouse import by_partition

    def fact_file(year: int, month: int, size: int) -> Path:
        folder = tmp_path / "sales_fact" / f"year={year}" / f"month={month}"
        folder.mkdir(parents=True)
        path = folder / "part-0.parquet"
        path.write_bytes(b"x" * size)
        return path

    files = [fact_file(2026, 10, 50), fact_file(2026, 2, 20), fact_file(2025, 12, 20), fact_file(2026, 3, 10)]
    # December and February reach 40 bytes together; March and October start the next group
    assert by_partition(files, min_bytes=40) == [[files[2], files[1]], [files[3], files[0]]]


def test_staged_files_move_into_place_and_a_repeat_finishes_the_rest(tmp_path: Path) -> None:
    from datalake.fsutil import move_staged, staged_files

    staging, root = tmp_path / "staging", tmp_path / "lake"
    for rel in ("processed/t/year=2026/a.parquet", "processed/t/year=2026/b.parquet", "processed/d/d.parquet"):
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / rel).write_text(rel)
    moves = staged_files(staging)
    assert moves == ["processed/d/d.parquet", "processed/t/year=2026/a.parquet", "processed/t/year=2026/b.parquet"]
    move_staged(staging, root, moves[:1])  # a publish interrupted after its first rename
    move_staged(staging, root, moves)
    assert [(root / rel).read_text() for rel in moves] == moves
    assert staged_files(staging) == []

"""The shared DuckDB helpers: connections and the raw JSON and CSV line readers."""

from __future__ import annotations

from pathlib import Path

from datalake.domain.duckdb_sql import connect, csv_records_sql, fetch_rejects, has_mixed_line_ends, json_records_sql
from datalake.domain.transform import ENCODING_ERROR, SEPARATOR_ERROR
from datalake.layout import LakeLayout
from datalake.targets.local.etl.duckdb_engine import connect as etl_connect
from datalake.targets.local.warehouse import connect as warehouse_connect


def test_connections_never_print_duckdbs_own_progress_bar(tmp_path: Path) -> None:
    # DuckDB draws its bar on stdout, which would corrupt `--json` output of a long command
    for con in (connect(), etl_connect(tmp_path / "scratch"), warehouse_connect(LakeLayout(tmp_path / "lake"))):
        try:
            assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0] is False
        finally:
            con.close()


def test_each_json_line_is_a_record_or_a_parse_error(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    path = raw / "a.json"
    lines = [
        b'{"sale_id": 1}',
        b'\t {"sale_id": 2}',
        b"[1,2]",
        b"123",
        b'{"sale_id": ',
        b"null",
        b"",
        b'{"sale_id": 4}',
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    # the same lines ended three ways: DuckDB's reader cannot take the file, Python splits it the same way
    mixed = raw / "b.json"
    mixed.write_bytes(b"".join(line + end for line, end in zip(lines, [b"\r\n", b"\n", b"\r"] * 3, strict=False)))
    assert has_mixed_line_ends(mixed) and not has_mixed_line_ends(path)
    con = connect()
    query = "SELECT _source_file, _raw_record, _parse_error, r_sale_id FROM ({}) ORDER BY _source_file"
    rows = con.execute(query.format(json_records_sql(con, [path, mixed], [raw], True))).fetchall()
    assert rows[len(lines) :] == [("b.json", *row[1:]) for row in rows[: len(lines)]]
    assert rows[: len(lines)] == [
        ("a.json", '{"sale_id": 1}', None, "1"),
        ("a.json", '\t {"sale_id": 2}', None, "2"),  # blanks before the object are still an object
        ("a.json", "[1,2]", "not a JSON object", None),
        ("a.json", "123", "not a JSON object", None),
        ("a.json", '{"sale_id": ', "invalid JSON", None),
        ("a.json", "null", "not a JSON object", None),
        ("a.json", None, "not a JSON object", None),  # an empty line: the Spark job says the same
        ("a.json", '{"sale_id": 4}', None, "4"),
    ]


def test_each_csv_line_is_its_own_raw_record_split_into_fields_or_a_parse_error(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    ten = ",".join(str(i) for i in range(2, 11))  # fields 2..10
    lines = [
        "sale_id,channel,...",  # the header: skipped in every file
        f"1,{ten},2026-06-29T11:00:00",
        "",  # blank lines are no records
        f'"1,5",{ten},"say ""hi"""',  # quoted: commas and doubled quotes inside
        f',{ten},"2"',  # an empty first field before a quoted one
        f"3,{ten},",  # an empty last field
        "4,store,5",
        f'5,{ten},"unterminated',
        f'7,{ten},"a field over',  # a quoted field spanning two lines: two malformed lines, no record
        'two lines"',
        "   ",
    ]
    (raw / "a.csv").write_bytes("\r\n".join(lines).encode() + b"\r\n")  # Windows line ends
    (raw / "b.csv").write_text(f"header\n6,{ten},x\n")
    con = connect()
    sql = csv_records_sql(con, [raw / "a.csv", raw / "b.csv"], [raw], True)
    rows = con.execute(
        f"SELECT _source_file, _raw_record, _parse_error, r_sale_id, r_store_id, r_sale_timestamp FROM ({sql})"
    )
    assert rows.fetchall() == [
        ("a.csv", f"1,{ten},2026-06-29T11:00:00", None, "1", "5", "2026-06-29T11:00:00"),
        ("a.csv", f'"1,5",{ten},"say ""hi"""', None, "1,5", "5", 'say "hi"'),
        ("a.csv", f',{ten},"2"', None, "", "5", "2"),
        ("a.csv", f"3,{ten},", None, "3", "5", ""),
        ("a.csv", "4,store,5", "malformed CSV row: expected 11 fields, found 3", None, None, None),
        ("a.csv", f'5,{ten},"unterminated', "malformed CSV row: unbalanced quotes", None, None, None),
        ("a.csv", f'7,{ten},"a field over', "malformed CSV row: unbalanced quotes", None, None, None),
        ("a.csv", 'two lines"', "malformed CSV row: unbalanced quotes", None, None, None),
        ("b.csv", f"6,{ten},x", None, "6", "5", "x"),
    ]


def test_lines_the_reader_rejects_are_fetched_once_with_their_original_text(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    first, second = raw / "a.csv", raw / "b.csv"
    first.write_bytes(b"header\r\n1,caf\xe9,x\r\n2,ok\r\n")
    second.write_bytes(b"header\n3,one\x1etwo\n")
    con = connect()
    for path in (first, second):
        con.execute(f"SELECT count(_raw_record) FROM ({csv_records_sql(con, [path], [raw], True)})").fetchall()
        rejects = [(Path(file).name, line, text, detail) for file, line, text, detail in fetch_rejects(con)]
        # each read's own rejects only (DuckDB keeps them all in the connection), and the line as it is
        # in the file: undecodable bytes as U+FFFD, and the comma after them kept (DuckDB's copy loses it)
        assert rejects == (
            [("a.csv", 2, "1,caf\ufffd,x", ENCODING_ERROR)]
            if path == first
            else [("b.csv", 2, "3,one\x1etwo", SEPARATOR_ERROR)]
        )
    assert fetch_rejects(con) == []

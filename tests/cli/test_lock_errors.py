"""Every command against a held lake lock: writers fail with one line naming the holder; readers answer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.layout import LakeLayout
from datalake.targets.local.lock import lake_lock

# args after the command name ({lake} and {file} filled in), for the writers ...
WRITERS = {
    "seed": ["--rows", "100"],
    "run-etl": [],
    "ingest": ["{file}", "--table", "orders"],
    "archive": ["--older-than", "0"],
    "destroy": ["--yes"],
    "run-job": ["customer_aggregates"],
    "demo": ["--rows", "1000"],
    "maintain": ["--expire-older-than", "0s"],
    "erase": ["--where", "customer_id = 1"],
}
# ... and for the readers, which never take the lock
READERS = {
    "deploy": [],
    "status": [],
    "history": ["sales_fact"],
    "query": ["SELECT count(*) FROM sales_fact"],
    "validate": [],
    "benchmark": ["--queries", "simple_aggregation", "--repeat", "1", "--no-chart"],
    "report": [],
    "cost-report": [],
    "erase": ["--where", "customer_id = 1", "--dry-run"],  # a writer without --dry-run (above)
}


def _invoke(layout: LakeLayout, command: str, args: list[str], source: Path) -> tuple[int, str]:
    filled = [a.format(file=source) for a in args]
    result = CliRunner().invoke(app, [command, *filled, "--lake", str(layout.root)])
    return result.exit_code, result.output


def test_every_command_is_either_a_writer_or_a_reader() -> None:
    commands = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}  # type: ignore[union-attr]
    assert commands == set(WRITERS) | set(READERS)


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_a_writer_against_a_held_lock_fails_with_one_line(
    processed_lake: LakeLayout, tmp_path: Path, command: str
) -> None:
    source = tmp_path / "orders.csv"
    source.write_text("order_id,amount\n1,2.5\n")
    with lake_lock(processed_lake, purpose="run-etl"):
        code, output = _invoke(processed_lake, command, WRITERS[command], source)
    assert code == 1, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert errors == [
        f"Error: the lake at {processed_lake.root} is locked by run-etl (pid {os.getpid()} on "
        + errors[0].split(" on ", 1)[1]
    ]
    assert ", since 20" in errors[0]
    assert "Hint: wait for it to finish, or pass --wait SECONDS" in output
    assert "Traceback" not in output
    assert processed_lake.exists()  # destroy deleted nothing


def test_a_writer_with_wait_says_how_long_it_waited(processed_lake: LakeLayout, tmp_path: Path) -> None:
    with lake_lock(processed_lake, purpose="ingest orders"):
        code, output = _invoke(processed_lake, "archive", ["--wait", "0.2"], tmp_path)
    assert code == 1
    assert "is locked by ingest orders (pid" in output and "(waited 0s)" in output


@pytest.mark.parametrize("command", sorted(READERS))
def test_a_reader_answers_while_a_writer_holds_the_lake(
    processed_lake: LakeLayout, tmp_path: Path, command: str
) -> None:
    with lake_lock(processed_lake, purpose="run-etl"):
        code, output = _invoke(processed_lake, command, READERS[command], tmp_path)
    assert code == 0, output
    assert "locked" not in output


@pytest.mark.parametrize(
    ("sql", "engine", "message"),
    [
        (
            "COPY (SELECT 42) TO '{out}'",
            "lake",
            "Error: lake: COPY statements are not allowed; queries only read the lake",
        ),
        ("SELECT * FROM read_text('/etc/hostname')", "raw", "Error: raw: cannot read /etc/hostname: queries may read"),
        ("INSTALL httpfs", "warehouse", "Error: warehouse: INSTALL/LOAD statements are not allowed"),
    ],
)
def test_a_refused_query_is_one_line(
    shared_processed_lake: LakeLayout, tmp_path: Path, sql: str, engine: str, message: str
) -> None:
    out = tmp_path / "x.csv"
    args = ["query", sql.format(out=out), "--engine", engine, "--lake", str(shared_processed_lake.root)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert next(line for line in result.output.splitlines() if line.startswith("Error:")).startswith(message)
    assert "Hint:" in result.output and "Traceback" not in result.output
    assert not out.exists()

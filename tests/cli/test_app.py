"""The real `datalake` command, end to end, in a temp dir; plus error handling and --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from tests.paths import REPO

runner = CliRunner()


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "datalake.cli.app", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_demo_end_to_end_in_a_fresh_directory(tmp_path: Path) -> None:
    proc = run("demo", "--rows", "20000", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    etl = result["run_etl"]
    assert etl["rows_in"] == 20_000 == etl["rows_processed"] + etl["rows_quarantined"]
    assert result["validate"]["ok"] is True
    assert (tmp_path / "lake" / "processed" / "sales_fact").is_dir()
    assert [q["engine"] for q in result["queries"]] == ["lake", "warehouse"]
    assert all(q["rows"] for q in result["queries"])


def test_step_by_step_with_env_lake_and_json(tmp_path: Path) -> None:
    env = {"DATALAKE_HOME": str(tmp_path / "mylake")}
    deployed = json.loads(run("deploy", "--json", cwd=tmp_path, env=env).stdout)
    assert deployed["lake_root"] == str(tmp_path / "mylake") and deployed["created"] is True
    again = json.loads(run("deploy", "--json", cwd=tmp_path, env=env).stdout)
    assert again["created"] is False
    seeded = json.loads(
        run("seed", "--rows", "3000", "--days", "5", "--end-date", "2026-06-30", "--json", cwd=tmp_path, env=env).stdout
    )
    assert seeded["rows"] == 3000 and seeded["last_date"] == "2026-06-30"
    etl = run("run-etl", "--json", cwd=tmp_path, env=env)
    assert etl.returncode == 0, etl.stderr
    assert json.loads(etl.stdout)["rows_in"] == 3000
    for engine in ("lake", "warehouse", "raw"):
        out = run("query", "SELECT count(*) AS n FROM sales_fact", "--engine", engine, "--json", cwd=tmp_path, env=env)
        assert out.returncode == 0, out.stderr
        rows = json.loads(out.stdout)["rows"]
        assert rows == [{"n": json.loads(etl.stdout)["rows_processed"]}]
    csv_out = run("query", "SELECT region, count(*) AS n FROM sales_fact GROUP BY 1 ORDER BY 1", "--csv", env=env)
    assert csv_out.stdout.splitlines()[0] == "region,n"
    status = json.loads(run("status", "--json", env=env).stdout)
    assert status["zones"]["processed"]["files"] > 0
    assert {t["table"] for t in status["tables"]} >= {"sales", "sales_fact", "customers"}
    validate = run("validate", "--json", env=env)
    assert validate.returncode == 0 and json.loads(validate.stdout)["ok"] is True
    destroyed = run("destroy", "--yes", "--json", env=env)
    assert destroyed.returncode == 0 and not (tmp_path / "mylake").exists()


# Run in a fresh interpreter that knows nothing of datalake: the catalog JSON from `deploy --json` is all it has.
_PYICEBERG_READER = """
import json, sys
from pyiceberg.catalog import load_catalog
info = json.loads(sys.stdin.read())["iceberg_catalog"]
table = load_catalog(info["name"], **info["properties"]).load_table((info["namespace"], "sales_fact"))
print(json.dumps({"rows": table.scan().to_arrow().num_rows, "snapshot": table.current_snapshot().snapshot_id}))
"""


def test_iceberg_tables_open_from_deploy_json_alone_and_history_names_the_runs(tmp_path: Path) -> None:
    env = {"DATALAKE_HOME": str(tmp_path / "lake")}
    deployed = run("deploy", "--json", cwd=tmp_path, env=env)
    info = json.loads(deployed.stdout)["iceberg_catalog"]
    assert info["name"] == "datalake" and info["namespace"] == "processed"
    assert info["properties"]["type"] == "sql" and info["properties"]["uri"].startswith("sqlite:///")
    empty = json.loads(run("history", "sales_fact", "--json", env=env).stdout)
    assert empty == {"table": "sales_fact", "snapshots": []}

    run("seed", "--rows", "2000", "--days", "3", "--end-date", "2026-06-30", env=env)
    etl = json.loads(run("run-etl", "--json", env=env).stdout)
    reader = subprocess.run(
        [sys.executable, "-c", _PYICEBERG_READER],
        input=deployed.stdout,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("DATALAKE_")},
    )
    assert reader.returncode == 0, reader.stderr
    counted = json.loads(run("query", "SELECT count(*) AS n FROM sales_fact", "--json", env=env).stdout)["rows"]
    assert json.loads(reader.stdout)["rows"] == counted[0]["n"] == etl["rows_processed"]

    history = json.loads(run("history", "sales_fact", "--json", env=env).stdout)
    (snap,) = history["snapshots"]
    assert (
        snap["run_id"] == etl["run_id"]
        and snap["current"]
        and snap["snapshot_id"] == json.loads(reader.stdout)["snapshot"]
    )
    assert (snap["added_rows"], snap["rows_in"], snap["rows_quarantined"]) == (
        etl["rows_processed"],
        etl["rows_in"],
        etl["rows_quarantined"],
    )
    as_of = run("query", "SELECT count(*) AS n FROM sales_fact", "--as-of", str(snap["snapshot_id"]), "--json", env=env)
    assert as_of.returncode == 0, as_of.stderr
    assert json.loads(as_of.stdout)["rows"] == counted
    text = run("history", "customers", env={**env, "COLUMNS": "200"})
    assert text.returncode == 0 and etl["run_id"] in text.stdout and "append" in text.stdout
    unknown = run("history", "nope", env=env)
    assert unknown.returncode != 0 and "no table 'nope'" in unknown.stderr and "Traceback" not in unknown.stderr


def test_datalake_toml_sets_the_lake_and_flags_win(tmp_path: Path) -> None:
    (tmp_path / "datalake.toml").write_text('[datalake]\nlake = "from_toml"\n')
    out = json.loads(run("deploy", "--json", cwd=tmp_path).stdout)
    assert out["lake_root"] == str(tmp_path / "from_toml")
    out = json.loads(run("deploy", "--json", "--lake", str(tmp_path / "flag"), cwd=tmp_path).stdout)
    assert out["lake_root"] == str(tmp_path / "flag")


@pytest.mark.parametrize(
    "args,message",
    [
        (["seed", "--rows", "-5"], "--rows must be at least 1"),
        (["seed", "--rows", "10", "--end-date", "yesterday"], "--end-date must be YYYY-MM-DD"),
        (["run-etl", "--engine", "pandas"], "unknown --engine 'pandas'"),
        (["query", "SELECT 1", "--engine", "oracle"], "unknown --engine 'oracle'"),
        (["status"], "no lake at"),
        (["run-etl", "--target", "gcp"], "unknown target 'gcp'"),
    ],
)
def test_bad_input_gives_one_clear_line_and_no_traceback(tmp_path: Path, args: list[str], message: str) -> None:
    lake = tmp_path / "lake"
    if args[0] in ("seed", "run-etl", "query") and "gcp" not in args:
        run("deploy", "--lake", str(lake))
    proc = run(*args, "--lake", str(lake))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert message in proc.stderr
    assert proc.stderr.strip().splitlines()[0].startswith("Error:")


def test_query_errors_are_clean(tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    run("deploy", "--lake", lake)
    proc = run("query", "SELEC nonsense", "--lake", lake)
    assert proc.returncode != 0 and "Error:" in proc.stderr and "Traceback" not in proc.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    proc = run("--debug", "status", "--lake", str(tmp_path / "none"))
    assert proc.returncode != 0 and "LakeNotFoundError" in proc.stderr


def test_destroy_without_a_terminal_needs_yes(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run("deploy", "--lake", str(lake))
    proc = run("destroy", "--lake", str(lake))
    assert proc.returncode != 0 and "--yes" in proc.stderr and lake.exists()


def test_version() -> None:
    from datalake import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.stdout


def test_every_command_has_help_and_is_in_the_readme() -> None:
    import typer.main

    readme = (REPO / "README.md").read_text()
    group = typer.main.get_command(app)
    names = sorted(group.commands)  # type: ignore[attr-defined]
    assert {"deploy", "seed", "run-etl", "query", "validate", "status", "archive", "destroy", "demo"} <= set(names)
    for name in names:
        command = group.commands[name]  # type: ignore[attr-defined]
        assert command.help and len(command.help) > 20, name
        assert f"datalake {name}" in readme, f"`datalake {name}` is not documented in README.md"
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0 and "--json" in result.stdout, name

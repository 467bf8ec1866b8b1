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

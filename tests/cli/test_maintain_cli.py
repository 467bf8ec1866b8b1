"""`datalake maintain` at the command line: --json, the rich table, the AWS estimate, bad options in one line."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.domain.seed import seed
from datalake.layout import LakeLayout
from datalake.model import EtlOptions, SeedOptions
from datalake.targets.local.etl.run import run_etl
from tests.conftest import END_DATE, RUN_TS

runner = CliRunner()


@pytest.fixture
def two_runs(processed_lake: LakeLayout) -> LakeLayout:
    """The small processed lake and a second run into its last month: that month holds two fact files."""
    seed(processed_lake, SeedOptions(rows=600, days=3, end_date=END_DATE, seed=5))
    run_etl(processed_lake, EtlOptions(run_ts=RUN_TS + timedelta(days=1)))
    return processed_lake


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_maintain_json_gives_files_checks_snapshots_orphans_and_the_aws_estimate(two_runs: LakeLayout) -> None:
    lake = str(two_runs.root)
    code, out = _invoke("maintain", "--lake", lake, "--dry-run", "--json")
    assert code == 0
    dry = json.loads(out)
    assert dry["dry_run"] is True and dry["maintenance_id"] is None
    code, out = _invoke("maintain", "--lake", lake, "--json", "--expire-older-than", "0s", "--orphan-min-age", "0s")
    assert code == 0
    data = json.loads(out)
    facts = next(t for t in data["tables"] if t["table"] == "sales_fact")
    assert (
        facts["files_after"]
        < facts["files_before"]
        == next(t["files_before"] for t in dry["tables"] if t["table"] == "sales_fact")
    )
    assert facts["check"]["equal"] is True and facts["check"]["rows_before"] == facts["check"]["rows_after"] > 0
    assert facts["snapshots_after"] == 1 and facts["orphans_removed"] > 0 and data["ok"] is True
    aws = data["aws"]
    (aws_facts,) = [t for t in aws["tables"] if t["table"] == "sales_fact"]
    assert aws_facts["gets_per_full_scan_before"] == 2 * facts["files_before"]
    assert aws_facts["gets_per_full_scan_after"] == 2 * facts["files_after"]
    assert aws_facts["saved_per_1000_full_scans_usd"] == pytest.approx(
        (facts["files_before"] - facts["files_after"]) * 2 * aws["s3_get_per_1000_usd"]
    )
    assert aws["total"]["maintenance_cost_usd"] > 0


def test_maintain_prints_a_table_and_the_check(two_runs: LakeLayout, monkeypatch: pytest.MonkeyPatch) -> None:
    from datalake.cli import render

    monkeypatch.setattr(render.ui.out, "width", 200)
    code, out = _invoke("maintain", "--lake", str(two_runs.root), "--table", "sales_fact")
    text = " ".join(out.split())
    assert code == 0 and "sales_fact" in text and "equal" in text and "On AWS" in text
    assert "customers" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--expire-older-than", "soon"], "--expire-older-than must be an age such as 7d"),
        (["--target-file-size", "big"], "--target-file-size must be a size such as 128MB"),
        (["--table", "nope"], "no table 'nope' to maintain"),
    ],
)
def test_bad_options_are_one_line(two_runs: LakeLayout, args: list[str], message: str) -> None:
    code, out = _invoke("maintain", "--lake", str(two_runs.root), *args)
    assert code != 0 and message in " ".join(out.split()) and "Traceback" not in out


def test_maintain_on_no_lake_is_one_line(tmp_path: Path) -> None:
    code, out = _invoke("maintain", "--lake", str(tmp_path / "none"))
    assert code != 0 and "no lake at" in out and "Traceback" not in out

"""The results folder, named once; the infra/ that deploy and cost-report both read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datalake.errors import ConfigError
from datalake.layout import INFRA_DIR, LakeLayout, default_infra_dir
from datalake.measure import results
from datalake.measure.results import Results, UnreadableResult, read_result


def test_every_file_lives_in_the_lake_results_folder(tmp_path: Path) -> None:
    r = Results.of(tmp_path)
    assert r.root == LakeLayout(tmp_path).results
    assert r.benchmark == r.root / "benchmark-latest.json"
    assert r.benchmark_chart == r.root / "benchmark-latest.png"
    assert r.benchmark_copy("20260101T000000Z") == r.root / "benchmark-20260101T000000Z.json"
    assert r.cost == r.root / "cost-latest.json"
    assert r.cost_chart == r.root / "cost-latest.png"
    assert r.report == r.root / "report.html"


def test_read_result(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    assert read_result(path) is None
    path.write_text(json.dumps({"a": 1}))
    assert read_result(path) == {"a": 1}
    path.write_text("[1, 2]")
    with pytest.raises(UnreadableResult) as err:
        read_result(path)
    assert err.value.reason == results.NOT_AN_OBJECT
    path.write_text("{not json")
    with pytest.raises(UnreadableResult) as err:
        read_result(path)
    assert "Expecting property name" in err.value.reason


def test_infra_dir_prefers_the_configured_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = tmp_path / "my-infra"
    own.mkdir()
    (own / "versions.tf").write_text("terraform {}\n")
    monkeypatch.chdir(tmp_path)
    assert default_infra_dir(Path("my-infra")) == own
    assert default_infra_dir(own) == own


def test_infra_dir_falls_back_to_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_infra_dir() == INFRA_DIR
    assert default_infra_dir(Path("infra")) == INFRA_DIR
    assert default_infra_dir(Path("infra"), required=False) == INFRA_DIR


def test_infra_dir_without_any_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("datalake.layout.INFRA_DIR", tmp_path / "nowhere")
    with pytest.raises(ConfigError):
        default_infra_dir(Path("infra"))
    assert default_infra_dir(Path("infra"), required=False) == tmp_path / "infra"

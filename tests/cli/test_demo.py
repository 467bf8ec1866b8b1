"""The demo runs what the target can do and says what it skipped, instead of failing at the first gap."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from datalake.cli import render
from datalake.cli.demo import run_demo
from datalake.config import Settings
from datalake.targets.aws.infra import save_outputs
from datalake.targets.aws.target import AwsTarget
from datalake.targets.local.target import LocalTarget
from tests.aws_helpers import FAKE_CREDENTIALS, create_lake_resources, lake_outputs


class NoValidateTarget(LocalTarget):
    """A local lake whose capabilities leave validate out, as the aws target's do."""

    name = "novalidate"
    capabilities = dataclasses.replace(LocalTarget.capabilities, validate=False)

    def validate(self, freshness_days: int | None = None) -> NoReturn:
        self.unsupported("validate")  # what Target does for a target without the capability


def test_demo_skips_validate_when_the_target_cannot_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render.ui.out, "width", 200)
    result = run_demo(NoValidateTarget(Settings(lake=tmp_path / "lake")), rows=2000, seed=1)

    assert result.validate is None
    assert [(s.step, s.reason) for s in result.skipped] == [
        ("validate", "`datalake validate` is not available on the novalidate target")
    ]
    assert result.run_etl.status == "completed" and len(result.queries) == 2
    care = result.table_care  # small runs, then maintain: the fact files fall, the rows stay
    assert care is not None and care.unchanged and care.fact_files_after < care.fact_files_before
    assert result.benchmark is not None and result.cost is not None and Path(result.report).is_file()
    data = result.to_dict()
    assert data["validate"] is None and data["skipped"][0]["step"] == "validate"
    render.render_demo(result)
    out = capsys.readouterr().out
    assert "Skipped validate: `datalake validate` is not available on the novalidate target" in out
    assert "Validation" not in out


@pytest.fixture
def aws_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsTarget]:
    import boto3
    from moto import mock_aws

    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        outputs = lake_outputs()  # redshift_mode = none
        create_lake_resources(boto3.session.Session(), outputs)
        settings = Settings(lake=tmp_path / "lake", target="aws")
        save_outputs(settings.lake / "aws-outputs.json", outputs)
        yield AwsTarget(settings)


@pytest.mark.aws
def test_demo_queries_pick_the_engine_by_role_on_aws(aws_target: AwsTarget) -> None:
    from datalake.cli.demo import _benchmark_engines, _engine_for

    assert _engine_for(aws_target, "lake") == "athena"
    assert _engine_for(aws_target, "raw") == "athena-raw"
    assert _engine_for(aws_target, "warehouse") is None  # no Redshift deployed: the query is skipped
    assert _benchmark_engines(aws_target) == ["athena"]

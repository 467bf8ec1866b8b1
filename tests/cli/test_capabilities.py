"""A command a target cannot run says so in one line, from its capabilities, before touching anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from datalake.cli.app import app
from datalake.targets.aws.target import AwsTarget
from datalake.targets.base import Capabilities
from datalake.targets.local.target import LocalTarget

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["run-job", "customer_aggregates"],
        ["archive", "--older-than", "30"],
        ["validate"],
        ["ingest", "x.csv", "--table", "t"],
    ],
)
def test_aws_target_refuses_what_it_cannot_do_in_one_line(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a\n1\n")
    result = runner.invoke(app, [*args, "--target", "aws", "--lake", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert f"`datalake {args[0]}` is not available on the aws target" in text
    assert "Traceback" not in result.output


def test_every_optional_capability_is_a_method_both_targets_answer() -> None:
    optional = [name for name, value in vars(Capabilities).items() if isinstance(value, bool)]
    assert sorted(optional) == ["archive", "ingest", "run_job", "validate"]
    for name in optional:
        assert getattr(LocalTarget.capabilities, name) is True
        assert getattr(AwsTarget.capabilities, name) is False
        assert callable(getattr(LocalTarget, name))

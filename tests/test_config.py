from __future__ import annotations

from pathlib import Path

import pytest

from datalake.config import load_settings
from datalake.errors import ConfigError


def test_precedence_flag_env_file_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(cwd=tmp_path).lake == tmp_path / "lake"
    (tmp_path / "datalake.toml").write_text('[datalake]\nlake = "toml_lake"\nregion = "eu-west-1"\n')
    s = load_settings(cwd=tmp_path)
    assert s.lake == tmp_path / "toml_lake" and s.region == "eu-west-1"
    assert s.describe("region") == str(tmp_path / "datalake.toml")
    monkeypatch.setenv("DATALAKE_HOME", "/data/env_lake")
    assert load_settings(cwd=tmp_path).lake == Path("/data/env_lake")
    s = load_settings({"lake": tmp_path / "flag"}, cwd=tmp_path)
    assert s.lake == tmp_path / "flag" and s.describe("lake") == "command line"


def test_bad_values_name_where_they_came_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATALAKE_TARGET", "azure")
    with pytest.raises(ConfigError, match="DATALAKE_TARGET"):
        load_settings(cwd=tmp_path)
    monkeypatch.delenv("DATALAKE_TARGET")
    (tmp_path / "datalake.toml").write_text("[datalake]\nlaek = 1\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(cwd=tmp_path)
    (tmp_path / "datalake.toml").write_text("[datalake\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(cwd=tmp_path)

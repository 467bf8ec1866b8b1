"""Typed settings with one precedence: CLI flag, then DATALAKE_* environment, then datalake.toml, then defaults.

A missing or malformed value names every place that was looked in, so the user knows where to fix it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from datalake.errors import ConfigError

CONFIG_FILE_NAME = "datalake.toml"
ENV_PREFIX = "DATALAKE_"
TARGETS = ("local", "aws")


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about where and how the lake lives."""

    lake: Path = Path("lake")
    target: str = "local"
    region: str = "us-east-1"
    profile: str | None = None
    endpoint_url: str | None = None
    infra_dir: Path = Path("infra")
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def describe(self, name: str) -> str:
        """Where a setting's value came from, for messages."""
        return self.sources.get(name, "default")


_ENV_NAMES = {"lake": "DATALAKE_HOME"}


def _env_name(name: str) -> str:
    return _ENV_NAMES.get(name, ENV_PREFIX + name.upper())


def _find_config_file(start: Path) -> Path | None:
    explicit = os.environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(
                f"DATALAKE_CONFIG points to {path}, which does not exist",
                hint="unset DATALAKE_CONFIG or point it at a datalake.toml file",
            )
        return path
    candidate = start / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", hint="fix the syntax of the config file") from exc
    section = data.get("datalake", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [datalake] must be a table")
    return section


def _coerce(name: str, value: Any, origin: str) -> Any:
    if name in ("lake", "infra_dir"):
        if not isinstance(value, str | Path) or not str(value):
            raise ConfigError(f"{name} from {origin} must be a path, got {value!r}")
        return Path(value).expanduser()
    if name == "target":
        if value not in TARGETS:
            raise ConfigError(
                f"unknown target {value!r} (from {origin})",
                hint=f"choose one of: {', '.join(TARGETS)}",
            )
        return value
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{name} from {origin} must be a string, got {value!r}")
    return value


def load_settings(overrides: dict[str, Any] | None = None, cwd: Path | None = None) -> Settings:
    """Resolve settings: flags (`overrides`, None means unset) > environment > datalake.toml > defaults."""
    cwd = cwd or Path.cwd()
    config_path = _find_config_file(cwd)
    file_values = _read_toml(config_path) if config_path else {}
    known = {f.name for f in fields(Settings)} - {"sources"}
    unknown = set(file_values) - known
    if unknown and config_path:
        raise ConfigError(
            f"{config_path}: unknown setting(s) {', '.join(sorted(unknown))}",
            hint=f"known settings: {', '.join(sorted(known))}",
        )
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in sorted(known):
        flag = (overrides or {}).get(name)
        env = os.environ.get(_env_name(name))
        if flag is not None:
            values[name], sources[name] = _coerce(name, flag, "command line"), "command line"
        elif env:
            origin = f"environment {_env_name(name)}"
            values[name], sources[name] = _coerce(name, env, origin), origin
        elif name in file_values:
            origin = str(config_path)
            values[name], sources[name] = _coerce(name, file_values[name], origin), origin
    settings = replace(Settings(), **values, sources=sources)
    if not settings.lake.is_absolute():
        settings = replace(settings, lake=(cwd / settings.lake))
    return settings

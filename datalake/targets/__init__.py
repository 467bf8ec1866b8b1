"""Pick the target from settings; each implementation is imported only when chosen."""

from __future__ import annotations

from datalake.config import Settings
from datalake.errors import ConfigError
from datalake.targets.base import Capabilities, Target

__all__ = ["Capabilities", "Target", "create_target"]


def create_target(settings: Settings) -> Target:
    if settings.target == "local":
        from datalake.targets.local.target import LocalTarget

        return LocalTarget(settings)
    if settings.target == "aws":
        from datalake.targets.aws.target import AwsTarget

        return AwsTarget(settings)
    raise ConfigError(f"unknown target {settings.target!r}", hint="choose local or aws")

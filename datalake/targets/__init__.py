"""Pick the target from settings; each implementation is imported only when chosen."""

from __future__ import annotations

from datalake.config import Settings
from datalake.errors import ConfigError
from datalake.targets.base import Capabilities, Target

__all__ = ["Capabilities", "Target", "create_target"]


def create_target(settings: Settings) -> Target:
    if settings.target == "local":
        from datalake.targets.local import LocalTarget

        return LocalTarget(settings)
    if settings.target == "aws":
        try:
            from datalake.targets.aws import AwsTarget  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise ConfigError(
                "the aws target is not available yet in this version",
                hint="use --target local (the default)",
            ) from exc
        return AwsTarget(settings)  # type: ignore[no-any-return,unused-ignore]
    raise ConfigError(f"unknown target {settings.target!r}", hint="choose local or aws")

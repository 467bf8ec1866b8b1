"""One exception root, so the CLI can turn every expected failure into a one-line message.

Each error carries a `hint`: what the user should do next. Code raises these for
anything a user can cause (bad option, missing lake, malformed input, AWS refusals);
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class DatalakeError(Exception):
    """Base of every error the CLI reports as a clean one-line message."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(DatalakeError):
    """A setting is missing, malformed or contradictory."""

    exit_code = 2


class UsageError(DatalakeError):
    """An option or argument has a value the command cannot use."""

    exit_code = 2


class LakeNotFoundError(DatalakeError):
    """The lake root has not been laid out yet."""


class InputError(DatalakeError):
    """Input data (a file, a query) cannot be used as given."""


class LockedError(DatalakeError):
    """Another process holds the lake's write lock."""


class QueryError(DatalakeError):
    """A query failed to translate or run on an engine."""


class CheckFailedError(DatalakeError):
    """A validation or cross-check failed; the command reports it and exits non-zero."""


class MissingDependencyError(DatalakeError):
    """An optional extra (spark, aws) or a system tool (java, terraform) is not installed."""


class AwsError(DatalakeError):
    """AWS refused or failed a request; the message keeps AWS's own reason."""

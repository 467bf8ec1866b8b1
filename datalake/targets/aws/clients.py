"""The one place boto3 sessions and clients are made, and botocore errors become `AwsError`.

Every client gets the region and profile from the settings, botocore's `standard` retry mode
(exponential backoff with jitter on throttling and transient errors), and the endpoint override
(`AWS_ENDPOINT_URL`, or `endpoint_url` in the settings) so the same code talks to moto in tests.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from datalake.config import Settings
from datalake.errors import AwsError, MissingDependencyError

T = TypeVar("T")

MAX_ATTEMPTS = 8
CREDENTIALS_HINT = "configure AWS credentials (aws configure, AWS_PROFILE, or aws sso login) and retry"
ACCESS_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
    "Forbidden",
    "403",
}
THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "RequestThrottled",
    "RequestThrottledException",
}
EXPIRED_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
}


def session(settings: Settings | None = None) -> Any:
    """A boto3 session with the configured profile (None: boto3's default chain)."""
    try:
        import boto3
    except ImportError as exc:  # pragma: no cover - boto3 is in the aws extra
        raise MissingDependencyError("boto3 is not installed", hint="pip install 'datalake[aws]'") from exc
    from botocore.exceptions import ProfileNotFound

    profile = settings.profile if settings is not None else None
    try:
        return boto3.session.Session(profile_name=profile)
    except ProfileNotFound as exc:
        raise AwsError(
            f"AWS profile {profile!r} not found", hint="check `profile` in datalake.toml or AWS_PROFILE"
        ) from exc


def endpoint_url(settings: Settings | None = None) -> str | None:
    """The endpoint override: AWS_ENDPOINT_URL wins, then the settings (None: real AWS)."""
    return os.environ.get("AWS_ENDPOINT_URL") or (settings.endpoint_url if settings is not None else None)


def client(
    service: str,
    settings: Settings | None = None,
    *,
    session_: Any | None = None,
    region: str | None = None,
    max_pool_connections: int = 10,
) -> Any:
    """A boto3 client for `service`: configured region/profile, standard retries, endpoint override."""
    from botocore.config import Config

    sess = session_ if session_ is not None else session(settings)
    region = region or (settings.region if settings is not None else None) or sess.region_name or "us-east-1"
    config = Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        max_pool_connections=max_pool_connections,
        user_agent_extra="datalake",
    )
    return sess.client(service, region_name=region, endpoint_url=endpoint_url(settings), config=config)


def error_code(exc: BaseException) -> str | None:
    """AWS's error code of a botocore ClientError (None for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def aws_error(exc: BaseException, doing: str) -> AwsError:
    """A botocore exception as an `AwsError` that keeps AWS's code and message, with a hint."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        TokenRetrievalError,
    )

    wrapped = exc.__cause__ or exc.__context__
    if not isinstance(exc, ClientError | NoCredentialsError) and isinstance(wrapped, ClientError | NoCredentialsError):
        exc = wrapped  # boto3's managed transfer wraps AWS's error (S3UploadFailedError)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | TokenRetrievalError):
        return AwsError(f"{doing}: no AWS credentials found", hint=CREDENTIALS_HINT)
    if isinstance(exc, NoRegionError):
        return AwsError(f"{doing}: no AWS region configured", hint="set `region` in datalake.toml or AWS_REGION")
    if isinstance(exc, EndpointConnectionError):
        return AwsError(
            f"{doing}: cannot reach {exc.kwargs.get('endpoint_url', 'the AWS endpoint')}",
            hint="check the network, the region and AWS_ENDPOINT_URL",
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = error.get("Message") or str(exc)
        hint: str | None = None
        if code in ACCESS_DENIED_CODES:
            hint = "your AWS identity lacks a permission for this call: check its IAM policy (and the bucket/KMS key policies)"
        elif code in THROTTLING_CODES:
            hint = "AWS kept throttling the requests after retries: wait a little and run the command again"
        elif code in EXPIRED_CODES:
            hint = "refresh your AWS credentials (aws sso login, or new keys) and retry"
        return AwsError(f"{doing}: {code}: {message}", hint=hint)
    return AwsError(f"{doing}: {exc}")


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn any botocore error raised inside into an `AwsError` about `doing`."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError, Boto3Error) as exc:
        raise aws_error(exc, doing) from exc


class Poller:
    """Polls with exponential backoff up to a deadline; clock and sleep are injectable for tests."""

    def __init__(
        self,
        initial: float = 1.0,
        maximum: float = 15.0,
        factor: float = 1.6,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.initial, self.maximum, self.factor = initial, maximum, factor
        self.sleep, self.clock = sleep, clock
        self.delays: list[float] = []  # every wait, in order (for tests and logs)

    def wait(self, check: Callable[[], T | None], *, timeout: float, what: str, hint: str | None = None) -> T:
        """Call `check` until it returns something other than None; AwsError after `timeout` seconds."""
        deadline = self.clock() + timeout
        delay = self.initial
        while True:
            result = check()
            if result is not None:
                return result
            if self.clock() + delay > deadline:
                raise AwsError(
                    f"timed out after {timeout:.0f}s waiting for {what}",
                    hint=hint or "it may still be running on AWS: check the console, or retry with a longer --timeout",
                )
            self.sleep(delay)
            self.delays.append(delay)
            delay = min(delay * self.factor, self.maximum)


__all__ = ["Poller", "aws_error", "aws_errors", "client", "endpoint_url", "error_code", "session"]

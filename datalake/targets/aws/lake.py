"""A deployed AWS lake: the Terraform outputs that name its resources, and clients to reach them.

Everything the aws target does (seed, run-etl, queries, status, usage) takes an `AwsLake`.
Clients are made once per service through `datalake.targets.aws.clients.client`; tests inject their own
(moto, or a client wrapped in botocore's Stubber) with `clients=` and a no-wait `poller=`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from datalake.config import Settings
from datalake.errors import ConfigError
from datalake.targets.aws.clients import Poller, client

DEPLOY_HINT = "run `datalake deploy --target aws`"
# The sales job's bookmark in the scripts bucket (infra/locals.tf names the same key): files consumed, runs.
BOOKMARK_KEY = "state/bookmarks/sales_etl.json"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for each kind of AWS work before giving up (it keeps running on AWS)."""

    crawler: float = 30 * 60
    job: float = 3 * 60 * 60
    query: float = 30 * 60
    statement: float = 60 * 60


@dataclass
class AwsLake:
    settings: Settings
    outputs: Mapping[str, str]
    clients: dict[str, Any] = field(default_factory=dict)
    poller: Poller = field(default_factory=Poller)
    timeouts: Timeouts = field(default_factory=Timeouts)

    @property
    def region(self) -> str:
        return self.outputs.get("region") or self.settings.region

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = client(service, self.settings, region=self.region, max_pool_connections=16)
        return self.clients[service]

    def require(self, name: str) -> str:
        """An output that must be there (and not null): ConfigError saying to deploy otherwise."""
        value = self.outputs.get(name)
        if not value or value == "None":
            raise ConfigError(f"the AWS deployment outputs have no {name!r}", hint=DEPLOY_HINT)
        return value

    def optional(self, name: str) -> str | None:
        value = self.outputs.get(name)
        return value if value and value != "None" else None

    def buckets(self) -> dict[str, str]:
        """Bucket role (raw, processed, ...) -> bucket name, for every bucket output."""
        return {
            key.removesuffix("_bucket"): value
            for key, value in sorted(self.outputs.items())
            if key.endswith("_bucket") and value and value != "None"
        }

    def job_arguments(self) -> dict[str, str]:
        """The Spark job's arguments, as the Terraform passes them to the Glue job (and the CLI to an EMR step)."""
        raw, processed, scripts = (self.require(f"{z}_bucket") for z in ("raw", "processed", "scripts"))
        return {
            "--raw_path": f"s3://{raw}/",
            "--processed_path": f"s3://{processed}/",
            "--quarantine_path": f"s3://{processed}/quarantine/",
            "--spec_path": f"s3://{scripts}/jobs/transform_spec.json",
            "--bookmark_path": f"s3://{scripts}/{BOOKMARK_KEY}",
        }


def open_lake(settings: Settings, outputs: Mapping[str, str], **kwargs: Any) -> AwsLake:
    return AwsLake(settings, dict(outputs), **kwargs)

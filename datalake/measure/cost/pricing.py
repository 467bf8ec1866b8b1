"""The price table: one data file (region-aware), read by benchmark and cost-report.

The shipped file is datalake/measure/cost/prices.json. A user file (same schema) is merged over it, key by
key, so it can change one price, or add a whole region. The merged table is checked against
`SCHEMA` on load: a missing key or a non-number fails with the file and the key's path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from datalake.errors import ConfigError

TB = 1024**4  # AWS bills Athena per TB of 2^40 bytes
GB = 1024**3  # and S3 per GB-month of 2^30 bytes
HOURS_PER_MONTH = 730  # AWS's own convention for monthly estimates of hourly prices
SHIPPED = "the shipped price table (datalake/measure/cost/prices.json)"

# Each region must have these keys. A dict value is a nested table; "number" a non-negative number;
# "table" a non-empty mapping of names to non-negative numbers (or to tables of numbers).
SCHEMA: dict[str, Any] = {
    "s3": {
        "storage_gb_month": "table",
        "put_per_1000": "table",
        "get_per_1000": "table",
        "transition_per_1000": "table",
        "minimum_storage_days": "table",
        "intelligent_tiering_monitoring_per_1000_objects": "number",
    },
    "athena": {"per_tb_scanned": "number", "minimum_bytes_per_query": "number"},
    "redshift": {
        "node_hour": "table",
        "managed_storage_gb_month": "number",
        "serverless_rpu_hour": "number",
        "serverless_minimum_seconds": "number",
    },
    "glue": {
        "etl_dpu_hour": "number",
        "crawler_dpu_hour": "number",
        "etl_minimum_seconds": "number",
        "crawler_minimum_seconds": "number",
        "dpu_per_worker": "table",
    },
    "emr": {"instances": "table", "spot_discount": "number"},
    "cloudtrail": {"data_events_per_100k": "number"},
    "cloudwatch": {"logs_ingest_per_gb": "number", "logs_storage_gb_month": "number"},
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _check_table(value: Any, where: str, name: str) -> None:
    if not isinstance(value, dict) or not value:
        raise ConfigError(
            f"price file {name}: {where} must be a non-empty table", hint="see datalake/measure/cost/prices.json"
        )
    for key, item in value.items():
        if isinstance(item, dict):
            _check_table(item, f"{where}.{key}", name)
        elif not _is_number(item):
            raise ConfigError(
                f"price file {name}: {where}.{key} must be a non-negative number, got {item!r}",
                hint="prices are plain numbers in USD",
            )


def _check(data: dict[str, Any], schema: dict[str, Any], where: str, name: str) -> None:
    for key, kind in schema.items():
        path = f"{where}.{key}"
        if key not in data:
            raise ConfigError(f"price file {name}: missing key {path}", hint="see datalake/measure/cost/prices.json")
        value = data[key]
        if isinstance(kind, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"price file {name}: {path} must be a table, got {value!r}")
            _check(value, kind, path, name)
        elif kind == "table":
            _check_table(value, path, name)
        elif not _is_number(value):
            raise ConfigError(f"price file {name}: {path} must be a non-negative number, got {value!r}")


def validate_prices(data: Any, name: str = SHIPPED) -> None:
    """Raise ConfigError naming the file and the first missing or malformed key."""
    if not isinstance(data, dict) or not isinstance(data.get("regions"), dict) or not data["regions"]:
        raise ConfigError(f"price file {name} has no 'regions' table", hint="see datalake/measure/cost/prices.json")
    for region, table in data["regions"].items():
        if not isinstance(table, dict):
            raise ConfigError(f"price file {name}: regions.{region} must be a table")
        _check(table, SCHEMA, f"regions.{region}", name)
        spot = table["emr"]["spot_discount"]
        if spot >= 1:
            raise ConfigError(f"price file {name}: regions.{region}.emr.spot_discount must be below 1, got {spot}")
        for itype, rates in table["emr"]["instances"].items():
            if not isinstance(rates, dict) or not {"ec2_hour", "emr_hour"} <= set(rates):
                raise ConfigError(
                    f"price file {name}: regions.{region}.emr.instances.{itype} needs ec2_hour and emr_hour"
                )


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_json(path: Path | None) -> dict[str, Any]:
    name = str(path) if path else SHIPPED
    try:
        if path is None:
            text = resources.files("datalake.measure.cost").joinpath("prices.json").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except FileNotFoundError as exc:
        raise ConfigError(f"price file {path} does not exist", hint="pass an existing JSON price file") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"price file {path} is a folder", hint="pass a JSON price file") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"price file {name} is not valid JSON: {exc}", hint="fix the file's syntax") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"price file {name} must hold a JSON object", hint="see datalake/measure/cost/prices.json")
    return data


def _read(path: Path | None) -> dict[str, Any]:
    """The shipped table, with the user's file (if any) merged over it, validated."""
    data = _read_json(None)
    if path is not None:
        user = _read_json(path)
        if "regions" in user and not isinstance(user["regions"], dict):
            raise ConfigError(f"price file {path}: 'regions' must be a table of regions")
        data = _merge(data, user)
        if "source" in user:
            data["source"] = f"{user['source']} (over the shipped table)"
        else:
            data["source"] = f"{path} merged over the shipped table: {data.get('source', '')}"
    validate_prices(data, str(path) if path else SHIPPED)
    return data


class _Rate:
    """One price of the table, read where it is used: `glue_dpu_hour = _Rate("glue", "etl_dpu_hour")`."""

    def __init__(self, service: str, key: str) -> None:
        self.service, self.key = service, key

    def __get__(self, table: PriceTable, owner: type | None = None) -> float:
        return float(table.data[self.service][self.key])


@dataclass(frozen=True)
class PriceTable:
    region: str
    data: dict[str, Any]
    source: str
    date: str = ""

    # ---- Athena
    athena_per_tb = _Rate("athena", "per_tb_scanned")

    @property
    def athena_minimum_bytes(self) -> int:
        return int(self.data["athena"]["minimum_bytes_per_query"])

    def athena_query_cost(self, bytes_scanned: float) -> float:
        """Athena bills the bytes scanned, rounded up to 10 MB per query."""
        billed = max(float(bytes_scanned), float(self.athena_minimum_bytes))
        return billed / TB * self.athena_per_tb

    # ---- S3
    def _known(self, rates: dict[str, Any], key: str, what: str, known: str) -> Any:
        """rates[key], or a ConfigError naming what has no price here and which keys do."""
        if key not in rates:
            raise ConfigError(
                f"no {what} {key!r} in region {self.region}",
                hint=f"known {known}: {', '.join(sorted(rates))}; add it with --prices FILE",
            )
        return rates[key]

    def _s3(self, table: str, storage_class: str) -> float:
        rates = self.data["s3"][table]
        return float(self._known(rates, storage_class, f"S3 {table} price for storage class", "classes"))

    def s3_storage_gb_month(self, storage_class: str = "STANDARD") -> float:
        return self._s3("storage_gb_month", storage_class)

    def s3_put_per_1000(self, storage_class: str = "STANDARD") -> float:
        return self._s3("put_per_1000", storage_class)

    def s3_get_per_1000(self, storage_class: str = "STANDARD") -> float:
        return self._s3("get_per_1000", storage_class)

    def s3_transition_per_1000(self, storage_class: str) -> float:
        return self._s3("transition_per_1000", storage_class)

    def s3_minimum_days(self, storage_class: str) -> int:
        return int(self.data["s3"]["minimum_storage_days"].get(storage_class, 0))

    s3_it_monitoring_per_1000 = _Rate("s3", "intelligent_tiering_monitoring_per_1000_objects")

    # ---- Redshift
    def redshift_node_hour(self, node_type: str) -> float:
        nodes = self.data["redshift"]["node_hour"]
        return float(self._known(nodes, node_type, "Redshift price for node type", "node types"))

    redshift_storage_gb_month = _Rate("redshift", "managed_storage_gb_month")

    redshift_rpu_hour = _Rate("redshift", "serverless_rpu_hour")

    redshift_serverless_minimum_seconds = _Rate("redshift", "serverless_minimum_seconds")

    # ---- Glue
    glue_dpu_hour = _Rate("glue", "etl_dpu_hour")

    glue_crawler_dpu_hour = _Rate("glue", "crawler_dpu_hour")

    glue_minimum_seconds = _Rate("glue", "etl_minimum_seconds")

    glue_crawler_minimum_seconds = _Rate("glue", "crawler_minimum_seconds")

    def glue_dpu_per_worker(self, worker_type: str) -> float:
        workers = self.data["glue"]["dpu_per_worker"]
        if worker_type not in workers:
            raise ConfigError(
                f"unknown Glue worker type {worker_type!r}", hint=f"known worker types: {', '.join(sorted(workers))}"
            )
        return float(workers[worker_type])

    # ---- EMR / EC2
    def emr_instance(self, instance_type: str) -> tuple[float, float]:
        """(EC2 on-demand $/hour, EMR surcharge $/hour) of an instance type."""
        instances = self.data["emr"]["instances"]
        rates = self._known(instances, instance_type, "EC2/EMR price for instance type", "instance types")
        return float(rates["ec2_hour"]), float(rates["emr_hour"])

    spot_discount = _Rate("emr", "spot_discount")

    # ---- audit and logs
    cloudtrail_per_100k_data_events = _Rate("cloudtrail", "data_events_per_100k")

    cloudwatch_ingest_per_gb = _Rate("cloudwatch", "logs_ingest_per_gb")

    cloudwatch_storage_gb_month = _Rate("cloudwatch", "logs_storage_gb_month")


def known_regions(path: Path | None = None) -> list[str]:
    return sorted(_read(path)["regions"])


def load_prices(region: str = "us-east-1", path: Path | None = None) -> PriceTable:
    data = _read(path)
    regions = data["regions"]
    if region not in regions:
        raise ConfigError(
            f"no prices for region {region!r} in {path or 'the shipped price table'}",
            hint=f"known regions: {', '.join(sorted(regions))}; add one with --prices FILE",
        )
    return PriceTable(
        region=region, data=regions[region], source=str(data.get("source", "")), date=str(data.get("date", ""))
    )

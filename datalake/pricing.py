"""The price table: one data file (region-aware), read by benchmark and cost-report.

The shipped file is datalake/data/prices.json; a user file can override it (same schema).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from datalake.errors import ConfigError

TB = 1024**4  # AWS bills Athena per TB of 2^40 bytes


@dataclass(frozen=True)
class PriceTable:
    region: str
    data: dict[str, Any]
    source: str

    @property
    def athena_per_tb(self) -> float:
        return float(self.data["athena"]["per_tb_scanned"])

    @property
    def athena_minimum_bytes(self) -> int:
        return int(self.data["athena"]["minimum_bytes_per_query"])

    def athena_query_cost(self, bytes_scanned: int) -> float:
        """Athena bills the bytes scanned, rounded up to 10 MB per query."""
        billed = max(int(bytes_scanned), self.athena_minimum_bytes)
        return billed / TB * self.athena_per_tb


def _read(path: Path | None) -> dict[str, Any]:
    try:
        if path is None:
            text = resources.files("datalake").joinpath("data/prices.json").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except FileNotFoundError as exc:
        raise ConfigError(f"price file {path} does not exist", hint="pass an existing JSON price file") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"price file {path or 'prices.json'} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("regions"), dict):
        raise ConfigError(
            f"price file {path or 'prices.json'} has no 'regions' table", hint="see datalake/data/prices.json"
        )
    return data


def load_prices(region: str = "us-east-1", path: Path | None = None) -> PriceTable:
    data = _read(path)
    regions = data["regions"]
    if region not in regions:
        raise ConfigError(
            f"no prices for region {region!r} in {path or 'the shipped price table'}",
            hint=f"known regions: {', '.join(sorted(regions))}",
        )
    return PriceTable(region=region, data=regions[region], source=str(data.get("source", "")))

"""The cost report as types: what cost-report computes, saves as results/cost-latest.json and renders.

Field order is the JSON's key order (datalake.measure.jsondata); every field has a default so a
saved report from an older version still reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datalake.measure.jsondata import OMIT_NONE, from_json, to_json


@dataclass
class PriceSource:
    source: str = ""
    date: str = ""
    file: str | None = None


@dataclass
class Assumptions:
    scale: str | None = None
    scale_factor: float = 1.0
    object_size_at_scale: str | None = None
    measured_raw_bytes: float = 0.0
    projected_raw_bytes: float = 0.0
    queries_per_day: float = 0.0
    months: int = 0
    growth_per_month: float = 0.0
    data_span_days: int = 0
    days_per_month: float = 0.0
    hours_per_month: float = 0.0
    glue_runs_per_day: int = 0
    crawler_dpus: int = 0
    etl_bytes_per_dpu_second: float = 0.0
    crawl_bytes_per_second: float = 0.0
    measured_runs: int = 0
    scan_source: str = ""
    benchmark_file: str | None = None


@dataclass
class ZoneCost:
    """One zone's storage at scale, and its bill with the lifecycle rule and with everything in STANDARD."""

    bytes: float = 0.0
    objects: float = 0.0
    measured_bytes: int = 0
    measured_objects: int = 0
    lifecycle: str = ""
    month1_usd: float = 0.0
    average_month_usd: float = 0.0
    standard_only_average_month_usd: float = 0.0


@dataclass
class MonthCost:
    month: int = 0
    services: dict[str, float] = field(default_factory=dict)
    total_usd: float = 0.0


@dataclass
class LifecycleMonth:
    """One month of the lake's S3 bill under the lifecycle rules, all zones together."""

    month: int = 0
    storage_usd: float = 0.0
    transition_usd: float = 0.0
    early_delete_usd: float = 0.0
    monitoring_usd: float = 0.0
    bytes_by_class: dict[str, float] = field(default_factory=dict)


@dataclass
class StorageBill:
    lifecycle_usd: list[float] = field(default_factory=list)
    standard_only_usd: list[float] = field(default_factory=list)
    lifecycle_detail: list[LifecycleMonth] = field(default_factory=list)


@dataclass
class QueryCost:
    """One query type at scale: bytes scanned and files read per engine role, and what each engine charges."""

    name: str | None = None
    title: str | None = None
    bytes_scanned: dict[str, float] = field(default_factory=dict)
    files_read: dict[str, float] = field(default_factory=dict)
    athena_usd: float = 0.0
    athena_billed_bytes: float = 0.0
    raw_athena_usd: float | None = None
    redshift_provisioned_usd: float | None = None
    redshift_serverless_min_usd: float = 0.0


@dataclass
class BreakEven:
    warehouse: str = ""
    redshift_monthly_usd: float = 0.0
    redshift_compute_usd: float = 0.0
    redshift_storage_usd: float = 0.0
    athena_usd_per_query: float = 0.0
    queries_per_day: float | None = None
    serverless_min_usd_per_query: float = 0.0
    serverless_cheaper_per_query: bool = False
    deployed_mode: str = ""


@dataclass
class Saving:
    """A saving the original demo claims, computed: `inputs` holds every figure it was computed from."""

    name: str = ""
    percent: float | None = None
    baseline_usd_month: float = 0.0
    optimised_usd_month: float = 0.0
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class InfracostResource:
    name: str = ""
    monthly_usd: float = 0.0
    merged: bool = False


@dataclass
class Infracost:
    """An `infracost breakdown` merged in: resources cost-report does not model are added to the total."""

    file: str = ""
    total_monthly_usd: float = 0.0
    merged_monthly_usd: float = 0.0
    already_modelled_usd: float = 0.0
    resources: list[InfracostResource] = field(default_factory=list)


@dataclass
class CostReport:
    created: str = ""
    target: str = ""
    lake: str = ""
    region: str = ""
    prices: PriceSource = field(default_factory=PriceSource)
    assumptions: Assumptions = field(default_factory=Assumptions)
    infra: dict[str, Any] = field(default_factory=dict)  # InfraShape.to_dict()
    notes: list[str] = field(default_factory=list)
    by_service: dict[str, float] = field(default_factory=dict)  # month 1
    by_service_average: dict[str, float] = field(default_factory=dict)
    by_zone: dict[str, ZoneCost] = field(default_factory=dict)
    months: list[MonthCost] = field(default_factory=list)
    storage: StorageBill = field(default_factory=StorageBill)
    queries: list[QueryCost] = field(default_factory=list)
    break_even: BreakEven = field(default_factory=BreakEven)
    savings: list[Saving] = field(default_factory=list)
    infracost: Infracost | None = None
    total_month1_usd: float = 0.0
    total_horizon_usd: float = 0.0
    chart: str | None = None
    saved: str | None = field(default=None, metadata=OMIT_NONE)  # where cost-report saved it, once it has

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = to_json(self)
        return out

    @classmethod
    def from_dict(cls, data: Any) -> CostReport:
        return from_json(cls, data)

"""The arithmetic of cost-report: pure functions of sizes, durations, shapes and a PriceTable.

Conventions (docs/cost.md explains them):
- A simulated month m covers days [floor(m * 365 / 12), floor((m + 1) * 365 / 12)): 30 or 31 days,
  so twelve months are exactly a year and an object kept a whole month costs exactly one GB-month.
- Data arrives in daily cohorts; a cohort's storage class follows its age through the lifecycle rule,
  moving on the day its age reaches a transition (age 29 is still STANDARD under a 30-day rule).
- Hourly services use AWS's 730 hours per month; per-day usage is multiplied by 365 / 12 days.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from datalake.errors import UsageError
from datalake.measure.cost.infra_shape import LifecycleRule
from datalake.measure.cost.pricing import GB, HOURS_PER_MONTH, PriceTable

DAYS_PER_MONTH = 365 / 12
UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4, "PB": 1024**5}


# ----------------------------------------------------------------------------------- parsing options


def parse_size(text: str, option: str = "--scale") -> int:
    """'50TB' -> bytes (binary units, as AWS bills: 1 TB = 2^40 bytes). Rejects negatives and garbage."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGTP]?B?)\s*", str(text).upper())
    if not match:
        raise UsageError(
            f"{option} must be a size like 50TB, 500GB or 2PB, got {text!r}",
            hint="units: B, KB, MB, GB, TB, PB (binary: 1 TB = 2^40 bytes)",
        )
    number, unit = float(match.group(1)), match.group(2) or "B"
    if not unit.endswith("B"):
        unit += "B"
    size = int(number * UNITS[unit])
    if size <= 0:
        raise UsageError(f"{option} must be more than zero, got {text!r}")
    return size


def parse_rate(text: str, option: str = "--growth") -> float:
    """'5%' or '0.05' -> 0.05 per month. Must be above -100%."""
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UsageError(f"{option} must be a rate like 5% or 0.05 (per month), got {text!r}") from None
    if not math.isfinite(value) or value <= -1:
        raise UsageError(f"{option} must be above -100%, got {text!r}")
    return value


# ----------------------------------------------------------------------------------- storage


def month_bounds(months: int) -> list[tuple[int, int]]:
    """Day ranges [start, end) of each simulated month."""
    return [(m * 365 // 12, (m + 1) * 365 // 12) for m in range(months)]


@dataclass(frozen=True)
class Cohort:
    """Bytes and objects that arrived together, `age_days` old at the start of the simulation."""

    age_days: int
    bytes: float
    objects: float


@dataclass
class StorageMonth:
    month: int
    storage_usd: float = 0.0
    transition_usd: float = 0.0
    early_delete_usd: float = 0.0
    monitoring_usd: float = 0.0
    put_usd: float = 0.0
    bytes_by_class: dict[str, float] = field(default_factory=dict)  # at the month's last day

    @property
    def total_usd(self) -> float:
        return self.storage_usd + self.transition_usd + self.early_delete_usd + self.monitoring_usd + self.put_usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "storage_usd": self.storage_usd,
            "transition_usd": self.transition_usd,
            "early_delete_usd": self.early_delete_usd,
            "monitoring_usd": self.monitoring_usd,
            "put_usd": self.put_usd,
            "total_usd": self.total_usd,
            "bytes_by_class": dict(self.bytes_by_class),
            "bytes": sum(self.bytes_by_class.values()),
        }


def _segments(rule: LifecycleRule) -> list[tuple[int, int | None, str]]:
    """(entry age, exit age or None, class) of each stay in a class, up to expiration."""
    points = [(0, "STANDARD"), *((d, c) for d, c in rule.transitions)]
    # a transition at day 0 replaces STANDARD rather than following it
    points = [p for i, p in enumerate(points) if not (i + 1 < len(points) and points[i + 1][0] == p[0])]
    out = []
    for i, (entry, cls) in enumerate(points):
        exit_ = points[i + 1][0] if i + 1 < len(points) else None
        if rule.expiration_days is not None:
            if entry >= rule.expiration_days:
                break
            if exit_ is None or exit_ > rule.expiration_days:
                exit_ = rule.expiration_days
        out.append((entry, exit_, cls))
    return out


def _early_leave_charges(segments: list[tuple[int, int | None, str]], prices: PriceTable) -> dict[int, float]:
    """Exit age -> $ per GB charged when a cohort leaves a class before its minimum duration."""
    early_at: dict[int, float] = {}
    for entry, exit_, cls in segments:
        minimum = prices.s3_minimum_days(cls)
        if exit_ is not None and exit_ - entry < minimum:
            early_at[exit_] = early_at.get(exit_, 0.0) + (
                minimum - (exit_ - entry)
            ) * 12 / 365 * prices.s3_storage_gb_month(cls)
    return early_at


def simulate_storage(
    initial: list[Cohort],
    daily_ingest: list[tuple[float, float]],
    rule: LifecycleRule,
    prices: PriceTable,
    months: int,
) -> list[StorageMonth]:
    """Month-by-month S3 bill of one bucket under a lifecycle rule, day by day, cohort by cohort.

    `daily_ingest[d]` is the (bytes, objects) arriving on simulated day d (PUT requests are charged
    for them). Charges: storage by class per day, one transition request per object when a cohort
    reaches a transition, the pro-rated minimum-duration charge when a cohort leaves a class early,
    and Intelligent-Tiering monitoring per object (priced at its frequent tier: a conservative choice).
    """
    import numpy as np

    bounds = month_bounds(months)
    segments = _segments(rule)
    classes = [cls for _, _, cls in segments]
    entries = np.array([entry for entry, _, _ in segments])
    price_gb = np.array([prices.s3_storage_gb_month(c) for c in classes])
    it_mask = np.array([c == "INTELLIGENT_TIERING" for c in classes])
    transition_at = {
        entry: prices.s3_transition_per_1000(cls) / 1000 for entry, _, cls in segments if cls != "STANDARD"
    }
    early_at = _early_leave_charges(segments, prices)
    expire = rule.expiration_days
    put_price = prices.s3_put_per_1000("STANDARD") / 1000

    ages = np.array([c.age_days for c in initial], dtype=np.int64)
    sizes = np.array([c.bytes for c in initial], dtype=float)
    objects = np.array([c.objects for c in initial], dtype=float)
    if expire is not None:  # data already past expiration is gone
        keep = ages < expire
        ages, sizes, objects = ages[keep], sizes[keep], objects[keep]

    result = []
    for m, (start, end) in enumerate(bounds):
        month = StorageMonth(month=m + 1)
        length = end - start
        for day in range(start, end):
            if day < len(daily_ingest):
                new_bytes, new_objects = daily_ingest[day]
                if new_bytes or new_objects:
                    ages = np.append(ages, 0)
                    sizes = np.append(sizes, float(new_bytes))
                    objects = np.append(objects, float(new_objects))
                    month.put_usd += new_objects * put_price
            # events today: transitions, early-leave charges, expiration
            for age, per_object in transition_at.items():
                hit = ages == age
                if hit.any():
                    month.transition_usd += float(objects[hit].sum()) * per_object
            for age, per_gb in early_at.items():
                hit = ages == age
                if hit.any():
                    month.early_delete_usd += float(sizes[hit].sum()) / GB * per_gb
            if expire is not None:
                keep = ages < expire
                ages, sizes, objects = ages[keep], sizes[keep], objects[keep]
            if ages.size:
                seg = np.searchsorted(entries, ages, side="right") - 1
                month.storage_usd += float((sizes / GB * price_gb[seg]).sum()) / length
                if it_mask.any():
                    month.monitoring_usd += (
                        float(objects[it_mask[seg]].sum()) / 1000 * prices.s3_it_monitoring_per_1000 / length
                    )
            if day == end - 1:
                seg = np.searchsorted(entries, ages, side="right") - 1 if ages.size else np.array([], dtype=int)
                month.bytes_by_class = {
                    c: float(sizes[seg == i].sum()) for i, c in enumerate(classes) if (seg == i).any()
                }
            ages = ages + 1
        result.append(month)
    return result


# ----------------------------------------------------------------------------------- queries


def athena_cost_per_query(bytes_scanned: float, prices: PriceTable) -> float:
    """Athena bills max(bytes scanned, 10 MB) per query."""
    return prices.athena_query_cost(bytes_scanned)


def monthly_query_cost(cost_per_query: float, queries_per_day: float) -> float:
    return cost_per_query * queries_per_day * DAYS_PER_MONTH


def redshift_provisioned_monthly(
    node_type: str, nodes: int, stored_bytes: float, prices: PriceTable
) -> dict[str, float]:
    """Always-on nodes for 730 hours, plus managed storage on RA3 (DC2 stores on the nodes)."""
    compute = nodes * prices.redshift_node_hour(node_type) * HOURS_PER_MONTH
    storage = stored_bytes / GB * prices.redshift_storage_gb_month if node_type.startswith("ra3") else 0.0
    return {"compute_usd": compute, "storage_usd": storage, "total_usd": compute + storage}


def redshift_serverless_query_cost(base_rpu: int, seconds: float, prices: PriceTable) -> float:
    """RPU-seconds at base capacity, at least the 60-second minimum per query."""
    billed = max(seconds, prices.redshift_serverless_minimum_seconds)
    return base_rpu * billed / 3600 * prices.redshift_rpu_hour


def break_even_queries_per_day(fixed_monthly_usd: float, athena_usd_per_query: float) -> float | None:
    """Queries per day above which a fixed-price warehouse is cheaper than paying Athena per query."""
    if athena_usd_per_query <= 0:
        return None
    return fixed_monthly_usd / (athena_usd_per_query * DAYS_PER_MONTH)


# ----------------------------------------------------------------------------------- compute


def glue_run_cost(dpu_seconds: float, dpus: float, prices: PriceTable, crawler: bool = False) -> float:
    """A Glue job (or crawler) run: DPU-hours billed per second with a minimum duration per run."""
    minimum = prices.glue_crawler_minimum_seconds if crawler else prices.glue_minimum_seconds
    price = prices.glue_crawler_dpu_hour if crawler else prices.glue_dpu_hour
    seconds = max(dpu_seconds / dpus if dpus else 0.0, minimum)
    return dpus * seconds / 3600 * price


@dataclass(frozen=True)
class ClusterCost:
    primary_usd_hour: float
    workers_usd_hour: float
    ec2_usd_hour: float
    emr_usd_hour: float

    @property
    def usd_hour(self) -> float:
        return self.primary_usd_hour + self.workers_usd_hour


def emr_cluster_hourly(
    primary_type: str, worker_type: str, workers: int, spot: bool, prices: PriceTable
) -> ClusterCost:
    """EMR = EC2 price + EMR surcharge per instance; spot workers get the spot discount on EC2 only."""
    p_ec2, p_emr = prices.emr_instance(primary_type)
    w_ec2, w_emr = prices.emr_instance(worker_type)
    w_ec2_paid = w_ec2 * (1 - prices.spot_discount) if spot else w_ec2
    return ClusterCost(
        primary_usd_hour=p_ec2 + p_emr,
        workers_usd_hour=workers * (w_ec2_paid + w_emr),
        ec2_usd_hour=p_ec2 + workers * w_ec2_paid,
        emr_usd_hour=p_emr + workers * w_emr,
    )


def saving_percent(baseline: float, optimised: float) -> float | None:
    if baseline <= 0:
        return None
    return (1 - optimised / baseline) * 100

"""What the Terraform in infra/ provisions, as far as cost is concerned.

cost-report prices the shape the Terraform describes (node types and counts, EMR instances and
spot, Glue workers, S3 lifecycle rules), not constants in code. This module reads *.tf files (and
terraform.tfvars / *.auto.tfvars) with python-hcl2, resolves `var.x` and `local.x` references to
their defaults, and falls back to documented defaults for anything it cannot read, saying so in
`notes`. It never runs Terraform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ZONE_NAMES = ("raw", "processed", "archive", "quarantine")


@dataclass(frozen=True)
class LifecycleRule:
    """S3 lifecycle transitions of one bucket: (age in days, storage class), ascending."""

    transitions: tuple[tuple[int, str], ...] = ()
    expiration_days: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "transitions", tuple(sorted(self.transitions)))

    def storage_class_at(self, age_days: int) -> str:
        """The class of an object `age_days` old: objects move on the day their age reaches a transition."""
        current = "STANDARD"
        for days, storage_class in self.transitions:
            if age_days >= days:
                current = storage_class
        return current

    def describe(self) -> str:
        if not self.transitions and self.expiration_days is None:
            return "STANDARD (no lifecycle)"
        parts = [f"{d}d->{c}" for d, c in self.transitions]
        if self.expiration_days is not None:
            parts.append(f"{self.expiration_days}d->expire")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "transitions": [{"days": d, "storage_class": c} for d, c in self.transitions],
            "expiration_days": self.expiration_days,
        }


NO_LIFECYCLE = LifecycleRule()
DEFAULT_LIFECYCLE = {
    "raw": LifecycleRule(((30, "STANDARD_IA"), (90, "GLACIER"), (365, "DEEP_ARCHIVE"))),
    "processed": NO_LIFECYCLE,
    "archive": LifecycleRule(((0, "GLACIER"),)),
}


@dataclass
class InfraShape:
    source: str = "defaults"
    notes: list[str] = field(default_factory=list)
    read: dict[str, str] = field(default_factory=dict)  # what was read, and from where
    lifecycle: dict[str, LifecycleRule] = field(default_factory=lambda: dict(DEFAULT_LIFECYCLE))
    redshift_mode: str = "serverless"
    redshift_node_type: str = "ra3.xlplus"
    redshift_node_count: int = 2
    redshift_base_rpu: int = 8
    emr_mode: str = "none"
    emr_primary_instance_type: str = "m5.xlarge"
    emr_worker_instance_types: list[str] = field(default_factory=lambda: ["m5.xlarge"])
    emr_core_units: int = 2
    emr_task_units: int = 2
    emr_spot: bool = True
    emr_idle_timeout_seconds: int = 1800
    glue_worker_type: str = "G.1X"
    glue_workers: int = 2
    glue_crawlers: int = 2
    cloudtrail_data_events: bool = True

    def rule_for(self, zone: str) -> LifecycleRule:
        if zone in self.lifecycle:
            return self.lifecycle[zone]
        if zone == "quarantine":
            return self.lifecycle.get("processed", NO_LIFECYCLE)
        return NO_LIFECYCLE

    @property
    def emr_workers(self) -> int:
        return self.emr_core_units + self.emr_task_units

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "notes": list(self.notes),
            "read": dict(self.read),
            "lifecycle": {
                z: self.rule_for(z).to_dict() | {"describe": self.rule_for(z).describe()} for z in ZONE_NAMES
            },
            "redshift": {
                "mode": self.redshift_mode,
                "node_type": self.redshift_node_type,
                "node_count": self.redshift_node_count,
                "base_rpu": self.redshift_base_rpu,
            },
            "emr": {
                "mode": self.emr_mode,
                "primary_instance_type": self.emr_primary_instance_type,
                "worker_instance_types": list(self.emr_worker_instance_types),
                "core_units": self.emr_core_units,
                "task_units": self.emr_task_units,
                "spot": self.emr_spot,
                "idle_timeout_seconds": self.emr_idle_timeout_seconds,
            },
            "glue": {
                "worker_type": self.glue_worker_type,
                "workers": self.glue_workers,
                "crawlers": self.glue_crawlers,
            },
            "cloudtrail_data_events": self.cloudtrail_data_events,
        }


# ----------------------------------------------------------------------------------- HCL helpers

_REF = re.compile(r"^\$\{\s*(var|local)\.([A-Za-z0-9_]+)\s*\}$")


def _unquote(text: str) -> str:
    # python-hcl2 >= 5 keeps the quotes of string literals; older versions drop them.
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def _clean(value: Any) -> Any:
    """Normalise python-hcl2 output across versions: unquoted keys and strings, no __is_block__ markers."""
    if isinstance(value, dict):
        return {_unquote(str(k)): _clean(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return _unquote(value)
    return value


@dataclass
class _Module:
    variables: dict[str, Any] = field(default_factory=dict)
    var_origin: dict[str, str] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: list[tuple[str, str, dict[str, Any], str]] = field(default_factory=list)  # type, name, body, file

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """`${var.x}` / `${local.x}` to their value (recursively); anything else unchanged."""
        if isinstance(value, str) and depth < 5:
            match = _REF.match(value.strip())
            if match:
                kind, name = match.groups()
                table = self.variables if kind == "var" else self.locals
                if name in table:
                    return self.resolve(table[name], depth + 1)
                return None
        return value

    def of_type(self, rtype: str) -> list[tuple[str, dict[str, Any], str]]:
        return [(name, body, f) for t, name, body, f in self.resources if t == rtype]


def _load_hcl(path: Path) -> dict[str, Any]:
    import hcl2

    with path.open("r", encoding="utf-8") as handle:
        data: dict[str, Any] = _clean(hcl2.load(handle))
    return data


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _parse_module(infra_dir: Path, notes: list[str]) -> _Module:
    mod = _Module()
    for tf in sorted(infra_dir.glob("*.tf")):
        try:
            doc = _load_hcl(tf)
        except Exception as exc:  # a file the parser cannot read is reported, not fatal
            notes.append(f"could not parse {tf.name} ({type(exc).__name__}); its settings were skipped")
            continue
        for block in _as_list(doc.get("variable")):
            for name, body in block.items():
                if isinstance(body, dict) and "default" in body:
                    mod.variables[name] = body["default"]
                    mod.var_origin[name] = f"{tf.name} (default)"
        for block in _as_list(doc.get("locals")):
            if isinstance(block, dict):
                mod.locals.update(block)
        for block in _as_list(doc.get("resource")):
            for rtype, named in block.items():
                for name, body in (named or {}).items():
                    mod.resources.append((rtype, name, body if isinstance(body, dict) else {}, tf.name))
    tfvars = [infra_dir / "terraform.tfvars", *sorted(infra_dir.glob("*.auto.tfvars"))]
    for path in tfvars:
        if not path.is_file():
            continue
        try:
            values = _load_hcl(path)
        except Exception as exc:
            notes.append(f"could not parse {path.name} ({type(exc).__name__}); variable defaults used instead")
            continue
        for name, value in values.items():
            mod.variables[name] = value
            mod.var_origin[name] = path.name
    return mod


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\d+", value.strip()):
        return int(value)
    return None


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value and "${" not in value:
        return value
    return None


def _zone_of(*texts: str) -> str | None:
    for text in texts:
        low = text.lower()
        for zone in ZONE_NAMES:
            if zone in low:
                return zone
    return None


def _transitions(mod: _Module, items: Any) -> tuple[tuple[int, str], ...] | None:
    out = []
    for item in _as_list(mod.resolve(items)):
        if not isinstance(item, dict):
            return None
        days, storage_class = _int(mod.resolve(item.get("days"))), _str(mod.resolve(item.get("storage_class")))
        if days is None or storage_class is None:
            return None
        out.append((days, storage_class))
    return tuple(out)


def _first_block(body: dict[str, Any], key: str) -> dict[str, Any]:
    blocks = _as_list(body.get(key))
    return blocks[0] if blocks and isinstance(blocks[0], dict) else {}


def _read_lifecycle(mod: _Module, shape: InfraShape) -> None:
    found: dict[str, tuple[LifecycleRule, str]] = {}
    # 1. Literal rules: aws_s3_bucket_lifecycle_configuration { rule { transition { days, storage_class } } }
    for name, body, tf in mod.of_type("aws_s3_bucket_lifecycle_configuration"):
        zone = _zone_of(name, str(body.get("bucket", "")))
        for rule in _as_list(body.get("rule")):
            if not isinstance(rule, dict) or str(rule.get("status", "Enabled")) != "Enabled":
                continue
            transitions = _transitions(mod, rule.get("transition"))
            rule_zone = zone or _zone_of(str(rule.get("id", "")))
            if rule_zone and transitions:
                expiration = _int(mod.resolve(_first_block(rule, "expiration").get("days")))
                found[rule_zone] = (
                    LifecycleRule(transitions, expiration),
                    f"{tf}: aws_s3_bucket_lifecycle_configuration.{name}",
                )
    # 2. Rules kept as data in a local map of buckets ({raw = {transitions = [...]}, ...}), used by dynamic blocks.
    for local_name, value in mod.locals.items():
        if not isinstance(value, dict):
            continue
        for key, entry in value.items():
            zone = _zone_of(key)
            if not zone or zone in found or not isinstance(entry, dict) or "transitions" not in entry:
                continue
            transitions = _transitions(mod, entry["transitions"])
            if transitions is None:
                continue
            expiration = _int(mod.resolve(entry.get("expiration_days")))
            found[zone] = (LifecycleRule(transitions, expiration), f"local.{local_name}.{key}.transitions")
    if not found:
        shape.notes.append(
            "no S3 lifecycle rules found in infra/: default rules used (raw 30d IA, 90d Glacier, 365d Deep Archive)"
        )
        return
    for zone, (rule, origin) in found.items():
        shape.lifecycle[zone] = rule
        shape.read[f"lifecycle.{zone}"] = origin
    for zone in ("raw", "processed", "archive"):
        if zone not in found:
            shape.notes.append(
                f"no lifecycle rule for the {zone} zone in infra/: {shape.rule_for(zone).describe()} assumed"
            )


def _pick(
    mod: _Module,
    shape: InfraShape,
    key: str,
    var_names: tuple[str, ...],
    resource_values: list[tuple[Any, str]],
    convert: Any,
) -> Any:
    """First readable value among resource attributes (resolved), then variables; None if none."""
    for raw, origin in resource_values:
        value = convert(mod.resolve(raw))
        if value is not None:
            shape.read[key] = origin
            return value
    for name in var_names:
        if name in mod.variables:
            value = convert(mod.resolve(mod.variables[name]))
            if value is not None:
                shape.read[key] = f"var.{name} in {mod.var_origin.get(name, '?')}"
                return value
    return None


def _read_redshift(mod: _Module, shape: InfraShape) -> None:
    clusters = mod.of_type("aws_redshift_cluster")
    workgroups = mod.of_type("aws_redshiftserverless_workgroup")
    mode = _pick(mod, shape, "redshift.mode", ("redshift_mode",), [], _str)
    if mode is None:
        mode = "provisioned" if clusters else "serverless" if workgroups else None
        if mode:
            shape.read["redshift.mode"] = "inferred from the resources present"
    if mode is None:
        shape.notes.append(f"no Redshift in infra/: warehouse priced as {shape.redshift_mode} by default")
    else:
        shape.redshift_mode = mode
    # (shape field, variables, resources, their type, their attribute, conversion)
    sizing = (
        ("node_type", ("redshift_node_type",), clusters, "aws_redshift_cluster", "node_type", _str),
        ("node_count", ("redshift_node_count",), clusters, "aws_redshift_cluster", "number_of_nodes", _int),
        (
            "base_rpu",
            ("redshift_base_capacity", "redshift_base_rpu"),
            workgroups,
            "aws_redshiftserverless_workgroup",
            "base_capacity",
            _int,
        ),
    )
    for name, variables, resources, rtype, attribute, convert in sizing:
        values = [(b.get(attribute), f"{f}: {rtype}.{n}") for n, b, f in resources]
        value = _pick(mod, shape, f"redshift.{name}", variables, values, convert)
        setattr(shape, f"redshift_{name}", value or getattr(shape, f"redshift_{name}"))


def _read_emr(mod: _Module, shape: InfraShape) -> None:
    clusters = mod.of_type("aws_emr_cluster")
    mode = _pick(mod, shape, "emr.mode", ("emr_mode",), [], _str)
    if mode is None and clusters:
        mode, shape.read["emr.mode"] = "cluster", "inferred from aws_emr_cluster"
    shape.emr_mode = mode or shape.emr_mode
    primary_values: list[tuple[Any, str]] = []
    worker_values: list[tuple[Any, str]] = []
    core_values: list[tuple[Any, str]] = []
    spot_seen = False
    for name, body, tf in clusters:
        origin = f"{tf}: aws_emr_cluster.{name}"
        fleet = _first_block(body, "master_instance_fleet")
        primary_values.append((_first_block(fleet, "instance_type_configs").get("instance_type"), origin))
        primary_values.append((_first_block(body, "master_instance_group").get("instance_type"), origin))
        core_fleet = _first_block(body, "core_instance_fleet")
        core_group = _first_block(body, "core_instance_group")
        worker_values.append((_first_block(core_fleet, "instance_type_configs").get("instance_type"), origin))
        worker_values.append((core_group.get("instance_type"), origin))
        core_values.append((core_fleet.get("target_spot_capacity"), origin))
        core_values.append((core_group.get("instance_count"), origin))
        spot_seen = spot_seen or "target_spot_capacity" in core_fleet or "bid_price" in core_group
    primary = _pick(mod, shape, "emr.primary_instance_type", ("emr_primary_instance_type",), primary_values, _str)
    workers = _pick(
        mod,
        shape,
        "emr.worker_instance_types",
        ("emr_worker_instance_types",),
        worker_values,
        lambda v: [v] if _str(v) else ([x for x in v if _str(x)] or None) if isinstance(v, list) else None,
    )
    core = _pick(mod, shape, "emr.core_units", ("emr_core_spot_units", "emr_core_instance_count"), core_values, _int)
    task = _pick(mod, shape, "emr.task_units", ("emr_task_spot_units", "emr_task_instance_count"), [], _int)
    idle = _pick(mod, shape, "emr.idle_timeout_seconds", ("emr_idle_timeout_seconds",), [], _int)
    shape.emr_primary_instance_type = primary or shape.emr_primary_instance_type
    shape.emr_worker_instance_types = workers or shape.emr_worker_instance_types
    shape.emr_core_units = core if core is not None else shape.emr_core_units
    shape.emr_task_units = task if task is not None else shape.emr_task_units
    shape.emr_idle_timeout_seconds = idle if idle is not None else shape.emr_idle_timeout_seconds
    if spot_seen or any("spot" in n for n in mod.variables if n.startswith("emr_")):
        shape.emr_spot = True
        shape.read["emr.spot"] = "spot capacity settings in infra/"


def _read_glue(mod: _Module, shape: InfraShape) -> None:
    jobs = mod.of_type("aws_glue_job")
    jobs.sort(key=lambda j: (0 if "etl" in j[0] else 1, j[0]))
    job_values = [(b.get("worker_type"), f"{f}: aws_glue_job.{n}") for n, b, f in jobs[:1]]
    worker_type = _pick(mod, shape, "glue.worker_type", ("glue_worker_type",), job_values, _str)
    count_values = [(b.get("number_of_workers"), f"{f}: aws_glue_job.{n}") for n, b, f in jobs[:1]]
    workers = _pick(mod, shape, "glue.workers", ("glue_number_of_workers",), count_values, _int)
    shape.glue_worker_type = worker_type or shape.glue_worker_type
    shape.glue_workers = workers or shape.glue_workers
    crawlers = mod.of_type("aws_glue_crawler")
    if crawlers:
        shape.glue_crawlers = len(crawlers)
        shape.read["glue.crawlers"] = f"{len(crawlers)} aws_glue_crawler resource(s)"
    if not jobs:
        shape.notes.append(f"no aws_glue_job in infra/: {shape.glue_workers} x {shape.glue_worker_type} assumed")


def _read_cloudtrail(mod: _Module, shape: InfraShape) -> None:
    trails = mod.of_type("aws_cloudtrail")
    data_events = any(
        "data_resource" in sel
        for _n, body, _f in trails
        for sel in _as_list(body.get("event_selector"))
        if isinstance(sel, dict)
    ) or any(body.get("advanced_event_selector") for _n, body, _f in trails)
    shape.cloudtrail_data_events = data_events
    shape.read["cloudtrail.data_events"] = (
        "aws_cloudtrail with S3 data events" if data_events else "no CloudTrail S3 data events in infra/"
    )


def read_infra_shape(infra_dir: Path | None) -> InfraShape:
    """The cost-relevant shape of infra/*.tf; defaults (with a note) for what is absent or unreadable."""
    shape = InfraShape()
    if infra_dir is None or not infra_dir.is_dir() or not any(infra_dir.glob("*.tf")):
        shape.notes.append(
            f"no Terraform found at {infra_dir}: priced the default shape (Redshift Serverless 8 RPU, "
            "Glue 2 x G.1X, no EMR cluster, raw lifecycle 30d IA / 90d Glacier / 365d Deep Archive)"
        )
        return shape
    try:
        import hcl2  # noqa: F401
    except ImportError:
        shape.notes.append(
            "python-hcl2 is not installed, so infra/ was not read: default shape priced (pip install python-hcl2)"
        )
        return shape
    shape.source = str(infra_dir)
    mod = _parse_module(infra_dir, shape.notes)
    _read_lifecycle(mod, shape)
    _read_redshift(mod, shape)
    _read_emr(mod, shape)
    _read_glue(mod, shape)
    _read_cloudtrail(mod, shape)
    return shape

"""Where everything lives under a local lake root.

One object answers every "which path?" question, so no module builds lake paths by hand.
Zones mirror the S3 buckets of the aws target: raw, processed, archive, quarantine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datalake.errors import ConfigError, LakeNotFoundError

# The checkout this package runs from: jobs/ and infra/ ship beside the package, not inside the wheel.
SOURCE_TREE = Path(__file__).resolve().parent.parent
JOBS_DIR = SOURCE_TREE / "jobs"
INFRA_DIR = SOURCE_TREE / "infra"


def default_infra_dir(configured: Path | None = None, *, required: bool = True) -> Path:
    """The Terraform of the AWS target, for deploy and cost-report alike.

    The configured folder (settings.infra_dir: DATALAKE_INFRA_DIR, datalake.toml; relative to the working
    directory) when it holds the Terraform, else infra/ of the checkout this package runs from. When neither
    does: ConfigError, or with `required=False` the configured folder (cost-report then prices its defaults).
    """
    path = None
    if configured is not None:
        path = configured if configured.is_absolute() else Path.cwd() / configured
        if (path / "versions.tf").is_file():
            return path
    if (INFRA_DIR / "versions.tf").is_file():
        return INFRA_DIR
    if required:
        raise ConfigError(
            "infra/ (the Terraform of the AWS target) was not found next to the datalake package",
            hint="run from a git checkout of datalake, or pass the infra directory explicitly",
        )
    return path or INFRA_DIR


ZONES = ("raw", "processed", "archive", "quarantine")
MARKER = ".datalake"


@dataclass(frozen=True)
class LakeLayout:
    root: Path

    def zone(self, name: str) -> Path:
        return self.root / name

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def processed(self) -> Path:
        return self.root / "processed"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def catalog_dir(self) -> Path:
        return self.root / "catalog"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse_db(self) -> Path:
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def state(self) -> Path:
        """Bookmarks, run journals, the lock and scratch space: the lake's own bookkeeping."""
        return self.root / "_state"

    @property
    def bookmarks(self) -> Path:
        return self.state / "bookmarks"

    @property
    def runs(self) -> Path:
        return self.state / "runs"

    @property
    def staging(self) -> Path:
        return self.state / "staging"

    @property
    def scratch(self) -> Path:
        return self.state / "tmp"

    @property
    def lock_file(self) -> Path:
        return self.state / "lake.lock"

    @property
    def seeds_file(self) -> Path:
        return self.state / "seeds.json"

    @property
    def results(self) -> Path:
        """Benchmark and cost results, saved for other commands and the report."""
        return self.root / "results"

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    def all_dirs(self) -> list[Path]:
        return [
            *(self.zone(z) for z in ZONES),
            self.catalog_dir,
            self.warehouse_dir,
            self.bookmarks,
            self.runs,
            self.staging,
            self.scratch,
            self.results,
        ]

    def exists(self) -> bool:
        return self.marker.is_file()


def require_lake(layout: LakeLayout) -> None:
    """Every command on an existing lake starts here (here, not in etl: a query must not import the ETL)."""
    if not layout.exists():
        raise LakeNotFoundError(
            f"no lake at {layout.root}",
            hint="run `datalake deploy` first, or point --lake / DATALAKE_HOME at an existing lake",
        )

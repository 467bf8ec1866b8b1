"""A durable local data catalog with the Glue Data Catalog's model.

Databases hold tables; a table has columns, partition keys, partitions (values, location, files,
bytes), a location, a format (classification) and free-form parameters. Each table is one JSON
file written atomically, so a crash never leaves a half-written catalog and concurrent readers
always see a whole table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from datalake.errors import DatalakeError
from datalake.fsutil import atomic_write_json, read_json

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
T = TypeVar("T")


def from_json(cls: type[T], data: dict[str, Any], **nested: Callable[[Any], Any]) -> T:
    """A dataclass back from its `asdict` form, as stored in the lake's JSON files.

    A missing required field is a KeyError; a missing optional one takes its default and unknown keys
    are ignored, so files written by other versions keep loading. Fields named in `nested` are lists
    whose items are rebuilt by the given function.
    """
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            value = data[f.name]
            values[f.name] = [nested[f.name](item) for item in value] if f.name in nested else value
        elif f.default is MISSING and f.default_factory is MISSING:
            raise KeyError(f.name)
    return cls(**values)


@dataclass
class CatalogColumn:
    name: str
    type: str
    comment: str = ""


@dataclass
class Partition:
    values: list[str]
    location: str
    files: int = 0
    bytes: int = 0
    formats: list[str] = field(default_factory=list)


@dataclass
class Table:
    database: str
    name: str
    location: str
    classification: str
    columns: list[CatalogColumn]
    partition_keys: list[CatalogColumn] = field(default_factory=list)
    partitions: list[Partition] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    table_type: str = "EXTERNAL_TABLE"
    updated: str = ""

    def column_types(self) -> dict[str, str]:
        return {c.name: c.type for c in [*self.columns, *self.partition_keys]}

    @property
    def files(self) -> int:
        return sum(p.files for p in self.partitions) if self.partitions else int(self.parameters.get("files", 0))

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.partitions) if self.partitions else int(self.parameters.get("bytes", 0))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        return from_json(
            cls,
            data,
            columns=lambda c: CatalogColumn(**c),
            partition_keys=lambda c: CatalogColumn(**c),
            partitions=lambda p: Partition(**p),
        )


def parquet_rows(files: Iterable[Path]) -> int:
    """The rows of these Parquet files, from their footers alone: a table's recordCount."""
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(f).num_rows for f in files)


class Catalog:
    """Databases and tables stored as `<root>/<database>/<table>.json`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, database: str, table: str) -> Path:
        for name in (database, table):
            if not _NAME.match(name):
                raise DatalakeError(f"invalid catalog name {name!r}: use lower-case letters, digits and _")
        return self.root / database / f"{table}.json"

    def create_database(self, database: str) -> None:
        self._path(database, "x").parent.mkdir(parents=True, exist_ok=True)

    def databases(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def tables(self, database: str) -> list[Table]:
        folder = self.root / database
        if not folder.is_dir():
            return []
        return [Table.from_dict(read_json(p)) for p in sorted(folder.glob("*.json"))]

    def get(self, database: str, table: str) -> Table | None:
        data = read_json(self._path(database, table))
        return Table.from_dict(data) if data else None

    def put(self, table: Table) -> None:
        table.updated = datetime.now(UTC).isoformat(timespec="seconds")
        atomic_write_json(self._path(table.database, table.name), table.to_dict())

    def drop(self, database: str, table: str) -> None:
        self._path(database, table).unlink(missing_ok=True)

"""The data files of the lake's Iceberg tables' current snapshots, read with the standard library only.

A query plans its reads through the tables' current snapshots. Through pyiceberg that costs about a second
of imports (SQLAlchemy, pyiceberg's table model, its pyarrow FileIO) before the first file is named; the
answer is three small reads: the catalog's row naming each table's metadata file (SQLite), that file's
current snapshot (JSON), the snapshot's manifest list and manifests (Avro). This module reads them with
sqlite3, json, zlib and a small Avro decoder. What it does not handle (a codec other than null and deflate,
delete files, a format-v1 snapshot without a manifest list) raises `Unsupported`, and the caller plans
through pyiceberg instead: either way the files are the same (tests/targets/local/test_iceberg_read.py).
"""

from __future__ import annotations

import json
import sqlite3
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

DELETED = 2  # a manifest entry's status: the file left the table in that snapshot
DATA = 0  # a manifest's or a data file's content: data (1 and 2 are delete files)


class Unsupported(Exception):
    """Something this reader does not decode: plan through pyiceberg."""


def local_path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def current_tables(catalog_db: Path, catalog: str, namespace: str, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each named table's current metadata (the parsed metadata file), read in one catalog transaction."""
    con = sqlite3.connect(f"file:{catalog_db}?mode=ro", uri=True, timeout=30)
    try:
        rows = con.execute(
            "SELECT table_name, metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? "
            "AND (iceberg_type IS NULL OR iceberg_type = 'TABLE')",
            (catalog, namespace),
        ).fetchall()
    except sqlite3.Error as exc:  # no catalog tables yet, an older layout: pyiceberg knows what to say
        raise Unsupported(str(exc)) from exc
    finally:
        con.close()
    wanted = set(names)
    return {name: _metadata(location) for name, location in rows if name in wanted and location}


def _metadata(location: str) -> dict[str, Any]:
    raw = local_path(location).read_bytes()
    if location.endswith(".gz.metadata.json") or raw[:2] == b"\x1f\x8b":
        raw = zlib.decompress(raw, 16 + zlib.MAX_WBITS)
    metadata: dict[str, Any] = json.loads(raw)
    return metadata


def current_snapshot(metadata: dict[str, Any]) -> dict[str, Any] | None:
    current = metadata.get("current-snapshot-id")
    if current is None or current == -1:
        return None
    for snapshot in metadata.get("snapshots", []):
        if snapshot["snapshot-id"] == current:
            return dict(snapshot)
    raise Unsupported(f"current snapshot {current} is not among the table's snapshots")


def snapshot_files(snapshot: dict[str, Any]) -> list[str]:
    """The URIs of the data files live in a snapshot: every manifest's entries not deleted."""
    if "manifest-list" not in snapshot:
        raise Unsupported("a format-v1 snapshot without a manifest list")
    found: list[str] = []
    for manifest in read_avro(local_path(snapshot["manifest-list"])):
        if manifest.get("content", DATA) != DATA:
            raise Unsupported("the snapshot has delete files")
        for entry in read_avro(local_path(manifest["manifest_path"])):
            if entry["status"] == DELETED:
                continue
            data_file = entry["data_file"]
            if data_file.get("content", DATA) != DATA:
                raise Unsupported("the snapshot has delete files")
            found.append(data_file["file_path"])
    return found


# ------------------------------------------------------------------------------------------- avro


class _Reader:
    """Avro's binary encoding over one buffer."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def long(self) -> int:
        shift = result = 0
        while True:
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return (result >> 1) ^ -(result & 1)
            shift += 7

    def take(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def blocks(self) -> Iterator[int]:
        """The item counts of an array's or map's blocks (a negative count is followed by the block's size)."""
        while count := self.long():
            if count < 0:
                self.long()
                count = -count
            yield count


def _decode(reader: _Reader, schema: Any, named: dict[str, Any]) -> Any:
    if isinstance(schema, list):  # a union: the branch's index, then its value
        return _decode(reader, schema[reader.long()], named)
    if isinstance(schema, dict):
        kind = schema["type"]
        if kind == "record":
            named[schema["name"]] = schema
            return {field["name"]: _decode(reader, field["type"], named) for field in schema["fields"]}
        if kind == "array":
            return [_decode(reader, schema["items"], named) for count in reader.blocks() for _ in range(count)]
        if kind == "map":
            return {
                reader.take(reader.long()).decode(): _decode(reader, schema["values"], named)
                for count in reader.blocks()
                for _ in range(count)
            }
        if kind == "fixed":
            named[schema["name"]] = schema
            return reader.take(schema["size"])
        if kind == "enum":
            named[schema["name"]] = schema
            return schema["symbols"][reader.long()]
        return _decode(reader, kind, named)  # a primitive with attributes (a logical type)
    if schema in ("int", "long"):
        return reader.long()
    if schema in ("string", "bytes"):
        raw = reader.take(reader.long())
        return raw.decode() if schema == "string" else raw
    if schema == "null":
        return None
    if schema == "boolean":
        return reader.take(1) != b"\x00"
    if schema == "float":
        return struct.unpack("<f", reader.take(4))[0]
    if schema == "double":
        return struct.unpack("<d", reader.take(8))[0]
    if schema in named:
        return _decode(reader, named[schema], named)
    raise Unsupported(f"Avro type {schema!r}")


def read_avro(path: Path) -> list[dict[str, Any]]:
    """The records of an Avro object container file (codec null or deflate)."""
    reader = _Reader(path.read_bytes())
    if reader.take(4) != b"Obj\x01":
        raise Unsupported(f"{path} is not an Avro container file")
    header = {
        reader.take(reader.long()).decode(): reader.take(reader.long())
        for count in reader.blocks()
        for _ in range(count)
    }
    sync = reader.take(16)
    codec = header.get("avro.codec", b"null").decode()
    if codec not in ("null", "deflate"):
        raise Unsupported(f"Avro codec {codec}")
    schema = json.loads(header["avro.schema"])
    records: list[dict[str, Any]] = []
    while reader.pos < len(reader.data):
        count = reader.long()
        block = reader.take(reader.long())
        if reader.take(16) != sync:
            raise Unsupported(f"{path}: a block does not end with the file's sync marker")
        inner = _Reader(zlib.decompress(block, -15) if codec == "deflate" else block)
        records.extend(_decode(inner, schema, {}) for _ in range(count))
    return records

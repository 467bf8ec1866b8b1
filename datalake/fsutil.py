"""Small filesystem helpers: atomic writes, staged moves and directory sizes."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file and rename, so a reader (or a crash) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: Path, default: Any = None) -> Any:
    if not path.is_file():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


def tree_stats(root: Path, suffixes: tuple[str, ...] | None = None) -> tuple[int, int]:
    """(files, bytes) under root, ignoring hidden bookkeeping files."""
    files = total = 0
    if not root.exists():
        return 0, 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "_"))]
        for name in filenames:
            if name.startswith((".", "_")):
                continue
            if suffixes and not name.endswith(suffixes):
                continue
            files += 1
            total += (Path(dirpath) / name).stat().st_size
    return files, total


def staged_files(staging: Path) -> list[str]:
    """Every file below a staging folder, relative to it, sorted: the moves a commit will make."""
    return sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())


def move_staged(staging: Path, root: Path, moves: list[str]) -> None:
    """Rename staged files to the same relative paths below root, durably; files already moved are skipped.

    Repeatable, so a publish interrupted half-way is finished by running it again. Each destination
    folder is fsynced once, after its renames, so a crash cannot undo a move that was reported done.
    """
    folders: set[Path] = set()
    for rel in moves:
        src, dst = staging / rel, root / rel
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            folders.add(dst.parent)
    for folder in sorted(folders):
        _fsync_dir(folder)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

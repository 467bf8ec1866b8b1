"""The one staged-publish machine: every state recovered the same way, for every writer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datalake.layout import LakeLayout
from datalake.targets.local.etl.run import run_journal
from datalake.targets.local.ingest.run import ingest_journal
from datalake.targets.local.journal import Journal, replace_dir


def _machine(root: Path, published: list[str], loads: list[str], loaded: set[str] | None) -> Journal:
    """A writer whose warehouse holds the ids in `loaded` (None: the writer does not check it)."""

    def load(record: dict[str, Any]) -> int:
        loads.append(record["id"])
        if loaded is not None:
            loaded.add(record["id"])
        return 7

    return Journal(
        root=root,
        runs=root / "_state" / "w" / "runs",
        staging=root / "_state" / "w" / "staging",
        key="id",
        label="w ",
        publish=lambda record: published.append(record["id"]),
        load=load,
        loaded=(lambda: set(loaded)) if loaded is not None else None,
    )


def _stage(journal: Journal, run_id: str, status: str, files: list[str]) -> None:
    for rel in files:
        path = journal.staging(run_id) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(run_id)
    record: dict[str, Any] = {"id": run_id, "status": status}
    if status != "staging":
        record["moves"] = files
    journal.write(record)


def test_recovery_rolls_back_before_the_commit_point_and_forward_after_it(tmp_path: Path) -> None:
    published: list[str] = []
    loads: list[str] = []
    journal = _machine(tmp_path, published, loads, loaded={"d"})
    _stage(journal, "a", "staging", ["processed/t/a.parquet"])
    _stage(journal, "b", "committing", ["processed/t/b.parquet"])
    _stage(journal, "c", "published", [])
    _stage(journal, "d", "loaded", [])
    _stage(journal, "e", "loaded", [])  # the warehouse lost it
    (journal.staging_root / "orphan").mkdir()  # a run killed before its journal was written

    done = journal.recover()

    assert done == [
        "w a: rolled back (interrupted before commit)",
        "w b: published and loaded (interrupted after commit)",
        "w c: loaded into the warehouse",
        "w e: loaded into the warehouse",
    ]
    status = {r["id"]: r["status"] for r in journal.records()}
    assert status == {"a": "abandoned", "b": "loaded", "c": "loaded", "d": "loaded", "e": "loaded"}
    assert not (tmp_path / "processed" / "t" / "a.parquet").exists()
    assert (tmp_path / "processed" / "t" / "b.parquet").read_text() == "b"
    assert published == ["b"] and loads == ["b", "c", "e"]
    assert json.loads(journal.path("b").read_text())["warehouse_rows_loaded"] == 7
    assert not any(journal.staging_root.iterdir())
    assert journal.recover() == []  # nothing left to do: recovery is repeatable


def test_a_writer_without_a_loaded_check_leaves_loaded_runs_alone(tmp_path: Path) -> None:
    loads: list[str] = []
    journal = _machine(tmp_path, [], loads, loaded=None)
    _stage(journal, "a", "loaded", [])
    assert journal.recover() == [] and loads == []


def test_a_publish_killed_half_way_is_finished_by_the_next_one(tmp_path: Path) -> None:
    published: list[str] = []
    journal = _machine(tmp_path, published, [], loaded=None)
    files = ["processed/t/x=1/a.parquet", "processed/t/x=2/b.parquet"]
    _stage(journal, "r", "staging", files)
    record = {"id": "r", "status": "staging"}
    journal.commit(record, manifest={"table": "t"})
    assert json.loads(journal.path("r").read_text()) == {
        "id": "r",
        "status": "committing",
        "moves": files,
        "manifest": {"table": "t"},
    }
    (tmp_path / files[0]).parent.mkdir(parents=True)
    (journal.staging("r") / files[0]).rename(tmp_path / files[0])  # the first file moved, then a kill -9
    journal.recover()
    assert all((tmp_path / rel).is_file() for rel in files)
    assert published == ["r"] and not journal.staging("r").exists()


def test_every_writer_keeps_its_journals_where_existing_lakes_have_them(tmp_path: Path) -> None:
    layout = LakeLayout(tmp_path)
    etl, ingest = run_journal(layout), ingest_journal(layout)
    assert (etl.key, etl.path("r1"), etl.staging("r1")) == (
        "run_id",
        tmp_path / "_state" / "runs" / "r1.json",
        tmp_path / "_state" / "staging" / "r1",
    )
    assert (ingest.key, ingest.path("i1"), ingest.staging("i1")) == (
        "ingest_id",
        tmp_path / "_state" / "ingest" / "runs" / "i1.json",
        tmp_path / "_state" / "ingest" / "staging" / "i1",
    )
    ingest.write({"ingest_id": "i1", "status": "abandoned"})
    assert etl.records() == [] and ingest.records() == [{"ingest_id": "i1", "status": "abandoned"}]


def test_replace_dir_swaps_a_finished_folder_in(tmp_path: Path) -> None:
    target = tmp_path / "out" / "table"
    for content in ("first", "second"):
        staged = tmp_path / "staged"
        staged.mkdir()
        (staged / "part.parquet").write_text(content)
        replace_dir(staged, target)
        assert (target / "part.parquet").read_text() == content and not staged.exists()
    assert sorted(p.name for p in target.parent.iterdir()) == ["table"]

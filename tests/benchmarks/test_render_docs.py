"""docs/benchmarks.md is generated from benchmarks/results/ only: a hand edit, or a stray results file, fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks import render_docs
from tests.paths import REPO


def test_the_committed_page_is_what_render_docs_writes() -> None:
    assert (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8") == render_docs.document(), (
        "docs/benchmarks.md is stale or was edited by hand: run `python benchmarks/render_docs.py`"
    )


def test_every_committed_results_file_is_claimed_and_rendered_with_its_provenance() -> None:
    modules = {name: render_docs.load(name) for name in render_docs.scripts()}
    owner = render_docs.claims(modules)
    for path in sorted(render_docs.RESULTS.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["benchmark"] == path.stem and path.stem in owner
        section = modules[owner[path.stem]].render(document)
        assert section.startswith("## ") and document["command"] in section and str(document["commit"]) in section


def test_a_results_file_no_script_claims_fails_loudly(tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(render_docs.RESULTS, results)
    (results / "orphan.json").write_text("{}", encoding="utf-8")
    with pytest.raises(render_docs.RenderError, match=r"claims results orphan\.json"):
        render_docs.document(results)


def test_scripts_come_in_the_fixed_order_then_the_rest_sorted(tmp_path: Path) -> None:
    for name in ("bench_zeta", "bench_seed", "bench_alpha", "bench_first_run", "helper"):
        (tmp_path / f"{name}.py").write_text("", encoding="utf-8")
    assert render_docs.scripts(tmp_path) == ["bench_first_run", "bench_seed", "bench_alpha", "bench_zeta"]


def test_the_check_mode_fails_on_a_stale_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "benchmarks.md"
    stale.write_text(render_docs.document() + "a hand-written figure: 42x\n", encoding="utf-8")
    monkeypatch.setattr(render_docs, "DOC", stale)
    monkeypatch.setattr("sys.argv", ["render_docs.py", "--check"])
    with pytest.raises(SystemExit, match="is not what"):
        render_docs.main()

"""A soak of the local lake as a team uses it: one process loads round after round while two others query.

Bounded (a few rounds of a few thousand rows), so it runs in CI with every other test.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from datalake.layout import LakeLayout
from datalake.model import EtlOptions
from datalake.targets.local.engines import open_local_engine
from datalake.targets.local.etl.run import run_etl
from datalake.targets.local.validate import validate
from tests.conftest import END_DATE, RUN_TS
from tests.targets.local.test_concurrency import seed_more

ROUNDS = 8
COUNT = "SELECT count(*) FROM sales_fact"


def _query_in_a_loop(root: str, engine: str, ready: Any, stop: Any, out: Any) -> None:  # a child: an analyst
    layout = LakeLayout(Path(root))
    answers: list[int] = []
    failures: list[str] = []
    while not stop.is_set():
        try:
            with open_local_engine(layout, engine) as eng:
                answers.append(int(eng.execute(COUNT).rows[0][0]))
        except Exception as exc:  # every failure is reported, none may happen
            failures.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        ready.set()
    out.put((engine, answers, failures))


def test_queries_during_loads_never_fail_and_always_see_a_committed_state(lake: LakeLayout) -> None:
    seed_more(lake, rows=1_000, seed=100)
    committed = [run_etl(lake, EtlOptions(run_ts=RUN_TS)).rows_processed]
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters, as separate `datalake query` commands are
    stop, out = ctx.Event(), ctx.Queue()
    ready = {engine: ctx.Event() for engine in ("lake", "warehouse")}
    readers = [
        ctx.Process(target=_query_in_a_loop, args=(str(lake.root), engine, ready[engine], stop, out))
        for engine in ready
    ]
    for reader in readers:
        reader.start()
    try:
        assert all(event.wait(60) for event in ready.values())  # both are querying before the first load
        for round_ in range(ROUNDS):
            seed_more(lake, rows=3_000, days=20 + round_, seed=200 + round_)  # fresh sales each round
            committed.append(committed[-1] + run_etl(lake, EtlOptions(run_ts=RUN_TS)).rows_processed)
    finally:
        stop.set()
        results = {engine: (answers, failures) for engine, answers, failures in (out.get(timeout=60) for _ in readers)}
        for reader in readers:
            reader.join(30)
    for engine, (answers, failures) in results.items():
        assert failures == [], engine
        assert answers and set(answers) <= set(committed), (engine, sorted(set(answers) - set(committed)))
        assert answers == sorted(answers), engine  # never back to an older state
    checks = {c.name: c for c in validate(lake, today=END_DATE).checks}
    assert checks["reconciliation"].status == "pass"
    assert checks["reconciliation"].observed["warehouse"] == committed[-1]
    assert checks["no_duplicate_sale_id"].status == "pass"

"""Result dataclasses to JSON and back: field order is key order, older files read with defaults."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from datalake.measure.jsondata import OMIT_NONE, from_json, to_json


@dataclass
class Inner:
    n: int = 0
    share: float = 0.0


@dataclass
class Outer:
    name: str = ""
    inner: Inner = field(default_factory=Inner)
    items: list[Inner] = field(default_factory=list)
    by_key: dict[str, Inner] = field(default_factory=dict)
    maybe: Inner | None = None
    free: dict[str, object] = field(default_factory=dict)
    hidden: str | None = field(default=None, metadata=OMIT_NONE)


def test_to_json_keeps_field_order_and_omits_marked_nones() -> None:
    value = Outer("x", Inner(1, 0.5), [Inner(2)], {"a": Inner(3)}, None, {"k": [1, 2]})
    data = to_json(value)
    assert list(data) == ["name", "inner", "items", "by_key", "maybe", "free"]
    assert data["items"] == [{"n": 2, "share": 0.0}]
    value.hidden = "here"
    assert to_json(value)["hidden"] == "here"


def test_round_trip() -> None:
    value = Outer("x", Inner(1, 0.5), [Inner(2)], {"a": Inner(3)}, Inner(4), {"k": [1, 2]}, "h")
    text = json.dumps(to_json(value))
    assert from_json(Outer, json.loads(text)) == value


def test_an_older_or_broken_file_takes_the_defaults() -> None:
    back = from_json(Outer, {"name": 7, "inner": "not a dict", "items": [{"n": 1}, 3], "by_key": [], "maybe": None})
    assert back == Outer(name="", inner=Inner(), items=[Inner(n=1)], by_key={}, maybe=None)
    assert from_json(Outer, None) == Outer()
    assert from_json(Inner, {"n": True, "share": 2}) == Inner(n=0, share=2)  # a bool is no int; an int stays int

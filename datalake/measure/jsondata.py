"""Result dataclasses to JSON and back, in one place.

`to_json` writes a dataclass's fields in their declared order (nested dataclasses, lists and dicts
too), so a result type's field order is its JSON's key order. `from_json` reads it back leniently:
a results file from an older version may lack a key or hold another shape, and then the field keeps
its default instead of failing the command that reads it (the report, cost-report).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar, Union

T = TypeVar("T")
OMIT_NONE = {"omit_none": True}  # field metadata: leave the key out of the JSON while the value is None
_BAD = object()


def to_json(value: Any) -> Any:
    """The JSON-able form of a result: dataclasses become dicts in field order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is None and f.metadata.get("omit_none"):
                continue
            out[f.name] = to_json(item)
        return out
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def from_json(cls: type[T], data: Any) -> T:
    """`cls` from its JSON form; a missing key, or a value of the wrong shape, takes the field's default."""
    if not isinstance(data, dict):
        data = {}
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            value = _coerce(_hints(cls)[f.name], data[f.name])
            if value is not _BAD:
                kwargs[f.name] = value
    return cls(**kwargs)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _coerce(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None:
            return None if type(None) in options else _BAD
        for option in options:
            if option is not type(None) and (out := _coerce(option, value)) is not _BAD:
                return out
        return _BAD
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return from_json(tp, value) if isinstance(value, dict) else _BAD  # type: ignore[arg-type]
    if origin is list:
        if not isinstance(value, list):
            return _BAD
        (item,) = typing.get_args(tp) or (Any,)
        return [v for v in (_coerce(item, x) for x in value) if v is not _BAD]
    if origin is dict:
        if not isinstance(value, dict):
            return _BAD
        _, item = typing.get_args(tp) or (str, Any)
        return {k: v for k, v in ((k, _coerce(item, x)) for k, x in value.items()) if v is not _BAD}
    return value if _is(tp, value) else _BAD


def _is(tp: Any, value: Any) -> bool:
    """Scalars keep the number type they were saved with (an int stays an int where a float is declared)."""
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True

"""The import rules of docs/architecture.md, checked on every import of the package (lazy ones too).

Imports point down the tree: the CLI knows the library, the library knows the interface, the
implementations know the interface; never the other way. A rule broken here is a layer that
reaches up, which is how a flat package of 50 modules grew its circles.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.paths import REPO

PACKAGE = REPO / "datalake"
KERNEL = {"errors", "config", "progress", "layout", "fsutil", "model", "format"}

# layer -> the layers it may import (besides itself)
MAY_IMPORT: dict[str, set[str]] = {
    "kernel": set(),
    "domain": {"kernel"},
    "targets.base": {"kernel", "domain"},
    "targets": {"kernel", "targets.base", "targets.local", "targets.aws"},  # the factory, lazily
    "targets.local": {"kernel", "domain", "targets.base"},
    "targets.aws": {"kernel", "domain", "targets.base"},
    "measure": {"kernel", "domain", "targets.base"},
    "report": {"kernel", "domain", "targets.base", "targets", "measure"},
    "cli": {"kernel", "domain", "targets.base", "targets", "measure", "report"},
}


def layer(module: str) -> str:
    """The layer of a dotted module name under datalake."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in KERNEL:
        return "kernel"
    if parts[0] == "targets" and len(parts) > 1:
        return "targets." + parts[1]
    return parts[0]


def imports() -> list[tuple[str, str, int]]:
    """(importing module, imported module, line) for every `datalake` import in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                target = max((n for n in names if _is_module(n)), key=len, default=node.module)
                found.append((module, target, node.lineno))
            elif isinstance(node, ast.Import):
                found += [(module, a.name, node.lineno) for a in node.names]
    return [(a, b, line) for a, b, line in found if b == "datalake" or b.startswith("datalake.")]


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (REPO / rel.with_suffix(".py")).is_file() or (REPO / rel / "__init__.py").is_file()


def test_every_layer_of_the_package_is_known() -> None:
    layers = {layer(module) for module, _, _ in imports()}
    assert layers <= set(MAY_IMPORT), layers - set(MAY_IMPORT)


@pytest.mark.parametrize("source", sorted(MAY_IMPORT))
def test_imports_point_down_the_tree(source: str) -> None:
    allowed = MAY_IMPORT[source] | {source}
    wrong = [
        f"{module}:{line} imports {target}"
        for module, target, line in imports()
        if layer(module) == source and layer(target) not in allowed and target != "datalake"
    ]
    assert wrong == []

"""Folders the tests read, wherever a test file sits in the mirrored tree."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
INFRA = REPO / "infra"

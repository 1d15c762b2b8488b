"""The named queries and actions come from an explicit list of area modules (storage.queries.AREAS), not from
discovery: a storage module that defines QUERIES or actions() but is missing from the list fails here, by name."""

from __future__ import annotations

import ast
from pathlib import Path

from storage import queries
from storage.actions import ACTIONS
from storage.queries import AREAS, QUERIES

STORAGE = Path(queries.__file__).parent
REGISTRIES = {"storage.queries", "storage.actions"}


def defining_modules() -> set[str]:
    """Every storage module with a top-level QUERIES dict or an actions() function."""
    found = set()
    for path in STORAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            assigned = [t.id for t in getattr(node, "targets", [getattr(node, "target", None)]) if
                        isinstance(t, ast.Name)]
            if "QUERIES" in assigned or (isinstance(node, ast.FunctionDef) and node.name == "actions"):
                found.add(f"storage.{path.stem}")
    return found - REGISTRIES


def missing(areas: tuple[object, ...]) -> set[str]:
    return defining_modules() - {getattr(area, "__name__", "") for area in areas}


def test_every_area_module_is_listed() -> None:
    assert missing(AREAS) == set(), "add these modules to storage.queries.AREAS"


def test_a_module_left_out_is_named() -> None:
    without_inbox = tuple(a for a in AREAS if a.__name__ != "storage.inbox_queries")
    assert missing(without_inbox) == {"storage.inbox_queries"}


def test_every_listed_module_contributes() -> None:
    for area in AREAS:
        assert set(getattr(area, "QUERIES", {})) <= set(QUERIES)
        if hasattr(area, "actions"):
            assert set(area.actions()) <= set(ACTIONS)
    assert "inbox_reply_target" in QUERIES and "forget_author" in ACTIONS and "download" in ACTIONS

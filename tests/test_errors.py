"""One error root: every exception CivicRadar raises on purpose derives from core.errors.CivicRadarError."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from classifiers.errors import ClassifierError
from collectors.base import CollectorError, RateLimited
from core.errors import CivicRadarError
from core.settings_base import SettingsError
from dashboard.auth import AuthError
from responses.library import LibraryError
from responses.posting import PostingError
from storage.client import OutcomeUnknown, ServiceError
from storage.db import StorageError
from storage.named import QueryError
from storage.sandbox import SqlRejected
from supervise import PortBusy

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "collectors", "classifiers", "alerts", "dashboard", "storage", "responses", "intake")
BUILTIN_BASES = {"Exception", "ValueError", "RuntimeError", "KeyError", "OSError", "TypeError", "LookupError"}


@pytest.mark.parametrize("error", [ClassifierError, CollectorError, RateLimited, SettingsError, AuthError,
                                   LibraryError, PostingError, ServiceError, OutcomeUnknown, StorageError,
                                   QueryError, SqlRejected, PortBusy])
def test_each_area_root_is_beneath_the_one_root(error: type[Exception]) -> None:
    assert issubclass(error, CivicRadarError)


def test_value_errors_stay_value_errors() -> None:  # callers that catch ValueError keep working
    assert all(issubclass(e, ValueError) for e in (QueryError, SqlRejected, LibraryError))


def roots_outside_the_tree() -> list[str]:
    """Classes whose bases are only built-in exceptions: a new error root that is not beneath CivicRadarError."""
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    files += [ROOT / name for name in ("jobs.py", "settings.py", "supervise.py", "runner.py") if (ROOT / name).exists()]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            bases = {b.id for b in getattr(node, "bases", ()) if isinstance(b, ast.Name)}
            if isinstance(node, ast.ClassDef) and bases and bases <= BUILTIN_BASES and node.name != "CivicRadarError":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    return found


def test_no_error_root_outside_the_tree() -> None:
    assert roots_outside_the_tree() == []

"""The label job reads and writes through a typed store (storage.label_store.LabelStore), never a connection."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

from collectors.base import Batch, Claim, Post
from storage.db import Database
from storage.label_store import LabelStore, ModelTags

ROOT = Path(__file__).resolve().parents[1]
CONNECTION_CALLS = {"reader", "transaction", "new_cursor", "exclusive", "execute", "sql"}


def connection_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}:{node.lineno} imports duckdb" for n in names if n and n.startswith("duckdb")]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            on_db = isinstance(receiver, ast.Name | ast.Attribute) and "db" in ast.unparse(receiver).split(".")
            if node.func.attr in CONNECTION_CALLS or (on_db and node.func.attr == "write"):
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}")
    return found


def test_no_classifier_module_touches_a_connection() -> None:
    assert [use for p in sorted((ROOT / "classifiers").glob("*.py")) for use in connection_uses(p)] == []


def test_the_control_finds_a_connection_use(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import duckdb\ndef f(db):\n    db.reader().sql('SELECT 1')\n    db.write(print)\n")
    assert len(connection_uses(probe)) == 4


def test_pending_claims_and_write(fresh_db: Database) -> None:
    fresh_db.write_batch("t", Batch([Post("x", "p1", "boil water notice", datetime(2026, 11, 1))], None,
                                    claims=[Claim("R1", "Salt water cures the virus")]))
    store, tags = LabelStore(fresh_db), ModelTags("s@1", "t@1", "m@1")
    assert store.pending(tags, datetime(2026, 1, 1), 10).column("post_id").to_pylist() == ["p1"]
    assert [c["claim_id"] for c in store.claims()] == ["R1"] and store.claims_version() != "none"
    store.write([{"platform": "x", "post_id": "p1", "created_at": datetime(2026, 11, 1), "sentiment_model": "s@1",
                  "topics_model": "t@1", "misinfo_model": "m@1"}], [])
    assert store.pending(tags, datetime(2026, 1, 1), 10).num_rows == 0

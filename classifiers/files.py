"""Reading topics (TOML settings) and claims / posts (CSV) for the command line and the engine."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import Claim, Topic
from .claims import join_fields
from .errors import ClassifierError


def read_csv(path: Path) -> pd.DataFrame:
    """Every column as text, empty cells as "" (nothing is re-typed on the way out)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def need_columns(frame: pd.DataFrame, columns: Sequence[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ClassifierError(f"{path}: no column {', '.join(missing)} (columns: {', '.join(frame.columns)})")


def load_topics(settings: Path | None) -> list[Topic]:
    """``[[classifiers.topics]]`` (or top-level ``[[topics]]``) tables: name, description, examples, keywords."""
    if settings is None:
        return []
    data = tomllib.loads(Path(settings).read_text())
    tables = data.get("classifiers", {}).get("topics", data.get("topics", []))
    return [
        Topic(t["name"], t.get("description", ""), tuple(t.get("examples", ())), tuple(t.get("keywords", ())))
        for t in tables
    ]


def default_claim_columns(frame: pd.DataFrame) -> list[str]:
    for choice in (["text"], ["claim"], ["title", "vclaim", "subtitle"]):
        present = [c for c in choice if c in frame.columns]
        if present:
            return present
    raise ClassifierError("claims file: say which columns hold the claim with --claim-text-columns")


def load_claims(path: Path, id_column: str | None = None, text_columns: Sequence[str] | None = None) -> list[Claim]:
    """Claims from CSV: id (default ``claim_id``, else the first column), text from one or more columns;
    optional ``rating``, ``url`` and ``source`` columns are kept for the flag's reason."""
    frame = read_csv(path)
    id_column = id_column or ("claim_id" if "claim_id" in frame.columns else str(frame.columns[0]))
    columns = list(text_columns or default_claim_columns(frame))
    need_columns(frame, [id_column, *columns], path)

    def optional(row: pd.Series, name: str) -> str | None:
        return row[name] or None if name in frame.columns else None

    return [
        Claim(row[id_column], join_fields([row[c] for c in columns]), optional(row, "rating"),
              optional(row, "url"), optional(row, "source"))
        for _, row in frame.iterrows()
    ]

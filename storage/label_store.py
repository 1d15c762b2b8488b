"""The label job's typed store: the posts waiting for labels, the claims they are matched against, and the one
write of a batch's labels and embeddings.

The classifiers package gets this, never a Database or a connection; the SQL stays in `storage.labels`, so another
storage kind implements the same methods. `runs` is the same storage's run log, for the label job's recorded runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from storage import labels
from storage.db import Database
from storage.labels import ModelTags as ModelTags  # re-exported: the label job tags its rows with it
from storage.runs import RunLog


class LabelStore:
    __slots__ = ("_db", "runs")

    def __init__(self, db: Database) -> None:
        self._db = db
        self.runs = RunLog(db)

    def pending(self, tags: ModelTags, rematch_since: datetime, limit: int) -> pa.Table:
        """Posts (platform, post_id, created_at, text) without current labels: unlabelled first, newest first."""
        return labels.pending(self._db, tags, rematch_since, limit)

    def claims_version(self) -> str:
        """Changes whenever a claim is added, edited or removed."""
        return labels.claims_version(self._db)

    def claims(self) -> list[dict[str, Any]]:
        """The fact-check claims (claim_id, text, rating, url, source)."""
        rows: list[dict[str, Any]] = labels.claims(self._db).to_pylist()
        return rows

    def write(self, rows: Sequence[dict[str, object]], vectors: Sequence[dict[str, object]]) -> None:
        """One batch's labels and embeddings, in one transaction (see `storage.labels.write`)."""
        labels.write(self._db, rows, vectors)

"""Reads for detection's fast path (alerts.fastpath): which watches a just-labelled batch of posts is on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

BATCH_WATCHES = """
SELECT DISTINCT u.w
FROM posts p JOIN (SELECT unnest($platforms::VARCHAR[]) AS platform, unnest($ids::VARCHAR[]) AS post_id) k
     USING (platform, post_id), unnest(p.watches) AS u(w)
WHERE p.created_at >= $since
"""


def batch_watches(con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str]], since: datetime) -> set[str]:
    """The watches of the posts `keys` (platform, post_id), all created at or after `since`."""
    if not keys:
        return set()
    params = {"platforms": [k[0] for k in keys], "ids": [k[1] for k in keys], "since": since}
    return {str(row[0]) for row in con.execute(BATCH_WATCHES, params).fetchall()}

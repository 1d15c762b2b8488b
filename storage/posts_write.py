"""Posts on their way in and out: a batch as an Arrow table in POST_SCHEMA (`posts_table`), and the deletion of
posts with every row that hangs on them (`delete_posts`: retention, upstream deletions, `civicradar forget`).
`storage.db` writes through these and re-exports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from core.records import Post, scrub
from storage import rollup

POST_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("post_id", pa.string()),
        ("url", pa.string()),
        ("author_id", pa.string()),
        ("author_handle", pa.string()),
        ("text", pa.string()),
        ("lang", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("collected_at", pa.timestamp("us")),
        ("source", pa.string()),
        ("watches", pa.list_(pa.string())),
        ("like_count", pa.int64()),
        ("repost_count", pa.int64()),
        ("reply_count", pa.int64()),
        ("quote_count", pa.int64()),
        ("reply_to_id", pa.string()),
        ("repost_of_id", pa.string()),
        ("quote_of_id", pa.string()),
        ("raw", pa.string()),
        ("direction", pa.string()),  # to_agency | by_agency | public
    ]
)
DEPENDENT_TABLES = ("post_keys", "labels", "embeddings", "inbox_items", "inbox_events", "own_post_engagement",
                    "service_requests")


_PLAIN = ("platform", "post_id", "url", "author_id", "author_handle", "text", "lang", "like_count", "repost_count",
          "reply_count", "quote_count", "reply_to_id", "repost_of_id", "quote_of_id", "direction")


def posts_table(posts: Sequence[Post], source: str, collected_at: datetime) -> pa.Table:
    """Posts as an Arrow table, column by column; the last copy of a repeated (platform, post_id) wins (an edit).

    Written to allocate few Python containers: at 50k posts a batch, the garbage collector's passes over new
    tuples and lists cost more than the conversion itself."""
    keys = list(map("\0".join, map(attrgetter("platform", "post_id"), posts)))
    if len(set(keys)) < len(keys):
        posts = list(dict(zip(keys, posts, strict=True)).values())
    columns: dict[str, Any] = {name: list(map(attrgetter(name), posts)) for name in _PLAIN}
    created = pd.to_datetime(list(map(attrgetter("created_at"), posts)), utc=True).tz_localize(None)  # -> UTC
    columns["created_at"] = pa.array(created, pa.timestamp("us"))
    columns["collected_at"] = pa.array([collected_at] * len(posts), pa.timestamp("us"))
    columns["source"] = [source] * len(posts)
    columns["watches"] = list(map(attrgetter("watches"), posts))
    columns["raw"] = [p.raw_json() for p in posts]
    try:
        return pa.table(columns, schema=POST_SCHEMA)
    except UnicodeEncodeError:  # a lone surrogate somewhere: rare, so only then pay for scrubbing every string
        return pa.table({k: _scrubbed(v) for k, v in columns.items()}, schema=POST_SCHEMA)


def _scrubbed(values: Any) -> Any:
    if not isinstance(values, list):
        return values
    return [scrub(v) if isinstance(v, str) else [scrub(w) for w in v] if isinstance(v, list | tuple) else v
            for v in values]


def delete_posts(con: duckdb.DuckDBPyConnection, where: str, params: dict[str, Any] | None = None) -> int:
    """Posts matching `where`, with their keys, labels and embeddings; the rollups are recounted."""
    # selected, then deleted by the same condition in the same transaction: DuckLake has no DELETE ... RETURNING
    removed = con.sql(f"SELECT platform, post_id, created_at FROM posts WHERE {where}",
                      params=params).to_arrow_table()
    if removed.num_rows:
        con.execute(f"DELETE FROM posts WHERE {where}", params)
        con.register("removed", removed)
        try:
            for table in DEPENDENT_TABLES:
                con.execute(f"DELETE FROM {table} t USING removed r "
                            "WHERE t.platform = r.platform AND t.post_id = r.post_id")
        finally:
            con.unregister("removed")
        rollup.refresh(con, removed.column("created_at"))
    return removed.num_rows

"""Named, parameterised read queries: the only reads the dashboard makes.

Each query declares its parameters with a type and a default; the service rejects unknown names and values
that do not parse. SQL uses DuckDB `$name` parameters, so values never become SQL text.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import duckdb
import pyarrow as pa

from storage import (
    alert_queries,
    dashboard_queries,
    effect_queries,
    inbox_queries,
    incident_queries,
    posting_queries,
    response_queries,
    retention,
    service_queries,
    touchpoint_queries,
)
from storage.named import PARAM_TYPES as PARAM_TYPES  # re-exported: the declarations live in storage.named
from storage.named import WINDOW as WINDOW
from storage.named import Param as Param
from storage.named import Query as Query
from storage.named import QueryError as QueryError

QUERIES: dict[str, Query] = {
    "post_counts": Query(
        "SELECT platform, source, count(*) AS posts, max(created_at) AS latest FROM posts "
        "GROUP BY ALL ORDER BY posts DESC",
        doc="Posts stored per platform and source.",
    ),
    "post_keys": Query(
        "SELECT platform, post_id FROM posts WHERE source = $source ORDER BY platform, post_id",
        {"source": Param("str", required=True)},
        doc="Every stored (platform, post_id) of one source: for audits and tests of exactly-once storage.",
    ),
    "volume": Query(
        # from the 5-minute rollup (storage/rollup.py): ~2k rows for a day, whatever the number of posts
        """
        SELECT time_bucket(to_minutes($bucket_minutes), bucket) AS bucket, platform, watch, sum(posts)::BIGINT AS posts
        FROM volume_5m WHERE bucket >= $since AND bucket < $until
        GROUP BY ALL ORDER BY bucket
        """,
        {**WINDOW, "bucket_minutes": Param("bucket_minutes", 60)},
        doc="Posts per time bucket, platform and watch (a post in two watches counts in both); 5-minute resolution.",
    ),
    "window_totals": Query(
        """
        SELECT coalesce(sum(posts), 0)::BIGINT AS posts, count(DISTINCT platform) AS platforms
        FROM posts_5m WHERE bucket >= $since AND bucket < $until
        """,
        WINDOW,
        doc="Posts and platforms in a time window, from the 5-minute rollup (5-minute resolution).",
    ),
    "recent_posts": Query(
        """
        SELECT platform, post_id, created_at, author_handle, text, watches, url
        FROM posts WHERE created_at < $until ORDER BY created_at DESC LIMIT $limit
        """,
        {"until": Param("time", required=True), "limit": Param("int", 20)},
        doc="The newest posts before a time.",
    ),
    "source_health": Query(
        """
        SELECT r.source, r.job, r.status, r.started_at, r.finished_at, r.items, r.warnings, r.quarantined, r.error,
               c.updated_at AS cursor_updated_at
        FROM runs r LEFT JOIN cursors c USING (source)
        QUALIFY row_number() OVER (PARTITION BY r.source, r.job ORDER BY r.run_id DESC) = 1
        ORDER BY r.source
        """,
        doc="The last run of every source and job.",
    ),
    "runs": Query(
        "SELECT * FROM runs WHERE $source IS NULL OR source = $source ORDER BY run_id DESC LIMIT $limit",
        {"source": Param("str"), "limit": Param("int", 100)},
        doc="The run log, newest first.",
    ),
}


# Every area module with named queries (a dict QUERIES) or actions (`actions()`), listed here, not discovered:
# tests/test_named_registry.py fails for a storage module that defines them but is missing from this list.
AREAS: tuple[ModuleType, ...] = (
    dashboard_queries, retention, alert_queries, incident_queries, response_queries, inbox_queries, effect_queries,
    touchpoint_queries, posting_queries, service_queries,
)


def merged(base: dict[str, Any], kind: str, parts: list[tuple[str, dict[str, Any]]]) -> None:
    """Add each area's entries to `base`; two areas defining one name is a programming error, found at import."""
    for module, found in parts:
        clash = set(found) & set(base)
        if clash:
            raise RuntimeError(f"{module} redefines {kind} {sorted(clash)}")
        base.update(found)


merged(QUERIES, "named queries", [(area.__name__, getattr(area, "QUERIES", {})) for area in AREAS])


def run_query(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any]) -> pa.Table:
    """The one way a named query runs (the service, the alerts' digest, the CLI without an engine): its parameters
    bound (unknown names and unparsable values are a QueryError), its SQL executed on `con`."""
    query = QUERIES.get(name)
    if query is None:
        raise QueryError(f"no query named {name!r}; GET /v1/queries (or storage.queries.QUERIES) lists them")
    return con.execute(query.sql, query.bind(name, params)).to_arrow_table()

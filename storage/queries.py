"""Named, parameterised read queries: the only reads the dashboard makes.

Each query declares its parameters with a type and a default; the service rejects unknown names and values
that do not parse. SQL uses DuckDB `$name` parameters, so values never become SQL text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.times import parse_time
from storage.db import naive_utc


class QueryError(ValueError):
    """Unknown query or bad parameter; the message says which and what is expected."""


def _time(value: Any) -> datetime:
    if isinstance(value, str):  # the clients send ISO 8601: read it without dateutil's slower, lenient parser
        try:
            return naive_utc(datetime.fromisoformat(value))
        except ValueError:
            pass
    return naive_utc(parse_time(value))


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")
    return value


def _bucket_minutes(value: Any) -> int:
    minutes = int(value)
    if minutes < 5 or minutes % 5:
        raise ValueError("expected a multiple of 5 minutes (the rollup's resolution)")
    return minutes


PARAM_TYPES: dict[str, Callable[[Any], Any]] = {
    "bucket_minutes": _bucket_minutes,
    "time": _time,
    "int": int,
    "float": float,
    "str": str,
    "str_list": _str_list,
}


@dataclass(frozen=True)
class Param:
    type: str
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class Query:
    sql: str
    params: Mapping[str, Param] = field(default_factory=dict)
    doc: str = ""

    def bind(self, name: str, given: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(given) - set(self.params)
        if unknown:
            raise QueryError(f"query {name!r}: unknown parameter(s) {sorted(unknown)}; known: {sorted(self.params)}")
        bound = {}
        for key, spec in self.params.items():
            if given.get(key) is None:
                if spec.required:
                    raise QueryError(f"query {name!r}: parameter {key!r} ({spec.type}) is required")
                bound[key] = spec.default
                continue
            try:
                bound[key] = PARAM_TYPES[spec.type](given[key])
            except (TypeError, ValueError, OverflowError) as e:
                raise QueryError(f"query {name!r}: parameter {key!r} must be {spec.type}: {e}") from e
        return bound


WINDOW = {"since": Param("time", required=True), "until": Param("time", required=True)}

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


def _register_area_queries() -> None:
    """Each area keeps its named queries in its own module (storage/<area>_queries.py, a dict QUERIES)."""
    import importlib

    for module in AREA_MODULES:
        area = importlib.import_module(module)
        clash = set(area.QUERIES) & set(QUERIES)
        if clash:
            raise RuntimeError(f"{module} redefines named queries {sorted(clash)}")
        QUERIES.update(area.QUERIES)


AREA_MODULES: list[str] = [  # e.g. "storage.alert_queries"; add one line per area module
    "storage.dashboard_queries",
    "storage.retention",
    "storage.alert_queries",
    "storage.incident_queries",
    "storage.response_queries",
    "storage.inbox_queries",
    "storage.effect_queries",
    "storage.touchpoint_queries",
    "storage.posting_queries",
    "storage.service_queries",
]
_register_area_queries()

"""A 5-minute rollup of post counts by platform, watch and sentiment: what live charts read.

Counting posts for a 24-hour chart means grouping ~170k rows at 5M posts; the rollup makes it ~2k rows. It is
never incremented blindly: new posts are added to their buckets, and every write that re-collects, relabels or
removes posts recomputes the 5-minute buckets it touched from `posts` and `labels`, inside the same transaction,
so the rollup is always exactly what a full count would say.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

BUCKET = "INTERVAL 5 MINUTE"

MIGRATION = """
CREATE TABLE volume_5m (
    bucket    TIMESTAMP NOT NULL,
    platform  VARCHAR NOT NULL,
    watch     VARCHAR NOT NULL,   -- '(no watch)' for posts in none
    sentiment VARCHAR NOT NULL,   -- negative | neutral | positive | unscored
    posts     BIGINT NOT NULL,
    PRIMARY KEY (bucket, platform, watch, sentiment)
);
INSERT INTO volume_5m {counts};
"""

_COUNTS = f"""
WITH p AS (SELECT platform, post_id, created_at, watches FROM posts {{where}}),
l AS (SELECT platform, post_id, sentiment FROM labels {{where}}),
c AS (SELECT time_bucket({BUCKET}, p.created_at) AS bucket, p.platform, p.watches,
             coalesce(l.sentiment, 'unscored') AS sentiment, count(*) AS n
      FROM p LEFT JOIN l ON p.platform = l.platform AND p.post_id = l.post_id {{bucket_filter}} GROUP BY ALL)
SELECT bucket, platform, watch, sentiment, sum(n)::BIGINT AS posts
FROM (SELECT bucket, platform, sentiment, n,
             unnest(CASE WHEN len(watches) = 0 THEN ['(no watch)'] ELSE watches END) AS watch FROM c)
GROUP BY ALL
"""

ALL_COUNTS = _COUNTS.format(where="", bucket_filter="")
TOUCHED_COUNTS = _COUNTS.format(
    where="WHERE created_at >= (SELECT min(bucket) FROM touched) "
          f"AND created_at < (SELECT max(bucket) FROM touched) + {BUCKET}",
    bucket_filter="WHERE time_bucket(" + BUCKET + ", p.created_at) IN (SELECT bucket FROM touched)",
)
MIGRATION_SQL = MIGRATION.format(counts=ALL_COUNTS)


ADD = f"""
INSERT INTO volume_5m
SELECT time_bucket({BUCKET}, created_at) AS bucket, platform, watch, 'unscored' AS sentiment, count(*) AS posts
FROM (SELECT created_at, platform, unnest(CASE WHEN len(watches) = 0 THEN ['(no watch)'] ELSE watches END) AS watch
      FROM {{source}})
GROUP BY ALL
ON CONFLICT DO UPDATE SET posts = volume_5m.posts + excluded.posts
"""


def add(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Count posts that were not stored before (`source`: a FROM clause), inside the caller's transaction. Exact
    without a recount: a new post has no label yet (labels are deleted with their posts), so it is 'unscored'."""
    con.execute(ADD.format(source=source))


def refresh(con: duckdb.DuckDBPyConnection, times: pa.Array | list[object]) -> None:
    """Recount every 5-minute bucket containing one of `times` (created_at of posts added, relabelled or
    removed), inside the caller's transaction."""
    if not len(times):
        return
    stamps = pa.array(times, pa.timestamp("us")).drop_null()
    # 5-minute floors from the Unix epoch: the same boundaries as DuckDB's time_bucket (both origins are midnights)
    buckets = pc.unique(pc.floor_temporal(stamps, multiple=5, unit="minute"))
    con.register("touched", pa.table({"bucket": buckets}))
    try:
        con.execute("DELETE FROM volume_5m WHERE bucket IN (SELECT bucket FROM touched)")
        con.execute(f"INSERT INTO volume_5m {TOUCHED_COUNTS}")
    finally:
        con.unregister("touched")

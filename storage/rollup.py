"""5-minute rollups of post counts by platform, watch and sentiment (`volume_5m`) and by platform and sentiment
(`posts_5m`, each post once): what live charts and totals read.

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

_POST_COUNTS = f"""
WITH p AS (SELECT platform, post_id, created_at FROM posts {{where}}),
l AS (SELECT platform, post_id, sentiment FROM labels {{where}})
SELECT time_bucket({BUCKET}, p.created_at) AS bucket, p.platform, coalesce(l.sentiment, 'unscored') AS sentiment,
       count(*)::BIGINT AS posts
FROM p LEFT JOIN l ON p.platform = l.platform AND p.post_id = l.post_id {{bucket_filter}} GROUP BY ALL
"""
POSTS_MIGRATION = """
-- each post counted once (volume_5m counts a post in every watch it is in): totals and tiles read this
CREATE TABLE posts_5m (
    bucket    TIMESTAMP NOT NULL,
    platform  VARCHAR NOT NULL,
    sentiment VARCHAR NOT NULL,
    posts     BIGINT NOT NULL,
    PRIMARY KEY (bucket, platform, sentiment)
);
INSERT INTO posts_5m {counts};
"""
_ALL = {"where": "", "bucket_filter": ""}
_TOUCHED = {
    "where": "WHERE created_at >= (SELECT min(bucket) FROM touched) "
             f"AND created_at < (SELECT max(bucket) FROM touched) + {BUCKET}",
    "bucket_filter": "WHERE time_bucket(" + BUCKET + ", p.created_at) IN (SELECT bucket FROM touched)",
}
ALL_COUNTS, ALL_POST_COUNTS = _COUNTS.format(**_ALL), _POST_COUNTS.format(**_ALL)
TABLES = {"volume_5m": _COUNTS.format(**_TOUCHED), "posts_5m": _POST_COUNTS.format(**_TOUCHED)}
MIGRATION_SQL = MIGRATION.format(counts=ALL_COUNTS)
POSTS_MIGRATION_SQL = POSTS_MIGRATION.format(counts=ALL_POST_COUNTS)

ADD = f"""
INSERT INTO volume_5m
SELECT time_bucket({BUCKET}, created_at) AS bucket, platform, watch, 'unscored' AS sentiment, count(*) AS posts
FROM (SELECT created_at, platform, unnest(CASE WHEN len(watches) = 0 THEN ['(no watch)'] ELSE watches END) AS watch
      FROM {{source}})
GROUP BY ALL
ON CONFLICT DO UPDATE SET posts = volume_5m.posts + excluded.posts;
INSERT INTO posts_5m
SELECT time_bucket({BUCKET}, created_at) AS bucket, platform, 'unscored' AS sentiment, count(*) AS posts
FROM {{source}} GROUP BY ALL
ON CONFLICT DO UPDATE SET posts = posts_5m.posts + excluded.posts;
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
        for table, counts in TABLES.items():
            con.execute(f"DELETE FROM {table} WHERE bucket IN (SELECT bucket FROM touched)")
            con.execute(f"INSERT INTO {table} {counts}")
    finally:
        con.unregister("touched")

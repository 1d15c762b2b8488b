"""5-minute rollups: post counts by platform, watch and sentiment (`volume_5m`), by platform and sentiment
(`posts_5m`, each post once), and labelled posts by topic and sentiment (`topics_5m`): what live charts, totals and
rising topics read.

Counting posts for a 24-hour chart means grouping ~170k rows at 5M posts; the rollup makes it ~2k rows. It is
never incremented blindly, and always exactly what a full count would say, kept inside the transaction of every
write that changes it: new posts are added to their buckets (`add`); a label write moves each of its posts from its
old sentiment and topics to the new ones (`relabel`: a few hundred rows, whatever the volume); re-collected and
removed posts have their 5-minute buckets recounted from `posts` and `labels` (`refresh`).
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
# Topics come from `labels` alone (a label's created_at is its post's); a post counts once per topic it has. unnest in
# the select list: a lateral `FROM labels, unnest(topics)` is a delim join, 50x slower at 5M labels.
_TOPIC_COUNTS = f"""
SELECT time_bucket({BUCKET}, created_at) AS bucket, topic, sentiment, count(*)::BIGINT AS posts
FROM (SELECT created_at, coalesce(sentiment, 'unscored') AS sentiment, unnest([t.name FOR t IN topics]) AS topic
      FROM labels {{where}})
WHERE topic IS NOT NULL {{bucket_filter}}
GROUP BY ALL
"""
TOPICS_MIGRATION = """
-- labelled posts per topic: topic volume and rising topics read this instead of unnesting a day of labels
CREATE TABLE topics_5m (
    bucket    TIMESTAMP NOT NULL,
    topic     VARCHAR NOT NULL,
    sentiment VARCHAR NOT NULL,   -- negative | neutral | positive | unscored (a label without a sentiment)
    posts     BIGINT NOT NULL,
    PRIMARY KEY (bucket, topic, sentiment)
);
INSERT INTO topics_5m {counts};
"""
_TOUCHED_TOPICS = {**_TOUCHED,
                   "bucket_filter": f"AND time_bucket({BUCKET}, created_at) IN (SELECT bucket FROM touched)"}
ALL_COUNTS, ALL_POST_COUNTS = _COUNTS.format(**_ALL), _POST_COUNTS.format(**_ALL)
ALL_TOPIC_COUNTS = _TOPIC_COUNTS.format(**_ALL)
TABLES = {"volume_5m": _COUNTS.format(**_TOUCHED), "posts_5m": _POST_COUNTS.format(**_TOUCHED),
          "topics_5m": _TOPIC_COUNTS.format(**_TOUCHED_TOPICS)}
MIGRATION_SQL = MIGRATION.format(counts=ALL_COUNTS)
POSTS_MIGRATION_SQL = POSTS_MIGRATION.format(counts=ALL_POST_COUNTS)
TOPICS_MIGRATION_SQL = TOPICS_MIGRATION.format(counts=ALL_TOPIC_COUNTS)

KEYS = {"volume_5m": "bucket, platform, watch, sentiment", "posts_5m": "bucket, platform, sentiment",
        "topics_5m": "bucket, topic, sentiment"}


def _merge(table: str, counts: str) -> str:
    """Add `counts` (rows of `table`'s columns) to `table`: MERGE on the key, the one statement that runs both on
    DuckDB and on DuckLake (which has no unique keys, so no ON CONFLICT)."""
    return (f"MERGE INTO {table} USING ({counts}) AS c USING ({KEYS[table]}) "
            f"WHEN MATCHED THEN UPDATE SET posts = {table}.posts + c.posts WHEN NOT MATCHED THEN INSERT BY NAME;")


ADD = _merge("volume_5m", f"""
SELECT time_bucket({BUCKET}, created_at) AS bucket, platform, watch, 'unscored' AS sentiment, count(*) AS posts
FROM (SELECT created_at, platform, unnest(CASE WHEN len(watches) = 0 THEN ['(no watch)'] ELSE watches END) AS watch
      FROM {{source}})
GROUP BY ALL""") + _merge("posts_5m", f"""
SELECT time_bucket({BUCKET}, created_at) AS bucket, platform, 'unscored' AS sentiment, count(*) AS posts
FROM {{source}} GROUP BY ALL""")

# Each relabelled post before and after: its watches, old sentiment and topics (none stored: 'unscored', no topics)
# and new ones. Joined on created_at too, so both scans skip all but the row groups of the batch's times; a label
# whose post is gone (deleted while it was being labelled) is not written, and drops out here as well.
CHANGES = """
SELECT n.created_at, n.platform, p.watches, coalesce(o.sentiment, 'unscored') AS old_sentiment,
       o.topics AS old_topics, coalesce(n.sentiment, 'unscored') AS new_sentiment, n.topics AS new_topics
FROM {source} n
JOIN posts p ON p.platform = n.platform AND p.post_id = n.post_id AND p.created_at = n.created_at
LEFT JOIN labels o ON o.platform = n.platform AND o.post_id = n.post_id AND o.created_at = n.created_at
"""
_SIGNED = """(SELECT created_at, platform, watches, old_sentiment AS sentiment, old_topics AS topics, -1 AS n
              FROM label_changes
              UNION ALL SELECT created_at, platform, watches, new_sentiment, new_topics, 1 FROM label_changes)"""
_MOVED = f"bucket IN (SELECT time_bucket({BUCKET}, created_at) FROM label_changes)"
DELTAS = _merge("volume_5m", f"""
SELECT bucket, platform, watch, sentiment, sum(n)::BIGINT AS posts
FROM (SELECT time_bucket({BUCKET}, created_at) AS bucket, platform, sentiment, n,
             unnest(CASE WHEN len(watches) = 0 THEN ['(no watch)'] ELSE watches END) AS watch FROM {_SIGNED})
GROUP BY ALL HAVING sum(n) <> 0""") + _merge("posts_5m", f"""
SELECT time_bucket({BUCKET}, created_at) AS bucket, platform, sentiment, sum(n)::BIGINT AS posts FROM {_SIGNED}
GROUP BY ALL HAVING sum(n) <> 0""") + _merge("topics_5m", f"""
SELECT bucket, topic, sentiment, sum(n)::BIGINT AS posts
FROM (SELECT time_bucket({BUCKET}, created_at) AS bucket, sentiment, n, unnest([t.name FOR t IN topics]) AS topic
      FROM {_SIGNED})
WHERE topic IS NOT NULL GROUP BY ALL HAVING sum(n) <> 0""") + f"""
DELETE FROM volume_5m WHERE posts = 0 AND {_MOVED};
DELETE FROM posts_5m WHERE posts = 0 AND {_MOVED};
DELETE FROM topics_5m WHERE posts = 0 AND {_MOVED};
"""


def add(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Count posts that were not stored before (`source`: a FROM clause), inside the caller's transaction. Exact
    without a recount: a new post has no label yet (labels are deleted with their posts), so it is 'unscored'."""
    con.execute(ADD.format(source=source))


def relabel(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Move each post of `source` (new label rows, one per post, as a registered relation) from its stored labels
    to the new ones in every rollup, inside the caller's transaction and before the labels are replaced. Exact
    without a recount: the rollups counted each post under its stored labels, and nothing else changes."""
    changes = con.sql(CHANGES.format(source=source)).to_arrow_table()
    if not changes.num_rows:
        return
    con.register("label_changes", changes)
    try:
        con.execute(DELTAS)
    finally:
        con.unregister("label_changes")


def refresh(con: duckdb.DuckDBPyConnection, times: pa.Array | list[object]) -> None:
    """Recount every 5-minute bucket containing one of `times` (created_at of posts re-collected or removed, or
    labels written without `relabel`), inside the caller's transaction."""
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

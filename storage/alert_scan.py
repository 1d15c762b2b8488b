"""The detectors' reads: pre-aggregated counts per 5-minute bucket and series, claim matches, candidate groups.

Each function runs one query over explicit time ranges (half-open, naive UTC), so DuckDB scans the ranges a
pass needs and nothing else; the detectors compare the aggregates with their baselines in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from storage.db import one


def _within(column: str, count: int) -> str:
    """`column` in any of `count` half-open ranges ($lo_i, $hi_i), plus the overall bounds (so zone maps prune)."""
    ranges = " OR ".join(f"({column} >= $lo_{i} AND {column} < $hi_{i})" for i in range(count))
    return f"{column} >= $lo_0 AND {column} < $hi_last AND ({ranges})"


def _series_counts_sql(count: int) -> str:
    return f"""
WITH p AS (SELECT platform, post_id, created_at, watches FROM posts WHERE {_within("created_at", count)}),
l AS (SELECT platform, post_id, created_at, sentiment, topics FROM labels WHERE {_within("created_at", count)}),
j AS (SELECT p.created_at, p.watches, l.sentiment FROM p LEFT JOIN l USING (platform, post_id)),
s AS (SELECT created_at, sentiment, 'all' AS dim, '*' AS key FROM j
      UNION ALL SELECT created_at, sentiment, 'watch', u.w FROM j, unnest(j.watches) AS u(w)
      -- topics straight from labels (they carry the post's time); a lateral unnest filtered on the struct's
      -- score is ~50x slower in DuckDB 2.0 than unnesting in the select list and filtering after
      UNION ALL SELECT created_at, sentiment, 'topic', t.name FROM (SELECT created_at, sentiment, unnest(topics) AS t
                FROM l) WHERE t.score >= $topic_min_score)
SELECT time_bucket(to_minutes($bucket_minutes), created_at) AS bucket, dim, key, count(*) AS posts,
       count(sentiment) AS labelled, count(*) FILTER (WHERE sentiment = 'negative') AS negative
FROM s GROUP BY ALL
"""


def series_counts(con: duckdb.DuckDBPyConnection, ranges: Sequence[tuple[datetime, datetime]],
                  bucket_minutes: int, topic_min_score: float) -> pd.DataFrame:
    """Posts, labelled posts and negative posts per bucket for every watch, topic and 'all' ('*').

    `ranges` are sorted and disjoint (see `alerts.windows.merge_ranges`)."""
    params: dict[str, Any] = {f"lo_{i}": lo for i, (lo, _) in enumerate(ranges)}
    params.update({f"hi_{i}": hi for i, (_, hi) in enumerate(ranges)})
    params.update({"hi_last": ranges[-1][1], "bucket_minutes": bucket_minutes, "topic_min_score": topic_min_score})
    return con.execute(_series_counts_sql(len(ranges)), params).df()


def first_post_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the stored history starts: earlier baseline windows are not 'quiet', they are missing."""
    row = one(con, "SELECT min(created_at) FROM posts")
    return None if row is None else row[0]


def _terms(column: str) -> str:
    return (f"list_distinct(list_transform(list_filter(regexp_split_to_array(lower({column}), '[^a-z0-9]+'), "
            "lambda t: length(t) >= 3 AND NOT list_contains($stop, t)), lambda t: left(t, 5)))")


CLAIM_MATCHES = f"""
WITH c AS (SELECT claim_id, text, url, rating, source, {_terms("split_part(text, 'Official fact:', 1)")} AS terms
           FROM claims WHERE lower(trim(rating)) IN (SELECT unnest($ratings::VARCHAR[]))),
l AS (SELECT platform, post_id, matched_claim_id, matched_claim_score, misinfo_model FROM labels
      WHERE created_at >= $lo AND created_at < $hi),
p AS (SELECT p.platform, p.post_id, p.created_at, p.text, p.url, p.like_count + p.repost_count AS engagement,
             l.matched_claim_id, l.matched_claim_score, l.misinfo_model IS NOT NULL AS labelled
      FROM posts p LEFT JOIN l USING (platform, post_id) WHERE p.created_at >= $lo AND p.created_at < $hi),
x AS (SELECT q.* EXCLUDE (terms), c.claim_id, 'lexical' AS via, len(list_intersect(q.terms, c.terms)) AS shared,
             len(c.terms) AS size
      FROM (SELECT *, {_terms("text")} AS terms FROM p WHERE NOT labelled) q, c),
m AS (SELECT p.*, p.matched_claim_id AS claim_id, 'labeller' AS via FROM p
      WHERE labelled AND matched_claim_score >= $min_score AND matched_claim_id IN (SELECT claim_id FROM c)
      UNION ALL
      (SELECT * EXCLUDE (shared, size) FROM x WHERE shared >= greatest($min_shared, ceil($min_fraction * size))
       QUALIFY row_number() OVER (PARTITION BY platform, post_id ORDER BY shared / size DESC, claim_id) = 1))
"""  # a post matched lexically counts once, for the claim it shares the largest part of


def _claim_params(lo: datetime, hi: datetime, rule: Any, stopwords: Iterable[str]) -> dict[str, Any]:
    return {"lo": lo, "hi": hi, "ratings": [r.lower() for r in rule.false_ratings], "stop": sorted(stopwords),
            "min_score": rule.min_match_score, "min_shared": rule.lexical_min_shared,
            "min_fraction": rule.lexical_min_fraction}


def claim_match_counts(con: duckdb.DuckDBPyConnection, lo: datetime, hi: datetime, bucket_minutes: int,
                       rule: Any, stopwords: Iterable[str]) -> pd.DataFrame:
    """Posts matching each false-rated claim per bucket, and how they were matched (labeller | lexical)."""
    sql = CLAIM_MATCHES + ("SELECT time_bucket(to_minutes($bucket_minutes), created_at) AS bucket, claim_id, "
                           "count(*) FILTER (WHERE via = 'labeller') AS labeller, "
                           "count(*) FILTER (WHERE via = 'lexical') AS lexical FROM m GROUP BY ALL")
    return con.execute(sql, {**_claim_params(lo, hi, rule, stopwords), "bucket_minutes": bucket_minutes}).df()


def claim_evidence(con: duckdb.DuckDBPyConnection, claim_id: str, lo: datetime, hi: datetime, rule: Any,
                   stopwords: Iterable[str], limit: int) -> pd.DataFrame:
    """The most engaged distinct posts matching one claim in a window, with the claim's text and link."""
    sql = CLAIM_MATCHES + (
        "SELECT m.platform, m.post_id, m.created_at, m.text, m.url, m.via, c.text AS claim_text, "
        "coalesce(c.url, '') AS claim_url, c.rating, c.source FROM m JOIN c USING (claim_id) "
        "WHERE claim_id = $claim_id "
        "QUALIFY row_number() OVER (PARTITION BY m.text ORDER BY m.created_at) = 1 "
        "ORDER BY m.engagement DESC, m.created_at LIMIT $limit")
    params = {**_claim_params(lo, hi, rule, stopwords), "claim_id": claim_id, "limit": limit}
    return con.execute(sql, params).df()


TEXT_KEY = ("trim(regexp_replace(regexp_replace(lower(regexp_replace(text, 'https?://\\S+', ' ', 'g')), "
            "'[^a-z0-9]+', ' ', 'g'), '\\s+', ' ', 'g'))")

SHARED_CONTENT = f"""
WITH p AS (SELECT platform, post_id, created_at, text, url,
                  platform || ':' || coalesce(author_id, author_handle, post_id) AS account
           FROM posts WHERE created_at >= $lo AND created_at < $hi AND repost_of_id IS NULL),
k AS (SELECT 'text' AS signal, {TEXT_KEY} AS key, * FROM p
      UNION ALL
      SELECT 'link', rtrim(lower(u.link), '.,;:!?)"'''), p.* FROM p,
             unnest(list_distinct(list_concat(regexp_extract_all(p.text, 'https?://[^\\s]+'),
                                              CASE WHEN p.url IS NULL THEN [] ELSE [p.url] END))) AS u(link))
SELECT signal, key, platform, post_id, created_at, text, url, account FROM k
WHERE (signal = 'link' OR length(key) >= $min_chars)
QUALIFY count(DISTINCT account) OVER (PARTITION BY signal, key) >= $min_accounts
ORDER BY signal, key, created_at
"""


def shared_content(con: duckdb.DuckDBPyConnection, lo: datetime, hi: datetime, min_chars: int,
                   min_accounts: int) -> pd.DataFrame:
    """Original posts (not reposts) whose normalised text or link was posted by at least `min_accounts`."""
    params = {"lo": lo, "hi": hi, "min_chars": min_chars, "min_accounts": min_accounts}
    return con.execute(SHARED_CONTENT, params).df()


RECENT_POSTS = """
SELECT p.platform, p.post_id, p.created_at, p.text, p.url, p.repost_of_id,
       p.platform || ':' || coalesce(p.author_id, p.author_handle, p.post_id) AS account,
       p.like_count + p.repost_count AS engagement, e.vector
FROM posts p LEFT JOIN (SELECT platform, post_id, vector FROM embeddings
                        WHERE created_at >= $lo AND created_at < $hi) e USING (platform, post_id)
WHERE p.created_at >= $lo AND p.created_at < $hi
ORDER BY p.created_at DESC LIMIT $limit
"""


def recent_posts(con: duckdb.DuckDBPyConnection, lo: datetime, hi: datetime, limit: int) -> pa.Table:
    """The newest posts of a range (with their embedding, where the labeller stored one), as Arrow."""
    return con.sql(RECENT_POSTS, params={"lo": lo, "hi": hi, "limit": limit}).to_arrow_table()


SERIES_POSTS = """
SELECT p.platform, p.post_id, p.created_at, p.text, p.url FROM posts p
LEFT JOIN (SELECT platform, post_id, topics FROM labels WHERE created_at >= $lo AND created_at < $hi) l
  USING (platform, post_id)
WHERE p.created_at >= $lo AND p.created_at < $hi AND p.repost_of_id IS NULL
  AND CASE $dim WHEN 'all' THEN true
                WHEN 'watch' THEN list_contains(p.watches, $key)
                ELSE len(list_filter(l.topics, lambda t: t.name = $key AND t.score >= $topic_min_score)) > 0 END
  AND ($negative_only = false OR p.post_id IN (SELECT post_id FROM labels WHERE platform = p.platform
                                               AND post_id = p.post_id AND sentiment = 'negative'))
ORDER BY p.like_count + p.repost_count DESC, p.created_at DESC LIMIT $limit
"""


def series_posts(con: duckdb.DuckDBPyConnection, dim: str, key: str, lo: datetime, hi: datetime,
                 topic_min_score: float, limit: int, negative_only: bool = False) -> pd.DataFrame:
    """A series' most engaged original posts in a window (evidence, and the texts its top phrase comes from)."""
    params = {"dim": dim, "key": key, "lo": lo, "hi": hi, "topic_min_score": topic_min_score, "limit": limit,
              "negative_only": negative_only}
    return con.execute(SERIES_POSTS, params).df()

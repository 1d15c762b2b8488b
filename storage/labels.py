"""Labels and embeddings: which posts need (re)labelling, and writing what the models said.

Each label column carries the model that produced it (`name@version`); a post is picked again when its
sentiment or topic model differs from the running one, or, for posts newer than `rematch_since`, when its
misinformation evidence was computed against another model or another version of the claims table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa

from storage import rollup
from storage.db import Database, one, utcnow

LABEL_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("post_id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("lang", pa.string()),
        ("sentiment", pa.string()),
        ("sentiment_score", pa.float64()),
        ("topics", pa.list_(pa.struct([("name", pa.string()), ("score", pa.float64())]))),
        ("misinfo_score", pa.float64()),
        ("matched_claim_id", pa.string()),
        ("matched_claim_score", pa.float64()),
        ("misinfo_reason", pa.string()),
        ("sentiment_model", pa.string()),
        ("topics_model", pa.string()),
        ("misinfo_model", pa.string()),
        ("labelled_at", pa.timestamp("us")),
    ]
)
EMBEDDING_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("post_id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("model", pa.string()),
        ("vector", pa.list_(pa.float32())),
    ]
)

PENDING_SCHEMA = pa.schema(
    [("platform", pa.string()), ("post_id", pa.string()), ("created_at", pa.timestamp("us")), ("text", pa.string())]
)

# Posts without labels, newest first, among posts created since $since. Labels copy their post's created_at, so
# both sides are cut to the window before the join.
UNLABELLED = """
SELECT p.platform, p.post_id, p.created_at, p.text
FROM posts p ANTI JOIN (SELECT platform, post_id FROM labels WHERE created_at >= $since) l USING (platform, post_id)
WHERE p.created_at >= $since
ORDER BY p.created_at DESC LIMIT $limit
"""
# Labelled posts whose labels came from other models, newest first: a scan of `labels` alone, then their texts.
OUTDATED = """
WITH o AS (
    SELECT platform, post_id, created_at FROM labels
    WHERE sentiment_model IS DISTINCT FROM $sentiment_model OR topics_model IS DISTINCT FROM $topics_model
       OR (misinfo_model IS DISTINCT FROM $misinfo_model AND created_at >= $rematch_since)
    ORDER BY created_at DESC LIMIT $limit)
SELECT p.platform, p.post_id, p.created_at, p.text FROM posts p JOIN o USING (platform, post_id, created_at)
ORDER BY p.created_at DESC
"""
# How far back to look for unlabelled posts, from the newest post: most are the newest; a backfill reaches further.
# A minute first: while posts arrive faster than they are labelled, the newest minute holds a whole pass, and
# scanning it costs a fraction of scanning the hour (7M posts at 2,000 posts/s).
WINDOWS = (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(days=30))


# A relabel replaces the stored row: MERGE on the key, the one statement both storage kinds run (DuckLake has no
# unique keys, so no INSERT OR REPLACE). Only rows of stored posts. On the DuckDB file it is as fast as INSERT OR
# REPLACE (50k rows into 500k labels; README, DuckLake storage).
UPSERT = ("MERGE INTO {target} USING (SELECT * FROM new_rows SEMI JOIN post_keys USING (platform, post_id, "
          "created_at)) AS n USING (platform, post_id) "
          "WHEN MATCHED THEN UPDATE BY NAME WHEN NOT MATCHED THEN INSERT BY NAME")


@dataclass(frozen=True)
class ModelTags:
    sentiment: str
    topics: str
    misinfo: str


def pending(db: Database, tags: ModelTags, rematch_since: datetime, limit: int) -> pa.Table:
    """Posts without current labels, unlabelled ones first, newest first.

    Every label belongs to a stored post (`write` drops labels of posts deleted meanwhile), so the difference of
    the two tables' row counts is the number of unlabelled posts: the search stops at the first window holding
    them all, and in steady state never joins the whole tables (which took 0.6 s a call at 5M posts)."""
    con = db.reader()
    con.execute("BEGIN")  # one snapshot for the counts and the searches
    try:
        row = one(con, "SELECT (SELECT count(*) FROM posts) - (SELECT count(*) FROM labels), "
                       "(SELECT max(created_at) FROM posts)")
        assert row is not None
        missing, newest = row
        found = PENDING_SCHEMA.empty_table()
        for window in (*WINDOWS, None) if missing > 0 else ():
            since = datetime.min if window is None or newest - datetime.min < window else newest - window
            found = con.sql(UNLABELLED, params={"since": since, "limit": limit}).to_arrow_table().cast(PENDING_SCHEMA)
            if found.num_rows >= min(limit, missing):
                break
        if found.num_rows < limit:
            params = {"sentiment_model": tags.sentiment, "topics_model": tags.topics, "misinfo_model": tags.misinfo,
                      "rematch_since": rematch_since, "limit": limit - found.num_rows}
            found = pa.concat_tables([found, con.sql(OUTDATED, params=params).to_arrow_table().cast(PENDING_SCHEMA)])
        return found
    finally:
        con.execute("COMMIT")


def claims_version(db: Database) -> str:
    """Changes whenever a claim is added, edited or removed."""
    row = one(db.reader(), "SELECT count(*), max(updated_at), sum(hash(claim_id, text)) FROM claims")
    return "none" if row is None or row[0] == 0 else f"{row[0]}:{row[1]}:{row[2]}"


def claims(db: Database) -> pa.Table:
    return db.reader().sql("SELECT claim_id, text, rating, url, source FROM claims ORDER BY claim_id").to_arrow_table()


def write(db: Database, labels: Sequence[dict[str, object]], embeddings: Sequence[dict[str, object]]) -> None:
    """Labels and embeddings of one batch, in one transaction (a relabel replaces the old row; a post twice in a
    batch keeps its last row). Rows of posts deleted while they were being labelled (retention, upstream deletion)
    are dropped. The rollups move each labelled post from its old sentiment and topics to the new ones."""
    now = utcnow()
    latest = {(row["platform"], row["post_id"]): row for row in labels}
    label_rows = pa.Table.from_pylist([{**row, "labelled_at": now} for row in latest.values()], schema=LABEL_SCHEMA)
    last_vectors = {(row["platform"], row["post_id"]): row for row in embeddings}  # MERGE takes one row a key
    vectors = pa.Table.from_pylist(list(last_vectors.values()), schema=EMBEDDING_SCHEMA)

    def run(con: duckdb.DuckDBPyConnection) -> None:
        _replace(con, label_rows, "labels", before=rollup.relabel)
        _replace(con, vectors, "embeddings")

    db.write(run)


def _replace(con: duckdb.DuckDBPyConnection, rows: pa.Table, target: str,
             before: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None) -> None:
    """Insert or replace `rows` of stored posts into `target`; `before` sees them first (as `new_rows`)."""
    if not rows.num_rows:
        return
    con.register("new_rows", rows)
    try:
        if before is not None:
            before(con, "new_rows")
        con.execute(UPSERT.format(target=target))
    finally:
        con.unregister("new_rows")

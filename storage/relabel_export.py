"""Posts a relabel still has to do (`civicradar relabel`): on the DuckDB file exported as Parquet files for a Ray
Data job; on the lake, the keys whose labels are current, which the job's readers of the lake's own data files leave
out (`storage.lake_files`).

Only posts since a date whose labels are missing or came from other models than `tags` are relabelled: a relabel
that stopped half-way does the rest when run again, and one that finished does nothing.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from storage.db import Database
from storage.labels import PENDING_SCHEMA, ModelTags

OUTDATED_SINCE = """
SELECT p.platform, p.post_id, p.created_at, p.text
FROM posts p LEFT JOIN (SELECT platform, post_id, sentiment_model, topics_model, misinfo_model FROM labels
                        WHERE created_at >= $since) l USING (platform, post_id)
WHERE p.created_at >= $since
  AND (l.post_id IS NULL OR l.sentiment_model IS DISTINCT FROM $sentiment_model
       OR l.topics_model IS DISTINCT FROM $topics_model OR l.misinfo_model IS DISTINCT FROM $misinfo_model)
ORDER BY p.created_at
"""
# The complement, on the lake: posts since $since whose labels are all from the current models (labels copy their
# post's created_at; every label belongs to a stored post).
CURRENT_SINCE = """
SELECT platform, post_id FROM labels
WHERE created_at >= $since AND sentiment_model IS NOT DISTINCT FROM $sentiment_model
  AND topics_model IS NOT DISTINCT FROM $topics_model AND misinfo_model IS NOT DISTINCT FROM $misinfo_model
"""
COUNT = "SELECT count(*) FROM ({query})"


def export_outdated(db: Database, since: datetime, tags: ModelTags, folder: Path, rows_per_file: int = 50_000
                    ) -> list[Path]:
    """Write the posts to relabel into `folder` (emptied first) as `posts-NNNNN.parquet`; return the files."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    con = db.reader()
    reader = con.execute(OUTDATED_SINCE, _params(since, tags)).fetch_record_batch(rows_per_file)
    files = []
    for n, batch in enumerate(reader):
        path = folder / f"posts-{n:05d}.parquet"
        pq.write_table(pa.Table.from_batches([batch]).cast(PENDING_SCHEMA), path)
        files.append(path)
    return files


def _params(since: datetime, tags: ModelTags) -> dict[str, object]:
    return {"since": since, "sentiment_model": tags.sentiment, "topics_model": tags.topics,
            "misinfo_model": tags.misinfo}


def count_outdated(db: Database, since: datetime, tags: ModelTags) -> int:
    """How many posts a relabel since `since` still has to do."""
    row = db.reader().execute(COUNT.format(query=OUTDATED_SINCE), _params(since, tags)).fetchall()
    return int(row[0][0])


def current_keys(db: Database, since: datetime, tags: ModelTags) -> pa.Table:
    """Keys (platform, post_id) of the posts since `since` that already have the current models' labels."""
    table: pa.Table = db.reader().sql(CURRENT_SINCE, params=_params(since, tags)).to_arrow_table()
    return table.cast(pa.schema([("platform", pa.string()), ("post_id", pa.string())]))

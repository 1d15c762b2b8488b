"""Posts a relabel still has to do, exported as Parquet files for a Ray Data job (`civicradar relabel`).

Only posts since a date whose labels are missing or came from other models than `tags` are exported: a relabel
that stopped half-way exports the rest when run again, and one that finished exports nothing.
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


def export_outdated(db: Database, since: datetime, tags: ModelTags, folder: Path, rows_per_file: int = 50_000
                    ) -> list[Path]:
    """Write the posts to relabel into `folder` (emptied first) as `posts-NNNNN.parquet`; return the files."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    params = {"since": since, "sentiment_model": tags.sentiment, "topics_model": tags.topics,
              "misinfo_model": tags.misinfo}
    con = db.reader()
    reader = con.execute(OUTDATED_SINCE, params).fetch_record_batch(rows_per_file)
    files = []
    for n, batch in enumerate(reader):
        path = folder / f"posts-{n:05d}.parquet"
        pq.write_table(pa.Table.from_batches([batch]).cast(PENDING_SCHEMA), path)
        files.append(path)
    return files

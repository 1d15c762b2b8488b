"""The inbox's part of every post write, inside the same transaction (called by `Database._upsert_posts`).

- a post addressed to the agency (direction `to_agency`) gets an inbox row, once; a later copy updates its text;
- the agency's own reply to an open item (direction `by_agency`, `reply_to_id` = the item) answers it, with the
  reply's time and account: a conversation answered on the platform needs no one to record it;
- each collected copy of the agency's own posts leaves a row of its engagement counts (engagement over time).

A batch with only public posts costs one vectorised check and no SQL (the firehose's usual case).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from storage.bulk import insert_rows

# MERGE on the key: the one statement that runs on DuckDB and on DuckLake (no unique keys there, so no ON CONFLICT)
TRACK_NEW = """
MERGE INTO inbox_items
USING (SELECT platform, post_id, created_at AS received_at, author_id, author_handle, text, url, reply_to_id,
              'new' AS status, collected_at AS updated_at
       FROM {batch} WHERE direction = 'to_agency') AS n USING (platform, post_id)
WHEN MATCHED THEN UPDATE SET text = n.text, url = CASE WHEN inbox_items.author_id LIKE 'pseud-%' THEN NULL
                                                      ELSE n.url END
WHEN NOT MATCHED THEN INSERT BY NAME
"""
# an open item answered by the agency's own reply on the platform; the reply's created time is the answer's time.
# The items are selected first, then updated by the same condition (DuckLake has no UPDATE ... RETURNING).
_REPLIES = """(SELECT * FROM {batch} WHERE direction = 'by_agency' AND reply_to_id IS NOT NULL
      QUALIFY row_number() OVER (PARTITION BY platform, reply_to_id ORDER BY created_at) = 1) r"""
_OPEN = """inbox_items.platform = r.platform AND inbox_items.post_id = r.reply_to_id
  AND inbox_items.status IN ('new', 'in_progress')"""
ANSWERING = f"""
SELECT inbox_items.platform, inbox_items.post_id, r.collected_at, r.post_id FROM inbox_items, {_REPLIES}
WHERE {_OPEN}
"""
ANSWERED = f"""
UPDATE inbox_items SET status = 'answered', answered_at = r.created_at, updated_at = r.collected_at,
       answered_by = coalesce('@' || r.author_handle, 'the agency''s account'), answer_via = 'platform',
       answer_text = r.text, answer_url = r.url, answer_post_id = r.post_id
FROM {_REPLIES}
WHERE {_OPEN}
"""
# the agency's replies already stored (collected before what they answer, or in the same batch)
STORED_REPLIES = """
(SELECT platform, post_id, author_handle, text, url, reply_to_id, created_at, collected_at, direction FROM posts
 WHERE direction = 'by_agency' AND created_at >= $since
   AND (platform, reply_to_id) IN (SELECT (platform, post_id) FROM {batch} WHERE direction = 'to_agency'))
"""
ENGAGEMENT = """
INSERT INTO own_post_engagement
SELECT platform, post_id, collected_at, like_count, repost_count, reply_count, quote_count
FROM {batch} WHERE direction = 'by_agency'
"""


def track(con: duckdb.DuckDBPyConnection, relation: str, table: pa.Table) -> None:
    """Inbox rows, answers and engagement for the posts of `table`, registered as `relation`."""
    if "direction" not in table.column_names:
        return
    directions = set(pc.unique(table.column("direction")).to_pylist())
    if "to_agency" in directions:
        con.execute(TRACK_NEW.format(batch=relation))
        inbound = table.filter(pc.equal(table.column("direction"), "to_agency"))
        _answer(con, STORED_REPLIES.format(batch=relation), {"since": pc.min(inbound.column("created_at")).as_py()})
    if "by_agency" in directions:
        _answer(con, relation, {})
        con.execute(ENGAGEMENT.format(batch=relation))


def _answer(con: duckdb.DuckDBPyConnection, replies: str, params: dict[str, object]) -> None:
    """Open items that one of `replies` (the agency's own posts) answers become answered, with an event each."""
    answered = con.execute(ANSWERING.format(batch=replies), params).fetchall()
    if answered:
        con.execute(ANSWERED.format(batch=replies), params)
        insert_rows(con, "INSERT INTO inbox_events SELECT platform, post_id, seen, 'collector', 'answered', "
                         "'answered', note FROM {rows}",
                    {"platform": [a[0] for a in answered], "post_id": [a[1] for a in answered],
                     "seen": [a[2] for a in answered],
                     "note": [f"the agency replied on the platform ({a[3]})" for a in answered]})

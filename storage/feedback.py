"""Staff corrections of labels (the ``label_feedback`` table) with the posts' texts, for retraining."""

from __future__ import annotations

import pyarrow as pa

from storage.db import Database

# The latest correction per post and label, with the post's text and the label the model gave.
CORRECTIONS = """
WITH f AS (
    SELECT platform, post_id, label, first(correct_value ORDER BY created_at DESC) AS correct_value
    FROM label_feedback WHERE verdict = 'wrong' AND label = $label
    GROUP BY platform, post_id, label
)
SELECT f.platform, f.post_id, p.text, f.correct_value, l.sentiment, l.misinfo_score
FROM f JOIN posts p USING (platform, post_id) LEFT JOIN labels l USING (platform, post_id)
ORDER BY f.platform, f.post_id
"""


def corrections(db: Database, label: str) -> pa.Table:
    """platform, post_id, text, correct_value (may be null), and the stored sentiment / misinfo_score."""
    return db.reader().sql(CORRECTIONS, params={"label": label}).to_arrow_table()

"""Synthetic posts for benchmarks, generated column-wise with numpy (fixed seed) straight into Arrow."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from storage.db import POST_SCHEMA

WORDS = np.array(
    [
        "the",
        "county",
        "water",
        "vaccine",
        "clinic",
        "line",
        "test",
        "site",
        "mask",
        "rumour",
        "school",
        "bus",
        "road",
        "closed",
        "open",
        "today",
        "salt",
        "cure",
        "hospital",
        "fairgrounds",
        "booster",
        "queue",
        "wait",
        "hours",
        "staff",
        "closed",
        "again",
        "why",
    ]
)
PLATFORMS = np.array(["x", "bluesky", "mastodon", "reddit", "rss"])
WATCHES = [["covid-19"], ["vaccines"], ["testing and care"], ["covid-19", "vaccines"], []]


def posts_chunk(rng: np.random.Generator, start_id: int, n: int, start: datetime, span: timedelta) -> pa.Table:
    """`n` posts with ids from `start_id`, created uniformly at random in [start, start + span)."""
    offsets = np.sort(rng.integers(0, int(span.total_seconds() * 1e6), n))
    created = np.datetime64(start, "us") + offsets.astype("timedelta64[us]")
    words = WORDS[rng.integers(0, len(WORDS), (n, 12))]
    authors = rng.integers(0, 200_000, n)
    columns = {
        "platform": PLATFORMS[rng.integers(0, len(PLATFORMS), n)],
        "post_id": np.arange(start_id, start_id + n).astype(str),
        "url": None,
        "author_id": np.char.add("u", authors.astype(str)),
        "author_handle": np.char.add("user", authors.astype(str)),
        "text": [" ".join(w) for w in words],
        "lang": np.full(n, "en"),
        "created_at": created,
        "collected_at": created,
        "source": np.full(n, "bench"),
        "watches": [WATCHES[i] for i in rng.integers(0, len(WATCHES), n)],
        "like_count": rng.zipf(2.0, n).clip(0, 10**6),
        "repost_count": rng.zipf(2.5, n).clip(0, 10**6),
        "reply_count": rng.zipf(2.5, n).clip(0, 10**6),
        "quote_count": np.zeros(n, dtype=np.int64),
        "reply_to_id": None,
        "repost_of_id": None,
        "quote_of_id": None,
        "raw": None,
        "direction": None,  # public talk
    }
    arrays = [
        pa.nulls(n, f.type) if columns[f.name] is None else pa.array(columns[f.name], f.type) for f in POST_SCHEMA
    ]
    return pa.Table.from_arrays(arrays, schema=POST_SCHEMA)

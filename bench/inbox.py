"""Server-side render time of the Inbox page with 100k inbox items (and 1M public posts) stored.

The page runs under Streamlit's AppTest against the real storage service, as the dashboard server runs it, for a
comms user (contacts, the reply box and the workflow shown): the counts, the queue (oldest open first), and the
first item opened with its conversation, the resident's other contacts and its history. "First render" is a cold
run (empty data caches) on a warm server (modules imported); "refresh" is the median of full-page reruns after the
engine clock moved on by the refresh interval, so the queue and counts are fetched anew each time.
Items: 100k posts addressed to the agency over 30 days on ten channels, written through the storage write path
(which makes the inbox rows); 70 % answered, 5 % closed, the rest open; residents write 1-5 times each.
Goals: first render <= 1 s, refresh <= 300 ms.

Run: nice -n 10 .venv/bin/python bench/inbox.py   (fixed seed; prints one line)
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import posts_chunk
from storage.client import TOKEN_ENV, URL_ENV
from storage.db import Database
from storage.service import Service, create_app

ITEMS, PUBLIC, CHUNK, REFRESHES, STEP = 100_000, 1_000_000, 250_000, 10, timedelta(seconds=5)
END = datetime(2026, 11, 30)
START = END - timedelta(days=30)
CHANNELS = np.array(["x", "bluesky", "mastodon", "reddit", "email", "webform", "sms", "open311", "facebook",
                     "instagram"])
ROOT = Path(__file__).resolve().parents[1]
SETTINGS = '[inbox]\nsla_minutes = { default = 1440.0, x = 240.0, sms = 240.0 }\n'


def items(rng: np.random.Generator) -> pa.Table:
    """ITEMS inbound posts: random channels, times, residents (each writing 1-5 times), short texts."""
    table = posts_chunk(rng, 10_000_000, ITEMS, START, END - START)
    channel = CHANNELS[rng.integers(0, len(CHANNELS), ITEMS)]
    residents = rng.integers(0, ITEMS // 3, ITEMS)
    author = np.where(np.isin(channel, ["email", "webform"]), np.char.add("email:", residents.astype(str)),
                      np.where(channel == "sms", np.char.add("phone:", residents.astype(str)),
                               np.char.add("u", residents.astype(str))))
    table = table.set_column(table.column_names.index("platform"), "platform", pa.array(channel))
    table = table.set_column(table.column_names.index("author_id"), "author_id", pa.array(author))
    return table.set_column(table.column_names.index("direction"), "direction", pa.array(["to_agency"] * ITEMS))


def load(db: Database, rng: np.random.Generator) -> None:
    span = (END - START) / (PUBLIC // CHUNK)
    for k in range(PUBLIC // CHUNK):
        db.write_posts_table(posts_chunk(rng, k * CHUNK, CHUNK, START + k * span, span))
    db.write_posts_table(items(rng))
    roll = rng.random(ITEMS)

    def workflow(con):  # type: ignore[no-untyped-def]  # staff's work so far, straight into the bench's database
        con.register("roll", pa.table({"post_id": pa.array([str(10_000_000 + i) for i in range(ITEMS)]),
                                       "roll": pa.array(roll), "minutes": pa.array(rng.exponential(240, ITEMS))}))
        con.execute("UPDATE inbox_items SET status = CASE WHEN r.roll < 0.70 THEN 'answered' WHEN r.roll < 0.75 "
                    "THEN 'closed' WHEN r.roll < 0.85 THEN 'in_progress' ELSE 'new' END, "
                    "answered_at = CASE WHEN r.roll < 0.70 THEN received_at + to_seconds((r.minutes * 60)::BIGINT) "
                    "END, answered_by = CASE WHEN r.roll < 0.70 THEN 'staff' END, "
                    "assignee = CASE WHEN r.roll < 0.85 THEN 'staff' END FROM roll r WHERE inbox_items.post_id = "
                    "r.post_id")
        con.unregister("roll")

    db.write(workflow)


def render(clock: list[datetime]) -> tuple[float, float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import Session
    from dashboard.data import SESSION_KEY

    # what a running server did once at boot and at its first sign-in: imports (the sign-in gate parses the settings,
    # which imports every collector module), and AppTest's scan of installed component packages
    warm = AppTest.from_string("import collectors.registry, dashboard.inboxing, dashboard.inboxview, "
                               "dashboard.signin, responses.limits", default_timeout=120)
    warm.run()
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "dashboard" / "pages" / "inbox.py"), default_timeout=120)
    at._bidi_component_manager = warm._bidi_component_manager
    at.session_state[SESSION_KEY] = Session("bench", "Bench", "comms", time.time() + 3600)
    started = time.perf_counter()
    at.run()
    first = time.perf_counter() - started
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) == 200 and at.text_area, "the inbox rendered no queue or reply box"
    refreshes = []
    for _ in range(REFRESHES):
        clock[0] += STEP
        started = time.perf_counter()
        at.run()
        refreshes.append(time.perf_counter() - started)
        assert not at.exception, at.exception
    return first, statistics.median(refreshes)


def main() -> None:
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    rng = np.random.default_rng(15)
    clock = [END]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.duckdb")
        load(db, rng)
        count = db.reader().execute("SELECT count(*) FROM inbox_items").fetchone()
        assert count == (ITEMS,), count
        info = {"agency": "Bench County", "refresh_seconds": STEP.total_seconds()}
        service = Service(create_app(db, "bench", lambda: (clock[0], False), info=info), "127.0.0.1", 0)
        service.start()
        port = service.server.servers[0].sockets[0].getsockname()[1]
        os.environ.update({URL_ENV: f"http://127.0.0.1:{port}", TOKEN_ENV: "bench",
                           "CIVICRADAR_SETTINGS": str(Path(tmp) / "settings.toml")})
        (Path(tmp) / "settings.toml").write_text(SETTINGS, encoding="utf-8")
        try:
            first, refresh = render(clock)
        finally:
            service.stop()
            db.close()
    print(f"inbox page with {ITEMS:,} items ({PUBLIC:,} public posts beside them): first full render "
          f"{first * 1000:.0f} ms, refresh {refresh * 1000:.0f} ms (median of {REFRESHES}; goals 1000 / 300 ms)")


if __name__ == "__main__":
    main()

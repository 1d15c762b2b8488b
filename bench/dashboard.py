"""Server-side render time of the dashboard's overview with 5M posts (and their labels) stored.

The overview runs under Streamlit's AppTest against the real storage service, as the dashboard server runs it:
every named query over HTTP, every chart built. "First render" is a cold run (empty data caches) on a warm server
(modules imported, component packages scanned: what a running server did at boot); "refresh" is the median of
full-page reruns after the engine clock moved on by the refresh interval, so the live data is fetched anew each
time (an upper bound on the fragment's own refresh, which reruns only the live part).
Goals: first render <= 1 s, refresh <= 300 ms.

Run: .venv/bin/python bench/dashboard.py   (fixed seed; prints one line)
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
from storage import rollup
from storage.client import TOKEN_ENV, URL_ENV
from storage.db import Database
from storage.service import Service, create_app

TOTAL, CHUNK, REFRESHES, STEP = 5_000_000, 250_000, 10, timedelta(seconds=5)
END = datetime(2026, 11, 30)
START = END - timedelta(days=30)
SENTIMENTS = np.array(["negative", "neutral", "positive"])
TOPICS = ["testing access", "vaccination", "case numbers", "prevention and cures", "other"]
ROOT = Path(__file__).resolve().parents[1]


def labels_for(posts: pa.Table, rng: np.random.Generator) -> pa.Table:
    n = posts.num_rows
    topic = rng.integers(0, len(TOPICS), n)
    claim = rng.random(n) < 0.01
    topics_type = pa.list_(pa.struct([("name", pa.string()), ("score", pa.float64())]))
    return pa.table({
        "platform": posts["platform"], "post_id": posts["post_id"], "created_at": posts["created_at"],
        "lang": pa.array(["en"] * n),
        "sentiment": pa.array(SENTIMENTS[rng.choice(3, n, p=[0.3, 0.5, 0.2])]),
        "sentiment_score": pa.array(rng.random(n)),
        "topics": pa.array([[{"name": TOPICS[t], "score": 0.8}] for t in topic], topics_type),
        "misinfo_score": pa.array(rng.random(n) * 0.6 + claim * 0.4),
        "matched_claim_id": pa.array([f"CLAIM-{k}" if hit else None
                                      for hit, k in zip(claim, rng.integers(0, 20, n), strict=True)], pa.string()),
        "matched_claim_score": pa.array(np.where(claim, 0.9, np.nan), pa.float64(), from_pandas=True),
        "misinfo_reason": pa.nulls(n, pa.string()),
        "sentiment_model": pa.array(["bench@1"] * n), "topics_model": pa.array(["bench@1"] * n),
        "misinfo_model": pa.array(["bench@1"] * n),
        "labelled_at": posts["created_at"],
    })


def load(db: Database, rng: np.random.Generator) -> None:
    span = (END - START) / (TOTAL // CHUNK)
    for k in range(TOTAL // CHUNK):
        posts = posts_chunk(rng, k * CHUNK, CHUNK, START + k * span, span)
        labels = labels_for(posts, rng)

        def write(con, labels=labels):  # type: ignore[no-untyped-def]
            con.register("l", labels)
            con.execute("INSERT INTO labels BY NAME SELECT * FROM l")
            con.unregister("l")
            rollup.refresh(con, labels["created_at"])  # as storage.labels.write does

        db.write_posts_table(posts)
        db.write(write)
        print(f"  loaded {(k + 1) * CHUNK:,} posts and labels", end="\r", file=sys.stderr)
    print(file=sys.stderr)


def render(clock: list[datetime]) -> tuple[float, float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import Session
    from dashboard.data import SESSION_KEY

    # what a running server did once at boot: imports, and AppTest's scan of installed component packages
    warm = AppTest.from_string("import altair, dashboard.charts, dashboard.live, dashboard.alerting",
                               default_timeout=120)
    warm.run()
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "dashboard" / "pages" / "overview.py"), default_timeout=120)
    at._bidi_component_manager = warm._bidi_component_manager
    at.session_state[SESSION_KEY] = Session("bench", "Bench", "viewer", time.time() + 3600)
    started = time.perf_counter()
    at.run()
    first = time.perf_counter() - started
    assert not at.exception, at.exception
    assert at.metric and at.get("vega_lite_chart"), "the overview rendered no tiles or charts"
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
    rng = np.random.default_rng(11)
    clock = [END]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.duckdb")
        load(db, rng)
        info = {"agency": "Bench County", "refresh_seconds": STEP.total_seconds(), "watches": ["covid-19"],
                "topics": TOPICS[:-1]}
        service = Service(create_app(db, "bench", lambda: (clock[0], False), info=info), "127.0.0.1", 0)
        service.start()
        port = service.server.servers[0].sockets[0].getsockname()[1]
        os.environ.update({URL_ENV: f"http://127.0.0.1:{port}", TOKEN_ENV: "bench",
                           "CIVICRADAR_SETTINGS": str(Path(tmp) / "settings.toml")})
        (Path(tmp) / "settings.toml").write_text("", encoding="utf-8")
        try:
            first, refresh = render(clock)
        finally:
            service.stop()
            db.close()
    print(f"dashboard overview with {TOTAL:,} posts: first full render {first * 1000:.0f} ms, "
          f"refresh {refresh * 1000:.0f} ms (median of {REFRESHES}; goals 1000 / 300 ms)")


if __name__ == "__main__":
    main()

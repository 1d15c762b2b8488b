"""Fast checks of the committed demo scenario (demo/scenario.jsonl.gz and demo/claims.csv).

The constants below are the ones documented in demo/README.md; the build script is demo/build_scenario.py.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "demo" / "scenario.jsonl.gz"
CLAIMS = REPO / "demo" / "claims.csv"
DATA = (REPO / ".." / "shared" / "data").resolve()

HOUR = 3600.0
DAY = 24 * HOUR
DURATION = 72 * HOUR
REPLAY_START = 52 * HOUR
EVENTS = {"rumour_burst": (56 * HOUR, 57.5 * HOUR), "complaint_spike": (62 * HOUR, 64 * HOUR)}
RUMOUR_CLAIM_ID = "HCPH-RR-014"
RUMOUR_CLAIM = "Drinking lots of water and gargling with warm water and salt or vinegar eliminates the coronavirus."
PLATFORMS = {"x", "bluesky", "mastodon", "reddit", "rss", "open311"}
DATASETS = {
    "constraint_covid19_fakenews/train",
    "constraint_covid19_fakenews/val",
    "tweeteval_sentiment/train",
    "tweeteval_sentiment/val",
}
STR_KEYS = ("platform", "post_id", "text", "author_id")
OPT_STR_KEYS = (
    "url", "author_handle", "lang", "reply_to_id", "repost_of_id", "quote_of_id",
    "source_dataset", "source_id", "source_label", "scenario_event",
)  # fmt: skip
INT_KEYS = ("like_count", "repost_count", "reply_count", "quote_count")
REQUIRED = {"t", "synthetic", *STR_KEYS, *OPT_STR_KEYS, *INT_KEYS}


@pytest.fixture(scope="module")
def posts() -> list[dict[str, Any]]:
    with gzip.open(SCENARIO, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def claims() -> list[dict[str, str]]:
    with CLAIMS.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def count_in(posts: list[dict[str, Any]], start: float, end: float) -> int:
    return sum(1 for p in posts if start <= p["t"] < end)


def test_size(posts: list[dict[str, Any]]) -> None:
    assert 5000 <= len(posts) <= 8000
    assert 100_000 < SCENARIO.stat().st_size < 2_500_000


def test_sorted_and_in_range(posts: list[dict[str, Any]]) -> None:
    ts = [p["t"] for p in posts]
    assert ts == sorted(ts)
    assert ts[0] >= 0 and ts[-1] < DURATION


def test_unique_ids(posts: list[dict[str, Any]]) -> None:
    keys = Counter((p["platform"], p["post_id"]) for p in posts)
    assert [k for k, n in keys.items() if n > 1] == []


def test_keys_and_types(posts: list[dict[str, Any]]) -> None:
    for p in posts:
        assert p.keys() >= REQUIRED, p["post_id"]
        assert set(p) - REQUIRED <= {"service_name"}
        assert isinstance(p["t"], float)
        assert isinstance(p["synthetic"], bool)
        for k in STR_KEYS:
            assert isinstance(p[k], str) and p[k], (p["post_id"], k)
        for k in OPT_STR_KEYS:
            assert p[k] is None or isinstance(p[k], str), (p["post_id"], k)
        for k in INT_KEYS:
            assert type(p[k]) is int and p[k] >= 0, (p["post_id"], k)
        assert p["platform"] in PLATFORMS
        assert p["post_id"].startswith(f"demo-{p['platform']}-")
        assert p["lang"] in ("en", None)
        assert p["url"] is None  # no invented URLs on real platforms
        assert p["scenario_event"] in (None, *EVENTS)
        if p["platform"] == "open311":
            assert isinstance(p["service_name"], str) and p["service_name"]
        else:
            assert "service_name" not in p


def test_platform_mix(posts: list[dict[str, Any]]) -> None:
    per = Counter(p["platform"] for p in posts)
    assert set(per) == PLATFORMS
    for platform in ("x", "bluesky", "mastodon", "reddit", "rss"):
        assert per[platform] >= 300, per
    assert 20 <= per["open311"] <= 40


def test_provenance(posts: list[dict[str, Any]]) -> None:
    used: Counter[tuple[str, str]] = Counter()
    for p in posts:
        if p["synthetic"]:
            assert p["scenario_event"] in EVENTS, p["post_id"]  # synthetic posts only in scripted events
            continue
        assert p["source_dataset"] in DATASETS, p["post_id"]
        assert p["source_id"] and p["source_label"]
        assert p["repost_of_id"] is None and p["reply_to_id"] is None
        used[(p["source_dataset"], p["source_id"])] += 1
        if p["source_dataset"].startswith("constraint"):
            assert p["source_label"] in ("real", "fake")
    assert [k for k, n in used.items() if n > 1] == []  # each data-set row at most once as a real post
    background = [p for p in posts if p["scenario_event"] is None]
    assert all(not p["synthetic"] for p in background)
    rss_sources = {p["source_dataset"] for p in posts if p["platform"] == "rss" and not p["synthetic"]}
    assert rss_sources <= {"constraint_covid19_fakenews/train", "constraint_covid19_fakenews/val"}
    labels = Counter(p["source_label"] for p in background)
    assert labels["real"] > 0 and labels["fake"] > 0


@pytest.mark.skipif(not (DATA / "constraint_covid19_fakenews").is_dir(), reason="no /work/shared/data here")
def test_dataset_texts_are_verbatim(posts: list[dict[str, Any]]) -> None:
    rows: dict[tuple[str, str], tuple[str, str]] = {}
    for name in ("constraint_covid19_fakenews", "tweeteval_sentiment"):
        for split in ("train", "val"):
            with (DATA / name / f"{split}.csv").open(newline="", encoding="utf-8") as f:
                for r in csv.DictReader(f):
                    rows[(f"{name}/{split}", r["id"])] = (r["text"], r.get("label_name") or r["label"])
    for p in posts:
        if p["source_dataset"] is not None:
            text, label = rows[(p["source_dataset"], p["source_id"])]
            assert p["text"] == text, p["post_id"]
            assert p["source_label"] == label, p["post_id"]


def test_references_point_to_earlier_posts(posts: list[dict[str, Any]]) -> None:
    by_id = {(p["platform"], p["post_id"]): p for p in posts}
    n_refs = 0
    for p in posts:
        for key in ("reply_to_id", "repost_of_id", "quote_of_id"):
            ref = p[key]
            if ref is None:
                continue
            n_refs += 1
            parent = by_id[(p["platform"], ref)]
            assert parent["t"] < p["t"], (p["post_id"], ref)
            if key == "repost_of_id":
                assert parent["text"] == p["text"]
    assert n_refs >= 20


def test_events_at_documented_times(posts: list[dict[str, Any]]) -> None:
    for event, (start, end) in EVENTS.items():
        ts = [p["t"] for p in posts if p["scenario_event"] == event]
        assert ts and start <= min(ts) and max(ts) < end, event
    rumour = [p for p in posts if p["scenario_event"] == "rumour_burst"]
    complaint = [p for p in posts if p["scenario_event"] == "complaint_spike"]
    assert 120 <= len(rumour) <= 200
    social = [p for p in complaint if p["platform"] != "open311"]
    assert 150 <= len(social) <= 250
    assert 20 <= len(complaint) - len(social) <= 40
    assert len({p["author_id"] for p in rumour}) >= 100
    assert len({p["author_id"] for p in social}) >= 100
    assert len({p["platform"] for p in social}) >= 3
    # events come a few real minutes after the replay start (hour 52, 60x)
    assert min(p["t"] for p in rumour) - REPLAY_START >= 3 * HOUR


def test_events_stand_out(posts: list[dict[str, Any]]) -> None:
    """The busiest hour of each event is >= 5x the same clock hour on days 0 and 1."""
    for start, end in EVENTS.values():
        best = 0.0
        s = start
        while s + HOUR <= end:
            n = count_in(posts, s, s + HOUR)
            usual = (count_in(posts, s - DAY, s + HOUR - DAY) + count_in(posts, s - 2 * DAY, s + HOUR - 2 * DAY)) / 2
            best = max(best, n / usual)
            s += 300
        assert best >= 5, (start, best)
        whole = count_in(posts, start, end)
        usual = (count_in(posts, start - DAY, end - DAY) + count_in(posts, start - 2 * DAY, end - 2 * DAY)) / 2
        assert whole >= 4 * usual


def test_rumour_burst_grows_and_has_coordinated_core(posts: list[dict[str, Any]]) -> None:
    start = EVENTS["rumour_burst"][0]
    rumour = [p for p in posts if p["scenario_event"] == "rumour_burst"]
    bins = Counter(int((p["t"] - start) // 600) for p in rumour)
    peak = max(bins, key=lambda b: bins[b])
    assert bins[0] < bins[peak] / 4 and peak >= 3  # grows, then peaks
    # >= 20 distinct accounts post the same text within 10 minutes (originals, not reposts)
    same: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in rumour:
        if p["repost_of_id"] is None:
            same[p["text"]].append(p)
    best = 0
    for group in same.values():
        ts = sorted(p["t"] for p in group)
        for i, t0 in enumerate(ts):
            window = [p for p in group if t0 <= p["t"] <= t0 + 600]
            best = max(best, len({p["author_id"] for p in window}))
            if i > 50:
                break
    assert best >= 20
    # real CONSTRAINT fake posts on the claim are part of the burst, the claim text among them
    real = [p for p in rumour if not p["synthetic"]]
    assert len(real) >= 5 and all(p["source_label"] == "fake" for p in real)
    assert RUMOUR_CLAIM in {p["text"] for p in real}
    # nothing about the rumour's topic before the burst
    before = [p for p in posts if p["t"] < start and "gargl" in p["text"].lower()]
    assert before == []


def test_claims_table(claims: list[dict[str, str]]) -> None:
    assert list(claims[0].keys()) == ["claim_id", "text", "rating", "url", "source", "published_at"]
    assert 10 <= len(claims) <= 30
    assert len({c["claim_id"] for c in claims}) == len(claims)
    assert {c["rating"] for c in claims} <= {"False", "Misleading", "True-official-fact"}
    for c in claims:
        assert c["text"] and c["source"]
        assert c["url"] == "" or c["url"].startswith("https://")
    rumour = [c for c in claims if c["claim_id"] == RUMOUR_CLAIM_ID]
    assert len(rumour) == 1
    assert rumour[0]["rating"] == "False"
    assert rumour[0]["text"].startswith(RUMOUR_CLAIM)
    assert "Official fact" in rumour[0]["text"]
    assert "rumour register" in rumour[0]["source"]


def test_background_is_stationary(posts: list[dict[str, Any]]) -> None:
    """Outside the events, each clock hour looks the same on all three days, with no spikes."""
    background = [p for p in posts if p["scenario_event"] is None]
    hourly = Counter(int(p["t"] // HOUR) for p in background)
    for h in range(24):
        counts = [hourly[h + 24 * d] for d in range(3)]
        mean = sum(counts) / 3
        assert max(counts) <= 1.6 * mean + 8, (h, counts)
    # fake-labelled posts spread evenly: their share is about the same in every 6-hour block
    blocks: defaultdict[int, list[bool]] = defaultdict(list)
    for p in background:
        if p["source_label"] in ("real", "fake"):
            blocks[int(p["t"] // (6 * HOUR))].append(p["source_label"] == "fake")
    shares = [sum(v) / len(v) for v in blocks.values()]
    assert max(shares) - min(shares) < 0.08
    # no author floods the background
    per_author = Counter(p["author_id"] for p in background if p["platform"] != "rss")
    assert per_author.most_common(1)[0][1] < 100


def test_replay_starts_alive(posts: list[dict[str, Any]]) -> None:
    assert count_in(posts, 0, REPLAY_START) >= 2500  # history imported at start
    for h in range(52, 56):  # each real minute before the first event has posts
        assert count_in(posts, h * HOUR, (h + 1) * HOUR) >= 5

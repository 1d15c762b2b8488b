"""The demo scenario, detected for real: the scripted rumour burst and complaint spike raise the right alerts within
5 simulated minutes of crossing their thresholds, and the quiet parts raise nothing of severity high.

The scenario goes into a fresh DuckDB as the engine would store it (watches matched by the engine's matcher, the
claims table from demo/claims.csv); posts are unlabelled, as before the labeller runs. The engine clock is stepped
through the replay's span (from 3 hours before the replay's start at 52 h to the end, passes of 10 and 25 simulated
minutes, as a slow schedule would). Threshold crossings are computed independently, in pandas, at every post's
arrival (continuous time), from the raw scenario file and the shipped settings.
"""

import csv
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

import settings
from alerts.detect import run_pass
from alerts.detectors.claims import ClaimRule
from alerts.detectors.coordination import CoordinationRule
from alerts.detectors.narratives import NarrativeRule
from alerts.detectors.volume import VolumeRule
from alerts.registry import Rules
from alerts.text import STOPWORDS, normalised
from collectors.base import Batch, Claim, Watch, WatchMatcher
from collectors.replay import read_rows, to_post
from storage.db import Database
from storage.queries import QUERIES

ROOT = Path(__file__).resolve().parents[1]
ANCHOR = datetime(2026, 10, 12, tzinfo=ZoneInfo("America/Chicago"))  # scenario t = 0 is local midnight
T0 = ANCHOR.astimezone(UTC).replace(tzinfo=None)
RUMOUR, COMPLAINT = (56.0, 57.5), (62.0, 64.0)  # scripted events, hours (demo/README.md)
FIVE = timedelta(minutes=5)


def hours(moment: datetime) -> float:
    return (moment - T0).total_seconds() / 3600


@pytest.fixture(scope="module")
def demo():
    s = settings.load(ROOT / "settings.toml")
    matcher = WatchMatcher(tuple(Watch(**w.model_dump()) for w in s.watches))
    rows = list(read_rows(ROOT / "demo" / "scenario.jsonl.gz"))
    posts = [to_post(r, ANCHOR, "import") for r in rows]
    posts = [replace(p, watches=matcher.match(p.text, p.author_handle)) for p in posts]
    with open(ROOT / "demo" / "claims.csv", newline="", encoding="utf-8") as f:
        claims = [Claim(r["claim_id"], r["text"], r["rating"] or None, r["url"] or None, r["source"] or None,
                        "register") for r in csv.DictReader(f)]
    db = Database(":memory:")
    db.write_batch("demo", Batch(posts, None, claims=claims))
    now, passes = T0 + timedelta(hours=49), 0
    while now <= T0 + timedelta(hours=72):
        run_pass(db, s, now)
        now += timedelta(minutes=(10, 25)[passes % 2])
        passes += 1
    frame = pd.DataFrame(rows).assign(watches=[p.watches for p in posts])
    yield db, s, frame, {c.claim_id: c for c in claims}
    db.close()


def alerts(db: Database) -> pd.DataFrame:
    return db.reader().sql("SELECT * FROM alerts ORDER BY alert_id").df()


def first_alert(db: Database, kind: str, **where: str) -> pd.Series:
    found = alerts(db)
    found = found[found["kind"] == kind]
    for column, value in where.items():
        found = found[found[column] == value]
    assert len(found), f"no {kind} alert with {where}; alerts: {alerts(db)[['kind', 'fingerprint']].values}"
    return found.iloc[0]


def first_crossing(times: np.ndarray, condition) -> float:
    """The first post arrival (seconds) at which `condition(t)` holds for the trailing window ending there."""
    for t in np.sort(times):
        if condition(t):
            return float(t)
    raise AssertionError("the reference never crosses the threshold")


def within(times: np.ndarray, lo: float, hi: float) -> int:
    return int(((times >= lo) & (times <= hi)).sum())


def test_complaint_spike_raises_a_volume_alert_on_testing_and_care(demo):
    db, s, frame, _ = demo
    rule = Rules(s.alerts)(VolumeRule)
    w = rule.window_minutes * 60
    times = frame.loc[[("testing and care" in ws) for ws in frame["watches"]], "t"].to_numpy()

    def spike(t: float) -> bool:
        now = within(times, t - w, t)
        lags = [within(times, t - w - k * 86400, t - k * 86400) for k in range(1, rule.days + 1)
                if t - w - k * 86400 >= 0]
        expected = max(np.median(lags) if len(lags) >= 3 else np.mean(lags), rule.baseline_floor)
        return (now >= rule.min_posts and now / expected >= rule.medium_ratio
                and (now - expected) / np.sqrt(expected) >= rule.min_z)

    crossing = T0 + timedelta(seconds=first_crossing(times[times >= COMPLAINT[0] * 3600], spike))
    later = alerts(db).query("kind == 'volume_spike' and watch == 'testing and care'")
    alert = later[later["first_seen_at"] >= T0 + timedelta(hours=COMPLAINT[0])].iloc[0]
    assert crossing <= alert["first_seen_at"] <= crossing + FIVE, (crossing, alert["first_seen_at"])
    assert COMPLAINT[0] <= hours(alert["first_seen_at"]) <= COMPLAINT[1] and alert["severity"] == "high"
    assert "testing site" in alert["explanation"] and "the usual" in alert["explanation"]


def claim_terms(text: str) -> set[str]:
    return {w[:5] for w in re.split("[^a-z0-9]+", text.lower()) if len(w) >= 3 and w not in STOPWORDS}


def best_claim(text: str, claims: dict[str, set[str]], rule) -> str | None:
    """The claim sharing the largest part of its words with the text (ties: the first claim id)."""
    words, best, best_share = claim_terms(text), None, 0.0
    for claim_id, terms in sorted(claims.items()):
        shared = len(words & terms)
        enough = shared >= max(rule.lexical_min_shared, np.ceil(rule.lexical_min_fraction * len(terms)))
        if enough and shared / len(terms) > best_share:
            best, best_share = claim_id, shared / len(terms)
    return best


def test_rumour_burst_raises_a_fact_check_burst_for_the_rumour_claim(demo):
    db, s, frame, claims = demo
    rule = Rules(s.alerts)(ClaimRule)
    w = rule.window_minutes * 60
    false = {k: claim_terms(c.text.split("Official fact:")[0]) for k, c in claims.items()
             if (c.rating or "").lower() in rule.false_ratings}
    matched = frame.assign(claim=[best_claim(t, false, rule) for t in frame["text"]])
    times = matched.loc[matched["claim"] == "HCPH-RR-014", "t"].to_numpy()

    def burst(t: float) -> bool:
        now, newer = within(times, t - w, t), within(times, t - w / 2, t)
        rate = within(times, t - w - rule.baseline_hours * 3600, t - w - 1e-6) * w / (rule.baseline_hours * 3600)
        return now >= rule.min_posts and now >= rule.min_ratio * max(rate, 1) and newer >= now - newer

    crossing = T0 + timedelta(seconds=first_crossing(times, burst))
    alert = first_alert(db, "claim_burst", claim_id="HCPH-RR-014")
    assert crossing <= alert["first_seen_at"] <= crossing + FIVE, (crossing, alert["first_seen_at"])
    assert RUMOUR[0] <= hours(alert["first_seen_at"]) <= RUMOUR[1] and alert["severity"] == "high"
    assert "lexical fallback" in alert["explanation"] and "rated False" in alert["explanation"]
    query = QUERIES["alert_evidence"]
    evidence = db.reader().sql(query.sql, params=query.bind("alert_evidence", {"alert_id": int(alert["alert_id"])}))
    texts = [t.lower() for t in evidence.df()["text"]]
    assert len(texts) == 5 and all("gargl" in t or "salt" in t for t in texts)


def test_rumour_burst_shows_the_coordinated_copies_with_caveats(demo):
    db, s, frame, _ = demo
    rule = Rules(s.alerts)(CoordinationRule)
    w = rule.window_minutes * 60
    originals = frame[frame["repost_of_id"].isna()].assign(key=lambda f: [normalised(t) for t in f["text"]])
    originals = originals[originals["key"].str.len() >= rule.min_chars]
    copies = originals.groupby("key").filter(lambda g: g["author_id"].nunique() >= rule.min_accounts)

    def coordinated(t: float) -> bool:
        recent = copies[(copies["t"] >= t - w) & (copies["t"] <= t)]
        return bool(len(recent)) and recent.groupby("key")["author_id"].nunique().max() >= rule.min_accounts

    crossing = T0 + timedelta(seconds=first_crossing(copies["t"].to_numpy(), coordinated))
    alert = first_alert(db, "coordination")
    assert crossing <= alert["first_seen_at"] <= crossing + FIVE and alert["severity"] == "high"
    assert "not as a finding about any account or person" in alert["explanation"]
    assert "20 different accounts" in alert["explanation"]
    posts = db.reader().execute("SELECT p.raw FROM alert_evidence e JOIN posts p USING (platform, post_id) "
                                "WHERE e.alert_id = ?", [int(alert["alert_id"])]).fetchall()
    assert posts and all('"rumour_burst"' in raw for (raw,) in posts)


def test_rumour_burst_raises_an_emerging_narrative_and_a_volume_spike(demo):
    db, _, _, _ = demo
    narrative = first_alert(db, "narrative")
    assert RUMOUR[0] <= hours(narrative["first_seen_at"]) <= RUMOUR[1]
    assert "first seen 8:01 am" in narrative["explanation"] and "near-duplicate" in narrative["explanation"]
    spike = first_alert(db, "volume_spike", watch="covid-19")
    assert RUMOUR[0] <= hours(spike["first_seen_at"]) <= RUMOUR[1] and spike["severity"] == "high"


def test_quiet_parts_raise_nothing_of_severity_high(demo):
    db, s, _, _ = demo
    events = db.reader().sql("SELECT e.seen_at, e.severity, a.kind, a.last_seen_at FROM alert_events e "
                             "JOIN alerts a USING (alert_id) WHERE e.actor = 'detector'").df()
    rules = Rules(s.alerts)
    tail = max(rules(m).window_minutes for m in (VolumeRule, ClaimRule, NarrativeRule)) / 60 + 0.25

    def in_event(h: float) -> bool:
        return any(lo <= h <= hi + tail for lo, hi in (RUMOUR, COMPLAINT))

    high = events[events["severity"] == "high"]
    assert len(high) >= 4  # the events did raise high alerts, so the check below is not vacuous
    assert all(in_event(hours(t)) for t in high["seen_at"]), high
    assert all(in_event(hours(t)) for t in alerts(db).query("severity == 'high'")["last_seen_at"])
    cursor = db.reader().execute("SELECT cursor FROM cursors WHERE source = 'alerts:detect'").fetchall()[0]
    assert hours(datetime.fromisoformat(cursor[0])) >= 71.9  # the whole replay span was evaluated


def test_repeats_update_one_alert_per_situation(demo):
    db, _, _, _ = demo
    found = alerts(db)
    assert not found.duplicated(["fingerprint", "first_seen_at"]).any()
    claim = first_alert(db, "claim_burst", claim_id="HCPH-RR-014")
    assert claim["occurrences"] > 3 and (found["claim_id"] == "HCPH-RR-014").sum() == 1
    history = db.reader().execute("SELECT event, severity FROM alert_events WHERE alert_id = ? ORDER BY changed_at",
                                  [int(claim["alert_id"])]).fetchall()
    assert history[0] == ("raised", "medium") and ("escalated", "high") in history


def incidents(db: Database) -> pd.DataFrame:
    return db.reader().sql("SELECT i.*, list(m.alert_id ORDER BY m.alert_id) AS alert_ids FROM incidents i "
                           "JOIN incident_alerts m USING (incident_id) GROUP BY ALL ORDER BY incident_id").df()


def event_alerts(db: Database, span: tuple[float, float]) -> set[int]:
    found = alerts(db)
    return {int(a) for a, t in zip(found["alert_id"], found["first_seen_at"], strict=True)
            if span[0] <= hours(t) <= span[1] + 1}


def test_the_rumour_burst_and_the_complaint_spike_each_become_exactly_one_incident(demo):
    db, _, _, _ = demo
    found = incidents(db)
    for span in (RUMOUR, COMPLAINT):
        during = found[[span[0] <= hours(t) <= span[1] + 1 for t in found["first_seen_at"]]]
        assert len(during) == 1, (span, found[["incident_id", "headline", "first_seen_at"]])
        assert set(during["alert_ids"].iloc[0]) == event_alerts(db, span)  # every alert of the event, no other
        assert during["severity"].iloc[0] == "high" and during["status"].iloc[0] == "new"
    rumour = found[[RUMOUR[0] <= hours(t) <= RUMOUR[1] + 1 for t in found["first_seen_at"]]].iloc[0]
    assert "HCPH-RR-014" in rumour["headline"] and len(rumour["alert_ids"]) >= 5
    reasons = db.reader().execute("SELECT DISTINCT reason FROM incident_alerts").fetchall()
    assert {r for (r,) in reasons} >= {"opened", "shared_evidence"}


def test_quiet_hours_raise_no_high_incident(demo):
    db, s, _, _ = demo
    rules = Rules(s.alerts)
    tail = max(rules(m).window_minutes for m in (VolumeRule, ClaimRule, NarrativeRule)) / 60 + 0.25
    high = db.reader().sql("SELECT seen_at FROM incident_events WHERE severity = 'high' AND actor = 'detector'").df()
    assert len(high) >= 2
    assert all(any(lo <= hours(t) <= hi + tail for lo, hi in (RUMOUR, COMPLAINT)) for t in high["seen_at"])
    opened = db.reader().execute("SELECT count(*) FROM incident_events WHERE event = 'opened'").fetchall()[0][0]
    assert opened == len(incidents(db))

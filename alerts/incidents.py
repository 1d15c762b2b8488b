"""Incidents: the grouping step after detection. Every new alert goes into an incident, opened for it or joined.

`place` runs inside the detection pass's transaction, after its findings became alerts. A new alert joins the open
incident the rules in `alerts.incident_rules` find (the decision and its reason are recorded), or opens one. A later
signal of an alert already placed updates its incident: span, first post, severity (the highest of its alerts) and
headline (the title of its most severe alert). Notices say what to notify: an incident opened, or escalated
(its severity rose, or a signal's post count reached `incidents.volume_factor` times the incident's largest post
count at its last notification); an extra alert alone notifies nobody, though a more severe one escalates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import duckdb

from alerts.incident_rules import Decision, Limits, Member, Signal, decide, main_watches, shingles
from alerts.model import Finding, Recorded, severity_rank
from settings import Settings
from storage import incident_store
from storage.incident_store import KEY_SEPARATOR


@dataclass(frozen=True)
class Notice:
    """A notification an incident owes: 'opened', or 'escalated' with its reasons."""

    incident_id: int
    event: str
    alert_id: int
    finding: Finding
    reasons: tuple[str, ...] = ()


def place(con: duckdb.DuckDBPyConnection, recorded: Sequence[Recorded], s: Settings, now: datetime) -> list[Notice]:
    """Put each new alert in an incident and pass later signals on to theirs; at most one notice per incident."""
    limits = Limits(timedelta(minutes=s.incidents.window_minutes), s.alerts.narrative.text_similarity)
    notices: list[Notice] = []
    for r in recorded:
        if r.event == "suppressed":
            continue
        member = incident_store.membership(con, r.alert_id)
        if member is None:
            notices += _place_new(con, r, s, limits, now)
        else:
            notices += _signal(con, member[0], r, member[1], s, now)
    return _one_per_incident(notices)


def _place_new(con: duckdb.DuckDBPyConnection, r: Recorded, s: Settings, limits: Limits, now: datetime) -> list[Notice]:
    f = r.finding
    signal = _signal_of(r.alert_id, f, main_watches(f, _watch_lists(con, f, s, limits)))
    since = f.seen_at - timedelta(hours=s.incidents.link_hours)
    decision = decide(signal, [_member(row) for row in incident_store.open_members(con, since)], limits)
    keys = {"watches": sorted(signal.watches), "shingles": [sorted(x) for x in signal.shingles],
            "baseline_posts": posts_of(f)}
    if decision is None:
        return [_open(con, r, keys, now)]
    return _join(con, r, decision, keys, now)


def _watch_lists(con: duckdb.DuckDBPyConnection, f: Finding, s: Settings, limits: Limits) -> list[list[str]]:
    """The watches of the posts that show what an alert is about: for a topic's alert, every post on the topic in
    its window (its few evidence posts may be replies on no watch); otherwise its evidence posts."""
    if f.topic and not f.watch:
        found = incident_store.topic_watches(con, f.topic, f.seen_at - limits.window, f.seen_at,
                                             s.alerts.topic_min_score)
        if found:
            return found
    return incident_store.evidence_watches(con, f)


def _open(con: duckdb.DuckDBPyConnection, r: Recorded, keys: dict[str, Any], now: datetime) -> Notice:
    f = r.finding
    incident_id = incident_store.open_incident(con, r.alert_id, f, first_post(f), now)
    incident_store.add_member(con, incident_id, r.alert_id, "opened", "the first alert of this situation",
                              "detector", now, keys)
    incident_store.event(con, incident_id, now, "detector", "opened", r.alert_id, f.title,
                         {"kind": f.kind, **_numbers(f)}, f.seen_at)
    return Notice(incident_id, "opened", r.alert_id, f)


def _join(con: duckdb.DuckDBPyConnection, r: Recorded, d: Decision, keys: dict[str, Any],
          now: datetime) -> list[Notice]:
    f = r.finding
    incident_store.add_member(con, d.incident_id, r.alert_id, d.reason, d.detail, "detector", now, keys)
    incident_store.set_baseline(con, d.incident_id, keys["baseline_posts"], at_least=True)
    incident_store.event(con, d.incident_id, now, "detector", "joined", r.alert_id,
                         f"alert #{r.alert_id} ({f.title}) {d.detail}", {"reason": d.reason, "kind": f.kind,
                                                                        **_numbers(f)}, f.seen_at)
    _, before, after = incident_store.take_signal(con, d.incident_id, r.alert_id, f, first_post(f), now)
    return _escalate(con, d.incident_id, r, _severity_rise(before, after, f), now)


def _signal(con: duckdb.DuckDBPyConnection, incident_id: int, r: Recorded, baseline: int, s: Settings,
            now: datetime) -> list[Notice]:
    """A later sighting of an alert already in an incident (closed incidents take no signals)."""
    f = r.finding
    incident_store.refresh_keys(con, r.alert_id, [sorted(x) for x in shingles([e.text for e in f.evidence])])
    status, before, after = incident_store.take_signal(con, incident_id, r.alert_id, f, first_post(f), now)
    if status not in incident_store.OPEN:
        return []
    reasons = _severity_rise(before, after, f)
    posts = posts_of(f)
    if baseline > 0 and posts >= s.incidents.volume_factor * baseline:
        reasons.append(f"posts rose from {baseline} to {posts} ({f.kind.replace('_', ' ')}, alert #{r.alert_id})")
        incident_store.set_baseline(con, incident_id, posts)
    return _escalate(con, incident_id, r, reasons, now)


def _severity_rise(before: str, after: str, f: Finding) -> list[str]:
    if severity_rank(after) > severity_rank(before):
        return [f"severity rose from {before} to {after}: {f.title}"]
    return []


def _escalate(con: duckdb.DuckDBPyConnection, incident_id: int, r: Recorded, reasons: list[str],
              now: datetime) -> list[Notice]:
    if not reasons:
        return []
    incident_store.escalated(con, incident_id, now)
    incident_store.event(con, incident_id, now, "detector", "escalated", r.alert_id, "; ".join(reasons),
                         {"reasons": reasons, **_numbers(r.finding)}, r.finding.seen_at)
    return [Notice(incident_id, "escalated", r.alert_id, r.finding, tuple(reasons))]


def _one_per_incident(notices: list[Notice]) -> list[Notice]:
    """An incident opened in this pass is notified once, as opened (with what it has become); escalations of one
    incident in one pass make one notice with every reason."""
    merged: dict[int, Notice] = {}
    for n in notices:
        had = merged.get(n.incident_id)
        if had is None:
            merged[n.incident_id] = n
        elif had.event == "escalated" and n.event == "escalated":
            merged[n.incident_id] = replace(n, reasons=had.reasons + n.reasons)
    return list(merged.values())


def _signal_of(alert_id: int, f: Finding, watches: frozenset[str]) -> Signal:
    return Signal(alert_id, f.claim_id, f.topic, watches,
                  frozenset(e.platform + KEY_SEPARATOR + e.post_id for e in f.evidence),
                  shingles([e.text for e in f.evidence]), f.seen_at, f.seen_at)


def _member(row: dict[str, Any]) -> Member:
    return Member(int(row["incident_id"]), Signal(
        int(row["alert_id"]), row["claim_id"], row["topic"], frozenset(row["watches"] or ()),
        frozenset(row["evidence"] or ()), tuple(frozenset(x) for x in row["shingles"] or ()),
        row["first_seen_at"], row["last_seen_at"]))


def posts_of(f: Finding) -> int:
    try:
        return int(f.metrics.get("posts") or 0)
    except (TypeError, ValueError):
        return 0


def first_post(f: Finding) -> datetime | None:
    """The earliest post the finding knows of: its evidence, and a narrative's or coordination's first post."""
    times = [e.created_at for e in f.evidence if e.created_at is not None]
    for key in ("first_seen", "first"):
        value = f.metrics.get(key)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                continue
        if isinstance(value, datetime):
            times.append(value.replace(tzinfo=None))
    return min(times) if times else None


def _numbers(f: Finding) -> dict[str, Any]:
    """The finding's headline numbers for the timeline (no word-pair signatures or long lists)."""
    return {k: v for k, v in f.metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}

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

from alerts.detectors.narratives import NarrativeRule
from alerts.incident_rules import Decision, Limits, Member, Signal, decide, main_watches, shingles
from alerts.model import Finding, Recorded, severity_rank
from alerts.registry import Rules
from settings import Settings
from storage.alert_stores import AlertWriter
from storage.incident_writer import KEY_SEPARATOR, OPEN


@dataclass(frozen=True)
class Notice:
    """A notification an incident owes: 'opened', or 'escalated' with its reasons."""

    incident_id: int
    event: str
    alert_id: int
    finding: Finding
    reasons: tuple[str, ...] = ()


def place(w: AlertWriter, recorded: Sequence[Recorded], s: Settings, now: datetime) -> list[Notice]:
    """Put each new alert in an incident and pass later signals on to theirs; at most one notice per incident."""
    limits = Limits(timedelta(minutes=s.incidents.window_minutes),
                    Rules(s.alerts, s.file)(NarrativeRule).text_similarity)
    notices: list[Notice] = []
    for r in recorded:
        if r.event == "suppressed":
            continue
        member = w.incidents.membership(r.alert_id)
        if member is None:
            notices += _place_new(w, r, s, limits, now)
        else:
            notices += _signal(w, member[0], r, member[1], s, now)
    return _one_per_incident(notices)


def _place_new(w: AlertWriter, r: Recorded, s: Settings, limits: Limits, now: datetime) -> list[Notice]:
    f = r.finding
    signal = _signal_of(r.alert_id, f, main_watches(f, _watch_lists(w, f, s, limits)))
    since = f.seen_at - timedelta(hours=s.incidents.link_hours)
    decision = decide(signal, [_member(row) for row in w.incidents.open_members(since)], limits)
    keys = {"watches": sorted(signal.watches), "shingles": [sorted(x) for x in signal.shingles],
            "baseline_posts": posts_of(f)}
    if decision is None:
        return [_open(w, r, keys, now)]
    return _join(w, r, decision, keys, now)


def _watch_lists(w: AlertWriter, f: Finding, s: Settings, limits: Limits) -> list[list[str]]:
    """The watches of the posts that show what an alert is about: for a topic's alert, every post on the topic in
    its window (its few evidence posts may be replies on no watch); otherwise its evidence posts."""
    if f.topic and not f.watch:
        found = w.incidents.topic_watches(f.topic, f.seen_at - limits.window, f.seen_at,
                                             s.alerts.topic_min_score)
        if found:
            return found
    return w.incidents.evidence_watches(f)


def _open(w: AlertWriter, r: Recorded, keys: dict[str, Any], now: datetime) -> Notice:
    f = r.finding
    incident_id = w.incidents.open_incident(r.alert_id, f, first_post(f), now)
    w.incidents.add_member(incident_id, r.alert_id, "opened", "the first alert of this situation",
                              "detector", now, keys)
    w.incidents.event(incident_id, now, "detector", "opened", r.alert_id, f.title,
                         {"kind": f.kind, **_numbers(f)}, f.seen_at)
    return Notice(incident_id, "opened", r.alert_id, f)


def _join(w: AlertWriter, r: Recorded, d: Decision, keys: dict[str, Any],
          now: datetime) -> list[Notice]:
    f = r.finding
    w.incidents.add_member(d.incident_id, r.alert_id, d.reason, d.detail, "detector", now, keys)
    w.incidents.set_baseline(d.incident_id, keys["baseline_posts"], at_least=True)
    w.incidents.event(d.incident_id, now, "detector", "joined", r.alert_id,
                         f"alert #{r.alert_id} ({f.title}) {d.detail}", {"reason": d.reason, "kind": f.kind,
                                                                        **_numbers(f)}, f.seen_at)
    _, before, after = w.incidents.take_signal(d.incident_id, r.alert_id, f, first_post(f), now)
    return _escalate(w, d.incident_id, r, _severity_rise(before, after, f), now)


def _signal(w: AlertWriter, incident_id: int, r: Recorded, baseline: int, s: Settings,
            now: datetime) -> list[Notice]:
    """A later sighting of an alert already in an incident (closed incidents take no signals)."""
    f = r.finding
    w.incidents.refresh_keys(r.alert_id, [sorted(x) for x in shingles([e.text for e in f.evidence])])
    status, before, after = w.incidents.take_signal(incident_id, r.alert_id, f, first_post(f), now)
    if status not in OPEN:
        return []
    reasons = _severity_rise(before, after, f)
    posts = posts_of(f)
    if baseline > 0 and posts >= s.incidents.volume_factor * baseline:
        reasons.append(f"posts rose from {baseline} to {posts} ({f.kind.replace('_', ' ')}, alert #{r.alert_id})")
        w.incidents.set_baseline(incident_id, posts)
    return _escalate(w, incident_id, r, reasons, now)


def _severity_rise(before: str, after: str, f: Finding) -> list[str]:
    if severity_rank(after) > severity_rank(before):
        return [f"severity rose from {before} to {after}: {f.title}"]
    return []


def _escalate(w: AlertWriter, incident_id: int, r: Recorded, reasons: list[str],
              now: datetime) -> list[Notice]:
    if not reasons:
        return []
    w.incidents.escalated(incident_id, now)
    w.incidents.event(incident_id, now, "detector", "escalated", r.alert_id, "; ".join(reasons),
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

"""311 requests linked to the open incidents they agree with on topic or place, and time (run after each detection
pass, in its transaction: `alerts.detect` and the fast path call `link`).

A request is linked to an open incident (new, acknowledged, assigned) when it was requested within the incident's
window (from its first post, else its first signal, `[incidents] window_minutes` before, to its last signal as long
after) and either its label scores one of the incident's alerts' topics at least `[alerts] topic_min_score`
(`same_topic`), or its text (which carries the address) names one of the places of a watch the incident is on
(`same_place`). Only requests whose inbox item has no incident and was never unlinked by staff are linked; among
several incidents the topic wins over the place, then the newest incident. Each link sets the inbox item's
incident with an inbox event (actor `detector`, the reason in its note), and the incident gets one event per pass.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import duckdb

from storage.bulk import insert_rows

if TYPE_CHECKING:
    from settings import Settings

MATCHES = """
WITH inc AS (
    SELECT incident_id, coalesce(first_post_at, first_seen_at) - to_minutes($window::BIGINT) AS lo,
           last_seen_at + to_minutes($window::BIGINT) AS hi
    FROM incidents WHERE status IN ('new', 'acknowledged', 'assigned')),
topics AS (SELECT DISTINCT m.incident_id, a.topic FROM incident_alerts m JOIN alerts a USING (alert_id)
           JOIN inc USING (incident_id) WHERE a.topic IS NOT NULL),
watches AS (SELECT DISTINCT incident_id, watch FROM (
                SELECT m.incident_id, unnest(list_append(m.watches, a.watch)) AS watch
                FROM incident_alerts m JOIN alerts a USING (alert_id) JOIN inc USING (incident_id))
            WHERE watch IS NOT NULL),
places AS (SELECT unnest($place_watches::VARCHAR[]) AS watch, lower(unnest($places::VARCHAR[])) AS place),
cand AS (
    SELECT r.platform, r.post_id, i.incident_id, it.text
    FROM service_requests r JOIN inbox_items it USING (platform, post_id)
    JOIN inc i ON r.requested_at BETWEEN i.lo AND i.hi
    WHERE it.incident_id IS NULL AND NOT EXISTS (
        SELECT 1 FROM inbox_events e WHERE e.platform = r.platform AND e.post_id = r.post_id AND e.event = 'unlinked')),
found AS (
    SELECT c.platform, c.post_id, c.incident_id, 1 AS rank, 'same topic ''' || t.topic || '''' AS reason
    FROM cand c JOIN labels l USING (platform, post_id) JOIN topics t ON t.incident_id = c.incident_id
    WHERE list_contains(list_transform(list_filter(l.topics, lambda x: x.score >= $min_score), lambda x: x.name),
                        t.topic)
    UNION ALL
    SELECT c.platform, c.post_id, c.incident_id, 2, 'same place ''' || p.place || ''' (watch ' || w.watch || ')'
    FROM cand c JOIN watches w USING (incident_id) JOIN places p USING (watch)
    WHERE contains(lower(c.text), p.place))
SELECT platform, post_id, incident_id, reason FROM found
QUALIFY row_number() OVER (PARTITION BY platform, post_id ORDER BY rank, incident_id DESC, reason) = 1
"""


def link(con: duckdb.DuckDBPyConnection, places: dict[str, list[str]], window_minutes: float, min_score: float,
         now: datetime) -> int:
    """Link the 311 requests that agree with an open incident; returns how many were linked."""
    pairs = [(watch, place) for watch, named in places.items() for place in named if place.strip()]
    found = con.execute(MATCHES, {"window": int(window_minutes), "min_score": min_score,
                                  "place_watches": [w for w, _ in pairs], "places": [p for _, p in pairs]}).fetchall()
    if not found:
        return 0
    for platform, post_id, incident_id, _ in found:
        con.execute("UPDATE inbox_items SET incident_id = ?, updated_at = ? WHERE platform = ? AND post_id = ?",
                    [incident_id, now, platform, post_id])
    insert_rows(con, "INSERT INTO inbox_events SELECT r.platform, r.post_id, r.seen, 'detector', 'linked', i.status, "
                     "r.note FROM {rows} r JOIN inbox_items i USING (platform, post_id)",
                {"platform": [f[0] for f in found], "post_id": [f[1] for f in found], "seen": [now] * len(found),
                 "note": [f"incident #{n}: {reason}" for _, _, n, reason in found]})
    _incident_events(con, found, now)
    return len(found)


def _incident_events(con: duckdb.DuckDBPyConnection, found: list[tuple], now: datetime) -> None:
    """One event per incident: how many requests were linked, and why."""
    per: dict[int, list[str]] = {}
    for platform, post_id, incident_id, reason in found:
        per.setdefault(incident_id, []).append(f"{platform}:{post_id} ({reason})")
    insert_rows(con, "INSERT INTO incident_events (incident_id, changed_at, actor, event, status, severity, note) "
                     "SELECT r.incident_id, r.seen, 'detector', 'requests_linked', i.status, i.severity, r.note "
                     "FROM {rows} r JOIN incidents i USING (incident_id)",
                {"incident_id": list(per), "seen": [now] * len(per),
                 "note": [f"{len(v)} 311 request(s) linked: " + "; ".join(v[:20]) for v in per.values()]})


def after_pass(con: duckdb.DuckDBPyConnection, s: Settings, now: datetime) -> int:
    """`link` with the settings' watches' places, incident window and topic score (a detection pass's last step)."""
    return link(con, {w.name: list(w.places) for w in s.watches}, s.incidents.window_minutes,
                s.alerts.topic_min_score, now)

"""The incidents area's named queries (Incidents page, Overview, digest, the response library) and staff actions.

Listed in `storage.queries.AREAS`; `actions()` joins `storage.actions.ACTIONS`. Windows select
incidents whose situation (first_seen_at .. last_seen_at, engine clock) overlaps `[since, until)`; response times
are wall-clock minutes from `opened_at`. Incidents merged into another are left out unless asked for by status.
"""

from __future__ import annotations

from core.roles import COMMS, EVERYONE
from storage import incident_actions, incident_merge
from storage.named import Action, Param, Query

ONE = {"incident_id": Param("int", required=True)}
WINDOW = {"since": Param("time"), "until": Param("time")}
OVERLAPS = "($since IS NULL OR i.last_seen_at >= $since) AND ($until IS NULL OR i.first_seen_at < $until)"
SEVERITY_AT_LEAST = ("list_position(['low', 'medium', 'high'], i.severity) >= "
                     "list_position(['low', 'medium', 'high'], $min_severity)")


def _minutes(column: str, name: str) -> str:
    """Minutes from opening (never negative: a response may be posted before the incident opened)."""
    return (f"CASE WHEN {column} IS NOT NULL THEN greatest(date_diff('second', i.opened_at, {column}), 0) / 60.0 "
            f"END AS {name}")


MINUTES = ", ".join(_minutes(c, n) for c, n in (("i.acknowledged_at", "minutes_to_acknowledge"),
                                                ("i.first_response_at", "minutes_to_first_response"),
                                                ("i.resolved_at", "minutes_to_resolve")))
MEMBERS = """members AS (
    SELECT m.incident_id, count(*) AS alerts, list(m.alert_id ORDER BY m.alert_id) AS alert_ids,
           list(DISTINCT a.kind ORDER BY a.kind) AS kinds,
           list_sort(list_distinct(flatten(list(m.watches)))) AS watches,
           coalesce(list(DISTINCT a.topic ORDER BY a.topic) FILTER (WHERE a.topic IS NOT NULL), []) AS topics,
           coalesce(list(DISTINCT a.claim_id ORDER BY a.claim_id) FILTER (WHERE a.claim_id IS NOT NULL), [])
               AS claim_ids
    FROM incident_alerts m JOIN alerts a USING (alert_id) GROUP BY m.incident_id)"""
COLUMNS = f"""i.incident_id, i.headline, i.severity, i.status, i.assignee, coalesce(m.alerts, 0) AS alerts,
       m.alert_ids, m.kinds, m.watches, m.topics, m.claim_ids, i.first_post_at, i.first_seen_at, i.last_seen_at,
       i.opened_at, i.acknowledged_at, i.assigned_at, i.first_response_at, i.resolved_at, i.dismissed_at,
       i.escalated_at, i.merged_into, i.resolution_note, {MINUTES}"""
STATUS = ("CASE WHEN $status IS NULL THEN i.status <> 'merged' ELSE list_contains($status, i.status) END")

DETAIL = f"""
WITH {MEMBERS},
ev AS (SELECT DISTINCT e.platform, e.post_id FROM incident_alerts m JOIN alert_evidence e USING (alert_id)
       WHERE m.incident_id = $incident_id),
shown AS (SELECT p.platform, p.text, p.created_at FROM posts p JOIN ev USING (platform, post_id)
          WHERE p.created_at >= (SELECT coalesce(first_post_at, TIMESTAMP '0001-01-02') - INTERVAL 1 DAY
                                 FROM incidents WHERE incident_id = $incident_id)),
resp AS (SELECT list({{'response_id': response_id, 'channel': channel, 'url': url, 'posted_at': posted_at,
                       'actor': actor, 'note': note}} ORDER BY posted_at) AS responses
         FROM incident_responses WHERE incident_id = $incident_id),
al AS (SELECT list({{'alert_id': a.alert_id, 'kind': a.kind, 'severity': a.severity, 'status': a.status,
                     'title': a.title, 'reason': m.reason, 'detail': m.detail}} ORDER BY a.alert_id) AS alert_list
       FROM incident_alerts m JOIN alerts a USING (alert_id) WHERE m.incident_id = $incident_id)
SELECT {COLUMNS},
       coalesce((SELECT list(DISTINCT text) FROM shown), []) AS evidence_texts,
       coalesce((SELECT list(DISTINCT platform ORDER BY platform) FROM shown), []) AS platforms,
       al.alert_list, coalesce(resp.responses, []) AS responses
FROM incidents i LEFT JOIN members m USING (incident_id), al, resp WHERE i.incident_id = $incident_id
"""

TIMELINE = """
SELECT e.changed_at, e.seen_at, 'alert #' || e.alert_id AS source, a.kind AS detector, e.actor, e.event,
       e.severity, e.status, e.note, e.details
FROM alert_events e JOIN incident_alerts m USING (alert_id) JOIN alerts a USING (alert_id)
WHERE m.incident_id = $incident_id AND e.actor = 'detector'
UNION ALL
SELECT changed_at, seen_at, 'incident', NULL, actor, event, severity, status, note, details
FROM incident_events WHERE incident_id = $incident_id
ORDER BY changed_at, seen_at NULLS LAST, source
"""

TEAM = f"""
WITH i AS (SELECT i.severity, i.status, {MINUTES} FROM incidents i WHERE i.status <> 'merged' AND {OVERLAPS})
SELECT coalesce(severity, 'all') AS severity, count(*) AS incidents,
       count(*) FILTER (WHERE status IN ('new', 'acknowledged', 'assigned')) AS open,
       count(minutes_to_acknowledge) AS acknowledged, count(minutes_to_first_response) AS responded,
       count(minutes_to_resolve) AS resolved, count(*) FILTER (WHERE status = 'dismissed') AS dismissed,
       median(minutes_to_acknowledge) AS median_minutes_to_acknowledge,
       quantile_cont(minutes_to_acknowledge, 0.9) AS p90_minutes_to_acknowledge,
       median(minutes_to_first_response) AS median_minutes_to_first_response,
       quantile_cont(minutes_to_first_response, 0.9) AS p90_minutes_to_first_response,
       median(minutes_to_resolve) AS median_minutes_to_resolve,
       quantile_cont(minutes_to_resolve, 0.9) AS p90_minutes_to_resolve
FROM i GROUP BY GROUPING SETS ((severity), ())
ORDER BY list_position(['low', 'medium', 'high', 'all'], coalesce(severity, 'all'))
"""

QUERIES: dict[str, Query] = {
    "incidents": Query(
        f"WITH {MEMBERS} SELECT {COLUMNS} FROM incidents i LEFT JOIN members m USING (incident_id) "
        f"WHERE {STATUS} AND {SEVERITY_AT_LEAST} AND {OVERLAPS} AND ($active_since IS NULL OR "
        "i.status IN ('new', 'acknowledged', 'assigned') OR i.opened_at >= $active_since OR "
        "i.escalated_at >= $active_since) ORDER BY i.last_seen_at DESC, i.incident_id DESC LIMIT $limit",
        {"status": Param("str_list"), "min_severity": Param("str", "low"), **WINDOW,
         "active_since": Param("time"), "limit": Param("int", 200)},
        doc="Incidents, latest signal first: statuses, least severity, a window (engine clock), and with "
            "active_since (wall clock) only open ones and those opened or escalated since then."),
    "incident_detail": Query(
        DETAIL, ONE,
        doc="One incident: headline, severity, status, workflow times, its alerts (alert_list), alert_ids, kinds, "
            "claim_ids, topics, watches, platforms, first_post_at, de-duplicated evidence_texts, responses."),
    "incident_alerts": Query(
        "SELECT m.incident_id, a.alert_id, a.kind, a.severity, a.status, a.title, a.explanation, a.watch, a.topic, "
        "a.claim_id, a.first_seen_at, a.last_seen_at, a.occurrences, m.reason, m.detail, m.actor, m.joined_at "
        "FROM incident_alerts m JOIN alerts a USING (alert_id) JOIN incidents i USING (incident_id) "
        f"WHERE ($incident_id IS NULL OR m.incident_id = $incident_id) AND {OVERLAPS} "
        "ORDER BY m.incident_id, a.first_seen_at, a.alert_id",
        {"incident_id": Param("int"), **WINDOW},
        doc="The alerts of one incident (or of every incident in a window) and why each joined it."),
    "incident_evidence": Query(
        "SELECT e.platform, e.post_id, min(p.created_at) AS created_at, coalesce(min(p.text), '(post deleted)') "
        "AS text, min(p.url) AS url, list(DISTINCT m.alert_id ORDER BY m.alert_id) AS alert_ids "
        "FROM incident_alerts m JOIN alert_evidence e USING (alert_id) LEFT JOIN posts p USING (platform, post_id) "
        "WHERE m.incident_id = $incident_id GROUP BY ALL ORDER BY created_at NULLS LAST", ONE,
        doc="Every evidence post of an incident's alerts, once, with the alerts that show it (no handles)."),
    "incident_timeline": Query(
        TIMELINE, ONE, doc="An incident's signals (each detector sighting of its alerts, with its numbers in "
                           "details) and its own history (joins, escalations, staff actions, merges, splits)."),
    "incident_responses": Query(
        "SELECT response_id, channel, url, posted_at, actor, note, recorded_at FROM incident_responses "
        "WHERE incident_id = $incident_id ORDER BY posted_at", ONE, doc="What the agency posted about it."),
    "incident_response_times": Query(
        f"SELECT i.incident_id, i.headline, i.severity, i.status, i.opened_at, i.acknowledged_at, "
        f"i.first_response_at, i.resolved_at, i.dismissed_at, {MINUTES} FROM incidents i "
        f"WHERE i.status <> 'merged' AND {OVERLAPS} ORDER BY i.opened_at", WINDOW,
        doc="Minutes to acknowledge, to first response and to resolve, per incident (targets: alerts/"
            "incident_targets.py)."),
    "incident_team_response": Query(
        TEAM, WINDOW, doc="Team figures per severity and in all: incidents, open, median and 90th percentile "
                          "minutes to acknowledge, to first response and to resolve."),
    "alert_incident": Query(
        "SELECT m.alert_id, m.incident_id, m.reason, m.detail, i.headline, i.status AS incident_status "
        "FROM incident_alerts m JOIN incidents i USING (incident_id) "
        "WHERE $alert_id IS NULL OR m.alert_id = $alert_id ORDER BY m.alert_id",
        {"alert_id": Param("int")}, doc="The incident each alert is in, and why."),
}

WORKERS = COMMS  # those who work alerts


def actions() -> dict[str, Action]:
    """The incident workflow's actions, collected by `storage.actions`."""
    note = {"note": Param("str")}
    a = incident_actions
    return {
        "incident_acknowledge": Action(a.acknowledge, {**ONE, **note}, WORKERS, "Acknowledge a new incident."),
        "incident_assign": Action(a.assign, {**ONE, "assignee": Param("str", required=True),
                                             "assignee_email": Param("str"), **note},
                                  WORKERS, "Assign an open incident (acknowledges it if new); the email, if given, "
                                           "gets the reminder when it passes a target."),
        "incident_resolve": Action(a.resolve, {**ONE, "note": Param("str", required=True)}, WORKERS,
                                   "Resolve an incident with a note (what was done)."),
        "incident_dismiss": Action(a.dismiss, {**ONE, **note}, WORKERS, "Dismiss an incident as noise."),
        "incident_reopen": Action(a.reopen, {**ONE, **note}, WORKERS, "Reopen a resolved or dismissed incident."),
        "incident_merge": Action(incident_merge.merge, {**ONE, "other_id": Param("int", required=True), **note},
                                 WORKERS, "Merge incident other_id into incident_id (alerts and responses move)."),
        "incident_split": Action(incident_merge.split, {**ONE, "alert_ids": Param("str_list", required=True),
                                                        **note},
                                 WORKERS, "Move some alerts of an incident into a new incident."),
        "incident_record_response": Action(
            a.record_response, {**ONE, "response_id": Param("str"), "channel": Param("str", required=True),
                                "url": Param("str"), "posted_at": Param("time"), **note},
            WORKERS, "Record that the agency responded (posted_at defaults to now; response_id: a library "
                     "entry, if it was one)."),
        "incident_visit": Action(a.visit, {}, EVERYONE, "Record a visit to the Incidents page; returns the one "
                                                        "before (for 'since you were last here')."),
    }

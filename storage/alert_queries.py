"""The alerts area's named queries (Alerts page, digest) and staff actions (lifecycle, feedback).

Listed in `storage.queries.AREAS`; `actions()` joins `storage.actions.ACTIONS`. Alert windows
select alerts whose situation (first_seen_at .. last_seen_at, engine clock) overlaps `[since, until)`; response
times are wall-clock minutes from `raised_at`.
"""

from __future__ import annotations

from core.roles import COMMS, STAFF
from storage import alert_actions
from storage.named import WINDOW, Action, Param, Query

SEVERITY_AT_LEAST = ("list_position(['low', 'medium', 'high'], severity) >= "
                     "list_position(['low', 'medium', 'high'], $min_severity)")
OVERLAPS = "($since IS NULL OR last_seen_at >= $since) AND ($until IS NULL OR first_seen_at < $until)"
MINUTES = """date_diff('second', raised_at, acknowledged_at) / 60.0 AS minutes_to_acknowledge,
       date_diff('second', raised_at, resolved_at) / 60.0 AS minutes_to_resolve"""
ALERT_COLUMNS = f"""alert_id, kind, severity, status, title, explanation, watch, topic, claim_id, assignee,
       first_seen_at, last_seen_at, occurrences, raised_at, updated_at, acknowledged_at, assigned_at, resolved_at,
       dismissed_at, resolution_note, response_url, {MINUTES}"""
OPTIONAL_WINDOW = {"since": Param("time"), "until": Param("time")}
ONE = {"alert_id": Param("int", required=True)}

JUDGED = """
WITH f AS (SELECT alert_id, arg_max(verdict, created_at) AS verdict FROM alert_feedback
           WHERE platform IS NULL GROUP BY alert_id),
j AS (SELECT a.kind, CASE WHEN f.verdict IS NOT NULL THEN f.verdict = 'useful'
                          WHEN a.status = 'resolved' THEN true WHEN a.status = 'dismissed' THEN false END AS useful
      FROM alerts a LEFT JOIN f USING (alert_id))
SELECT kind AS detector, count(useful) AS judged, count(*) FILTER (WHERE useful) AS useful,
       count(*) FILTER (WHERE NOT useful) AS not_useful, count(*) AS alerts,
       round(count(*) FILTER (WHERE useful) / nullif(count(useful), 0), 3) AS precision
FROM j GROUP BY kind ORDER BY kind
"""

QUERIES: dict[str, Query] = {
    "alerts": Query(
        f"SELECT {ALERT_COLUMNS}, metrics FROM alerts WHERE ($status IS NULL OR list_contains($status, status)) "
        f"AND ($kind IS NULL OR kind = $kind) AND {SEVERITY_AT_LEAST} AND {OVERLAPS} "
        "ORDER BY last_seen_at DESC, alert_id DESC LIMIT $limit",
        {"status": Param("str_list"), "kind": Param("str"), "min_severity": Param("str", "low"),
         **OPTIONAL_WINDOW, "limit": Param("int", 200)},
        doc="Alerts, newest situation first; filter by statuses, kind, least severity and a window.",
    ),
    "alert": Query(f"SELECT {ALERT_COLUMNS}, fingerprint, metrics, links FROM alerts WHERE alert_id = $alert_id",
                   ONE, doc="One alert with its latest numbers (metrics JSON) and links (JSON)."),
    "alert_evidence": Query(
        "SELECT e.rank, e.platform, e.post_id, p.created_at, coalesce(p.text, '(post deleted)') AS text, p.url, "
        "e.note FROM alert_evidence e LEFT JOIN posts p USING (platform, post_id) WHERE e.alert_id = $alert_id "
        "ORDER BY e.rank", ONE,
        doc="The posts shown with an alert (no handles); a post deleted since shows as '(post deleted)'."),
    "alert_history": Query(
        "SELECT changed_at, seen_at, actor, event, status, severity, note FROM alert_events "
        "WHERE alert_id = $alert_id ORDER BY changed_at, event", ONE,
        doc="Every change of an alert, with who and when: detector updates and staff actions."),
    "alert_response_times": Query(
        f"SELECT alert_id, kind, severity, status, title, raised_at, acknowledged_at, resolved_at, {MINUTES} "
        f"FROM alerts WHERE {OVERLAPS} ORDER BY raised_at", OPTIONAL_WINDOW,
        doc="Minutes to acknowledge and to resolve, per alert."),
    "alert_team_response": Query(
        f"""WITH a AS (SELECT severity, status, {MINUTES} FROM alerts WHERE {OVERLAPS})
        SELECT coalesce(severity, 'all') AS severity, count(*) AS alerts,
               count(*) FILTER (WHERE status IN ('new', 'acknowledged', 'assigned')) AS open,
               count(minutes_to_acknowledge) AS acknowledged, count(minutes_to_resolve) AS resolved,
               count(*) FILTER (WHERE status = 'dismissed') AS dismissed,
               median(minutes_to_acknowledge) AS median_minutes_to_acknowledge,
               quantile_cont(minutes_to_acknowledge, 0.9) AS p90_minutes_to_acknowledge,
               median(minutes_to_resolve) AS median_minutes_to_resolve,
               quantile_cont(minutes_to_resolve, 0.9) AS p90_minutes_to_resolve
        FROM a GROUP BY GROUPING SETS ((severity), ())
        ORDER BY list_position(['low', 'medium', 'high', 'all'], coalesce(severity, 'all'))""",
        OPTIONAL_WINDOW, doc="Team figures: alerts, open, median and 90th percentile minutes to acknowledge / "
                             "resolve, per severity and in all."),
    "detector_precision": Query(
        JUDGED, doc="Running precision per detector: judged useful / judged. An alert is judged by its latest "
                    "feedback ('useful' or not), else resolved counts useful and dismissed counts as noise."),
    "alert_feedback_list": Query(
        "SELECT alert_id, verdict, platform, post_id, note, actor, created_at FROM alert_feedback "
        "WHERE $alert_id IS NULL OR alert_id = $alert_id ORDER BY created_at DESC LIMIT $limit",
        {"alert_id": Param("int"), "limit": Param("int", 200)}, doc="Feedback on alerts and evidence posts."),
    "alert_deliveries": Query(
        "SELECT delivery_id, alert_id, channel, target, status, attempts, created_at, next_attempt_at, sent_at, "
        "last_error FROM deliveries WHERE ($status IS NULL OR status = $status) "
        "ORDER BY delivery_id DESC LIMIT $limit", {"status": Param("str"), "limit": Param("int", 200)},
        doc="The notification outbox: what was sent, what waits for a retry, what failed and why."),
    "activity_hourly": Query(
        """SELECT time_bucket(INTERVAL 1 HOUR, p.created_at) AS hour, count(*) AS posts,
                  count(l.sentiment) AS labelled, count(*) FILTER (WHERE l.sentiment = 'negative') AS negative
        FROM posts p LEFT JOIN (SELECT platform, post_id, sentiment FROM labels
                                WHERE created_at >= $since AND created_at < $until) l USING (platform, post_id)
        WHERE p.created_at >= $since AND p.created_at < $until GROUP BY ALL ORDER BY hour""",
        WINDOW, doc="Posts, labelled and negative posts per hour: the digest's trend chart."),
    "claim_matches_labelled": Query(
        """SELECT l.matched_claim_id AS claim_id, c.text, c.rating, c.url, count(*) AS posts
        FROM labels l JOIN claims c ON c.claim_id = l.matched_claim_id
        WHERE l.created_at >= $since AND l.created_at < $until AND l.matched_claim_score >= $min_score
        GROUP BY ALL ORDER BY posts DESC LIMIT $limit""",
        {**WINDOW, "min_score": Param("float", 0.5), "limit": Param("int", 10)},
        doc="Claims most matched by the claim-matching model in a window."),
}


def actions() -> dict[str, Action]:
    """The alert workflow's actions, collected by `storage.actions`."""
    comms = COMMS  # comms staff, leads and admins
    staff = STAFF
    note = {"note": Param("str")}
    return {
        "alert_acknowledge": Action(alert_actions.acknowledge, {**ONE, **note}, comms, "Acknowledge a new alert."),
        "alert_assign": Action(alert_actions.assign, {**ONE, "assignee": Param("str", required=True), **note},
                               comms, "Assign an open alert to a staff member (acknowledges it if new)."),
        "alert_resolve": Action(alert_actions.resolve, {**ONE, "note": Param("str", required=True),
                                                        "response_url": Param("str")},
                                comms, "Resolve an alert with a note and a link to the response."),
        "alert_dismiss": Action(alert_actions.dismiss, {**ONE, **note}, comms, "Dismiss an alert as noise."),
        "alert_reopen": Action(alert_actions.reopen, {**ONE, **note}, comms, "Reopen a resolved or dismissed alert."),
        "alert_feedback": Action(alert_actions.feedback, {**ONE, "verdict": Param("str", required=True),
                                                          "platform": Param("str"), "post_id": Param("str"), **note},
                                 staff, "Judge an alert, or one of its evidence posts: "
                                        + ", ".join(alert_actions.VERDICTS) + "."),
    }

"""Posting from CivicRadar (responses/posting.py, dashboard/posting_view.py): the actions that record a post the
platform accepted (as a response of the incident, with the link the platform returned) or an attempt it refused,
and the posts made so far, which X's cost meter counts.

Listed in `storage.queries.AREAS`. The post itself is made by the dashboard's server (which holds
the posting credentials and checks the role first), never inside the engine's write transaction: a slow platform
must not hold up every write. Every post and every refused attempt is a row of the audit log.
"""

from __future__ import annotations

from typing import Any

import duckdb

from core.roles import APPROVERS
from storage import incident_actions
from storage.named import Action, Param, Query

POSTERS = APPROVERS  # who may post from CivicRadar: the roles that approve what is said
POSTED, FAILED = "incident_post_response", "response_post_failed"
INBOX_SENT = "inbox_reply_sent"  # storage.inbox_queries.SENT: inbox replies sent on X count against the same meter


def post_response(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """The platform accepted the post: keep it as a response of the incident (posted now, with its link)."""
    if not (p.get("url") or "").strip():
        raise ValueError("a post made from CivicRadar is recorded with the link the platform returned")
    note = f"posted from CivicRadar as {p.get('account') or 'the agency account'} (post {p['post_id']})"
    done = incident_actions.record_response(con, actor, {
        "incident_id": p["incident_id"], "response_id": p.get("response_id"), "channel": p["channel"],
        "url": p["url"], "posted_at": None, "note": note})
    return {**done, "url": p["url"]}


def post_failed(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """The platform refused or could not be reached: nothing was posted; the attempt is in the audit log."""
    incident_actions.status_of(con, p["incident_id"])
    return {"recorded": True}


QUERIES: dict[str, Query] = {
    "posting_counts": Query(
        "SELECT coalesce(json_extract_string(details, '$.channel'), json_extract_string(details, '$.platform')) "
        f"AS platform, count(*) AS posts FROM audit WHERE action IN ('{POSTED}', '{INBOX_SENT}') "
        "AND logged_at >= $since GROUP BY ALL ORDER BY platform",
        {"since": Param("time", required=True)},
        doc="Posts made from CivicRadar since a time, per platform, inbox replies included (X's cost meter counts "
            "this month's)."),
}


def actions() -> dict[str, Action]:
    one = {"incident_id": Param("int", required=True), "response_id": Param("str"), "version": Param("int"),
           "channel": Param("str", required=True), "account": Param("str"), "text": Param("str", required=True)}
    return {
        POSTED: Action(post_response, {**one, "url": Param("str", required=True),
                                       "post_id": Param("str", required=True)}, POSTERS,
                       "Record a post made from CivicRadar (the platform's link and id, the exact text) as a "
                       "response of the incident.", audit=lambda p: {**p, "text": p["text"][:5000]}),
        FAILED: Action(post_failed, {**one, "error": Param("str", required=True)}, POSTERS,
                       "Record a post from CivicRadar that the platform refused or could not take.",
                       audit=lambda p: {**p, "text": p["text"][:5000]}),
    }

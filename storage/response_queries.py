"""The response library's named queries (Responses page, suggestions for an incident) and staff actions.

Listed in `storage.queries.AREAS`; `actions()` joins `storage.actions.ACTIONS`. Drafting is for
comms staff (and leads and admins); approving is its own capability, for leads and admins only.
"""

from __future__ import annotations

from core.roles import APPROVERS, COMMS
from storage import response_store
from storage.named import Action, Param, Query

ONE = {"response_id": Param("str", required=True)}
# the version in use (approved), else the latest: what the library list describes
SHOWN = "coalesce(r.approved_version, r.version)"

QUERIES: dict[str, Query] = {
    "responses_library": Query(
        f"""
        SELECT r.response_id, v.title, r.status, r.version, r.approved_version, r.approved_by, r.approved_at,
               u.review_by, coalesce(u.review_by < $today::DATE, false) AS stale, v.claim_ids, v.topics, v.watches,
               v.links, r.updated_by, r.updated_at, r.created_by, r.created_at,
               (SELECT list(DISTINCT m.lang ORDER BY m.lang) FROM response_messages m
                WHERE m.response_id = r.response_id AND m.version = r.version) AS languages,
               (SELECT list(DISTINCT m.channel ORDER BY m.channel) FROM response_messages m
                WHERE m.response_id = r.response_id AND m.version = r.version) AS channels
        FROM responses r
        JOIN response_versions v ON v.response_id = r.response_id AND v.version = r.version
        JOIN response_versions u ON u.response_id = r.response_id AND u.version = {SHOWN}
        WHERE ($status IS NULL OR r.status = $status)
        ORDER BY r.status = 'retired', lower(v.title)
        """,
        {"today": Param("time", required=True), "status": Param("str")},
        doc="The library: each entry's latest version, status, approval, and whether the version in use is past "
            "its review-by date on `today` (stale).",
    ),
    "response_versions": Query(
        """
        SELECT v.version, v.title, v.claim_ids, v.topics, v.watches, v.links, v.review_by, v.note, v.edited_by,
               v.edited_at, v.version = r.approved_version AS in_use
        FROM response_versions v JOIN responses r USING (response_id)
        WHERE v.response_id = $response_id ORDER BY v.version DESC
        """,
        ONE, doc="Every version of one entry, newest first, and which one is in use.",
    ),
    "response_messages": Query(
        """
        SELECT m.response_id, m.version, v.title, v.claim_ids, v.topics, v.watches, v.links, v.review_by,
               m.lang, m.channel, m.text
        FROM response_messages m JOIN response_versions v USING (response_id, version)
        WHERE m.response_id = $response_id
          AND m.version = coalesce($version, (SELECT version FROM responses WHERE response_id = $response_id))
        ORDER BY m.lang, m.channel
        """,
        {**ONE, "version": Param("int")},
        doc="One version's messages (default: the latest), one row per language and channel.",
    ),
    "response_events": Query(
        "SELECT changed_at, actor, event, version, note FROM response_events WHERE response_id = $response_id "
        "ORDER BY changed_at DESC",
        ONE, doc="One entry's history: created, edited, approved, retired, imported; newest first.",
    ),
    "responses_live": Query(
        """
        SELECT r.response_id, r.approved_version AS version, v.title, v.claim_ids, v.topics, v.watches, v.links,
               v.review_by, coalesce((SELECT list(c.text ORDER BY c.claim_id) FROM claims c
                                      WHERE list_contains(v.claim_ids, c.claim_id)), []) AS claim_texts,
               m.lang, m.channel, m.text
        FROM responses r
        JOIN response_versions v ON v.response_id = r.response_id AND v.version = r.approved_version
        JOIN response_messages m ON m.response_id = r.response_id AND m.version = r.approved_version
        WHERE r.status <> 'retired' AND r.approved_version IS NOT NULL
        ORDER BY r.response_id, m.lang, m.channel
        """,
        doc="The approved version in use of every entry that is not retired, one row per message, with the linked "
            "claims' text: what suggestions for an incident are ranked from.",
    ),
}


def actions() -> dict[str, Action]:
    """The library's actions, collected by `storage.actions`."""
    content = {"title": Param("str", required=True), "messages": Param("str", required=True),
               "claim_ids": Param("str_list"), "topics": Param("str_list"), "watches": Param("str_list"),
               "links": Param("str_list"), "review_by": Param("str"), "note": Param("str")}
    return {
        "response_save": Action(response_store.save, {"response_id": Param("str"), "base_version": Param("int"),
                                                      **content},
                                COMMS, "Add a library entry, or a new draft version of one (base_version: the "
                                       "version it was edited from)."),
        "response_approve": Action(response_store.approve, {**ONE, "version": Param("int", required=True),
                                                            "note": Param("str")},
                                   APPROVERS, "Approve the latest (draft) version of a library entry, as reviewed."),
        "response_retire": Action(response_store.retire, {**ONE, "note": Param("str", required=True)},
                                  COMMS, "Retire a library entry (it is no longer suggested), with the reason."),
    }

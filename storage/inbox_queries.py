"""The inbox's named queries (Inbox page, Overview, digest) and staff actions.

Listed in `storage.queries.AREAS`; `actions()` joins `storage.actions.ACTIONS`. Every query but the
conversation reads `inbox_items` (one row per inbound post, written with the post), never the wide `posts` table:
the queue of 100k items answers in milliseconds. SLAs come from settings ([inbox] sla_minutes) as two parallel
lists, `sla_channels` and `sla_minutes`, and `default_sla` for channels not named. Contacts (author ids: handles'
ids, keyed hashes of e-mail addresses and phone numbers) are returned as stored; the dashboard hides them from roles
that do not work the inbox.
"""

from __future__ import annotations

from core.roles import COMMS
from storage import inbox_store
from storage.named import WINDOW, Action, Param, Query
from storage.posting_queries import INBOX_SENT, POSTERS

SLA = {"sla_channels": Param("str_list", []), "sla_minutes": Param("str_list", []),
       "default_sla": Param("float", 1440.0)}
ITEM = {"platform": Param("str", required=True), "post_id": Param("str", required=True)}
SENT, SEND_FAILED = INBOX_SENT, "inbox_reply_failed"  # replies sent from CivicRadar (leads and admins)
OPEN = "status IN ('new', 'in_progress')"
ORDER = f"{OPEN} DESC, CASE WHEN {OPEN} THEN epoch(received_at) ELSE -epoch(received_at) END, platform, post_id"
WITH_SLA = f"""
sla AS (SELECT unnest($sla_channels) AS channel, TRY_CAST(unnest($sla_minutes) AS DOUBLE) AS minutes),
items AS (
    SELECT i.*, coalesce(s.minutes, $default_sla) AS sla_minutes,
           {OPEN} AND epoch($now::TIMESTAMP) - epoch(i.received_at) > coalesce(s.minutes, $default_sla) * 60
               AS overdue
    FROM inbox_items i LEFT JOIN sla s ON s.channel = i.platform)
"""

QUERIES: dict[str, Query] = {
    "inbox_queue": Query(  # the page's rows first, by key; then only those rows' columns and contact counts
        f"""
        WITH sla AS (SELECT unnest($sla_channels) AS channel, TRY_CAST(unnest($sla_minutes) AS DOUBLE) AS minutes),
        top AS (
            SELECT platform, post_id FROM inbox_items
            WHERE ($channel IS NULL OR platform = $channel) AND ($assignee IS NULL OR assignee = $assignee)
              AND CASE $status WHEN 'open' THEN {OPEN} WHEN 'all' THEN true ELSE status = $status END
            ORDER BY {ORDER} LIMIT $limit),
        picked AS MATERIALIZED (
            SELECT i.*, coalesce(s.minutes, $default_sla) AS sla_minutes
            FROM inbox_items i SEMI JOIN top USING (platform, post_id) LEFT JOIN sla s ON s.channel = i.platform),
        contacts AS (
            SELECT author_id, count(*) AS contacts FROM inbox_items
            JOIN (SELECT DISTINCT author_id FROM picked WHERE author_id IS NOT NULL) USING (author_id) GROUP BY ALL)
        SELECT platform AS channel, post_id, received_at, author_id, author_handle, left(text, 400) AS text, url,
               status, assignee, incident_id, answered_at, answered_by, answer_via,
               round((epoch(coalesce(answered_at, closed_at, $now::TIMESTAMP)) - epoch(received_at)) / 60, 1)
                   AS waiting_minutes, sla_minutes,
               {OPEN} AND epoch($now::TIMESTAMP) - epoch(received_at) > sla_minutes * 60 AS overdue,
               coalesce(c.contacts, 1) AS contacts
        FROM picked LEFT JOIN contacts c USING (author_id)
        ORDER BY {ORDER}
        """,
        {"now": Param("time", required=True), "status": Param("str", "open"), "channel": Param("str"),
         "assignee": Param("str"), "limit": Param("int", 200), **SLA},
        doc="Inbox items, open ones first and oldest first (then the rest, newest first): channel, status, assignee, "
            "linked incident, waiting time (to the answer or close, or to `now`), SLA and whether it is overdue, and "
            "how many items the same author sent. status: open (new or in progress), all, or one status.",
    ),
    "inbox_counts": Query(
        f"""
        WITH {WITH_SLA}
        SELECT platform AS channel, count(*) FILTER (WHERE status = 'new') AS new,
               count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
               count(*) FILTER (WHERE status = 'answered') AS answered,
               count(*) FILTER (WHERE status = 'closed') AS closed,
               count(*) FILTER (WHERE status = 'no_reply_needed') AS no_reply_needed,
               count(*) FILTER (WHERE overdue) AS overdue, min(received_at) FILTER (WHERE {OPEN}) AS oldest_open,
               any_value(sla_minutes) AS sla_minutes
        FROM items GROUP BY ALL ORDER BY channel
        """,
        {"now": Param("time", required=True), **SLA},
        doc="Per channel: items by status, open items past their SLA at `now`, and the oldest open item's time.",
    ),
    "inbox_item": Query(
        "SELECT platform AS channel, * EXCLUDE (platform) FROM inbox_items WHERE platform = $platform AND "
        "post_id = $post_id",
        ITEM, doc="One inbox item, whole: its text, workflow and answer.",
    ),
    "inbox_events": Query(
        "SELECT changed_at, actor, event, status, note FROM inbox_events WHERE platform = $platform AND "
        "post_id = $post_id ORDER BY changed_at DESC",
        ITEM, doc="One item's history: assigned, answered (by staff, or seen on the platform), closed, reopened, "
                  "linked.",
    ),
    "inbox_contacts": Query(
        """
        SELECT o.platform AS channel, o.post_id, o.received_at, left(o.text, 400) AS text, o.status, o.answered_at,
               o.incident_id
        FROM inbox_items o JOIN inbox_items i ON o.author_id = i.author_id
        WHERE i.platform = $platform AND i.post_id = $post_id
          AND NOT (o.platform = i.platform AND o.post_id = i.post_id)
        ORDER BY o.received_at DESC LIMIT $limit
        """,
        {**ITEM, "limit": Param("int", 50)},
        doc="The same resident's other contacts, across channels (same handle id per platform, same hashed e-mail "
            "address or phone number): a case history of what they sent the agency, never their public posts.",
        roles=COMMS,  # the staff who work the inbox; other roles see items without contacts
    ),
    "inbox_thread": Query(
        """
        WITH RECURSIVE
        win AS MATERIALIZED (
            SELECT platform, post_id, reply_to_id, created_at, author_handle, text, direction, url FROM posts
            WHERE platform = $platform AND created_at BETWEEN $around::TIMESTAMP - INTERVAL 3 DAY
                                                          AND $around::TIMESTAMP + INTERVAL 3 DAY),
        up(post_id, depth) AS (SELECT $post_id, 0 UNION ALL
            SELECT w.reply_to_id, up.depth - 1 FROM up JOIN win w ON w.post_id = up.post_id
            WHERE w.reply_to_id IS NOT NULL AND up.depth > -20),
        down(post_id, depth) AS (SELECT $post_id, 0 UNION ALL
            SELECT w.post_id, down.depth + 1 FROM down JOIN win w ON w.reply_to_id = down.post_id
            WHERE down.depth < 20),
        member AS (SELECT post_id, min(depth) AS depth FROM (SELECT * FROM up UNION ALL SELECT * FROM down)
                   GROUP BY ALL)
        SELECT w.post_id, w.reply_to_id, w.created_at, w.author_handle, w.text, w.direction, w.url, m.depth,
               w.post_id = $post_id AS is_item
        FROM member m JOIN win w USING (post_id) ORDER BY w.created_at, w.post_id
        """,
        {**ITEM, "around": Param("time", required=True)},
        doc="The conversation an item is in, by reply links within 3 days of `around` (the item's time): what it "
            "replies to, up the chain, and every reply below it, the agency's included.",
    ),
    "inbox_reply_target": Query(
        """
        SELECT i.platform, i.post_id, i.status, i.author_handle,
               CASE WHEN i.platform = 'sms' THEN json_extract_string(p.raw, '$.contact') END AS phone,
               CASE WHEN i.platform = 'sms' THEN json_extract_string(p.raw, '$.to') END AS agency_number
        FROM inbox_items i LEFT JOIN posts p USING (platform, post_id)
        WHERE i.platform = $platform AND i.post_id = $post_id
        """,
        ITEM,
        doc="Where a reply sent from CivicRadar goes: the item's author handle and, for SMS, the resident's number "
            "(only when the intake source keeps contacts; otherwise null) and the agency number it was sent to.",
        roles=POSTERS,  # the resident's phone number: only for those who may send the reply
    ),
    "inbox_stats": Query(
        """
        SELECT platform AS channel, count(*) AS items, count(*) FILTER (WHERE status = 'answered') AS answered,
               count(*) FILTER (WHERE status = 'no_reply_needed') AS no_reply_needed,
               count(*) FILTER (WHERE status IN ('new', 'in_progress')) AS open,
               answered / nullif(items - no_reply_needed, 0) AS share_answered,
               median((epoch(answered_at) - epoch(received_at)) / 60) FILTER (WHERE status = 'answered')
                   AS median_minutes_to_answer
        FROM inbox_items WHERE received_at >= $since AND received_at < $until
        GROUP BY ALL ORDER BY items DESC, channel
        """,
        WINDOW,
        doc="Per channel, items received in [since, until): how many, the share answered (of those needing a reply) "
            "and the median minutes from receipt to answer.",
    ),
}


def actions() -> dict[str, Action]:
    """The inbox's actions, collected by `storage.actions`; for comms staff, leads and admins."""
    at = {"at": Param("time"), "note": Param("str")}
    reply = {**ITEM, "text": Param("str", required=True), "response_id": Param("str"), "account": Param("str"), **at}
    return {
        "inbox_assign": Action(inbox_store.assign, {**ITEM, "assignee": Param("str", required=True), **at}, COMMS,
                               "Give an open inbox item to someone (a new item becomes in progress)."),
        "inbox_answer": Action(inbox_store.answer, {**ITEM, "text": Param("str", required=True), "url": Param("str"),
                                                    "response_id": Param("str"), **at}, COMMS,
                               "Record the reply sent elsewhere (the item becomes answered); nothing is sent from "
                               "here.",
                               audit=lambda p: {**p, "text": p["text"][:2000]}),
        SENT: Action(inbox_store.sent, {**reply, "url": Param("str"), "sent_id": Param("str", required=True)},
                     POSTERS, "Record a reply sent from CivicRadar on the item's channel (the item becomes answered), "
                     "with the post id or message SID and link returned.",
                     audit=lambda p: {**p, "text": p["text"][:2000]}),
        SEND_FAILED: Action(inbox_store.send_failed, {**reply, "error": Param("str", required=True)}, POSTERS,
                            "Record a reply from CivicRadar that was refused or not sent, and why.",
                            audit=lambda p: {**p, "text": p["text"][:2000]}),
        "inbox_close": Action(inbox_store.close, {**ITEM, "status": Param("str", "closed"), **at}, COMMS,
                              "Close an open item without an answer: closed, or no_reply_needed."),
        "inbox_reopen": Action(inbox_store.reopen, {**ITEM, **at}, COMMS,
                               "Reopen an answered or closed item (back to in progress)."),
        "inbox_link": Action(inbox_store.link, {**ITEM, "incident_id": Param("int"), **at}, COMMS,
                             "Link an item to an incident by id, or unlink it (no id)."),
    }

"""The dashboard's named queries and staff actions (saved views, label feedback, rumour-register edits).

Listed in `storage.queries.AREAS`; `actions()` joins `storage.actions.ACTIONS`.
Windows are half-open `[since, until)` in naive UTC. Posts in no watch count under "(no watch)".
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import duckdb

from core.roles import ADMINS, ANALYSTS, EVERYONE
from core.roles import APPROVERS as APPROVERS  # re-exported (core.roles holds every role)
from core.roles import COMMS as COMMS
from core.roles import STAFF as STAFF
from storage.named import WINDOW, Action, Param, Query

MATCH = 0.5  # a label's nearest claim counts as a match from this probability (as the alerts' claim queries)
BUCKET = {**WINDOW, "bucket_minutes": Param("int", 60)}

QUERIES: dict[str, Query] = {
    "overview_tiles": Query(  # from the 5-minute rollup: ~2.3k rows for 8 days, whatever the number of posts
        """
        WITH b AS (  -- age of each bucket from the end of the current one, minus 1 us: the last hour is [0, 1 h)
            SELECT epoch_us(time_bucket(INTERVAL 5 MINUTE, $now::TIMESTAMP) + INTERVAL 5 MINUTE) - epoch_us(bucket) - 1
                       AS age, sentiment, posts
            FROM posts_5m
            WHERE bucket >= time_bucket(INTERVAL 5 MINUTE, $now::TIMESTAMP) - INTERVAL 8 DAY AND bucket <= $now),
        covered AS (SELECT least(greatest((max(age) - 3600000000) // 86400000000, 0), 7)::INT AS days FROM b),
        hours AS (SELECT (age // 86400000000)::INT AS k, sum(posts) AS n FROM b WHERE age % 86400000000 < 3600000000
                  GROUP BY k),
        moods AS (
            SELECT sum(posts) FILTER (WHERE sentiment <> 'unscored' AND age < 3600000000) AS labelled_hour,
                   sum(posts) FILTER (WHERE sentiment = 'negative' AND age < 3600000000) AS negative_hour,
                   sum(posts) FILTER (WHERE sentiment <> 'unscored' AND age < 86400000000) AS labelled_day,
                   sum(posts) FILTER (WHERE sentiment = 'negative' AND age < 86400000000) AS negative_day
            FROM b)
        SELECT coalesce((SELECT n FROM hours WHERE k = 0), 0)::BIGINT AS posts_last_hour,
               (SELECT coalesce(sum(n), 0) FROM hours WHERE k BETWEEN 1 AND (SELECT days FROM covered))
                   / nullif((SELECT days FROM covered), 0) AS usual_last_hour,
               (SELECT days FROM covered) AS usual_days,
               coalesce(labelled_hour, 0)::BIGINT AS labelled_hour,
               negative_hour / nullif(labelled_hour, 0) AS negative_share_hour,
               negative_day / nullif(labelled_day, 0) AS negative_share_day
        FROM moods
        """,
        {"now": Param("time", required=True)},
        doc="Live tiles at 5-minute resolution (the last hour is the current 5-minute bucket and the 11 before "
            "it): posts in the last hour, the usual count for that hour (mean of up to 7 earlier days with data), "
            "and the negative share of labelled posts in the last hour and day.",
    ),
    "sentiment_volume": Query(  # from the 5-minute rollup: ~2k rows for a day, whatever the number of posts
        """
        SELECT time_bucket(to_minutes($bucket_minutes), bucket) AS bucket, watch, sentiment, sum(posts)::BIGINT AS posts
        FROM volume_5m WHERE bucket >= $since AND bucket < $until
        GROUP BY ALL ORDER BY bucket
        """,
        BUCKET,
        doc="Posts per time bucket, watch and sentiment ('unscored' until labelled); 5-minute resolution.",
    ),
    "topic_volume": Query(  # from the 5-minute topic rollup: ~3k rows for a day, whatever the number of posts
        """
        SELECT time_bucket(to_minutes($bucket_minutes), bucket) AS bucket, topic, sentiment, sum(posts)::BIGINT AS posts
        FROM topics_5m WHERE bucket >= $since AND bucket < $until
        GROUP BY ALL ORDER BY bucket
        """,
        {**WINDOW, "bucket_minutes": Param("bucket_minutes", 60)},
        doc="Labelled posts per time bucket, topic and sentiment (a post counts in each of its topics); 5-minute "
            "resolution.",
    ),
    "rising_topics": Query(  # from the topic rollup; the windows are whole 5-minute buckets, the newest one open
        """
        WITH t AS (
            SELECT topic, bucket >= $now - to_hours($hours) AS recent, sentiment, posts FROM topics_5m
            WHERE bucket >= $now - to_hours($hours + $baseline_hours) AND bucket < $now AND topic <> 'other')
        SELECT topic, coalesce(sum(posts) FILTER (WHERE recent), 0)::BIGINT AS recent_posts,
               coalesce(sum(posts) FILTER (WHERE NOT recent), 0) * $hours / $baseline_hours AS expected_posts,
               (recent_posts + 1) / (expected_posts + 1) AS growth,
               coalesce(sum(posts) FILTER (WHERE recent AND sentiment = 'negative'), 0) / nullif(recent_posts, 0)
                   AS negative_share
        FROM t GROUP BY topic HAVING recent_posts > 0 ORDER BY growth DESC, recent_posts DESC LIMIT $limit
        """,
        {"now": Param("time", required=True), "hours": Param("int", 3), "baseline_hours": Param("int", 24),
         "limit": Param("int", 8)},
        doc="Topics by growth: posts in the last `hours` against the rate of the `baseline_hours` before "
            "(5-minute resolution).",
    ),
    "claim_activity": Query(
        """
        WITH m AS (
            SELECT l.matched_claim_id AS claim_id, l.created_at, l.platform,
                   l.created_at >= $now - to_hours($hours) AS recent
            FROM labels l
            WHERE l.matched_claim_id IS NOT NULL AND l.matched_claim_score >= $min_score
              AND l.created_at >= $now - to_hours(2 * $hours) AND l.created_at < $now)
        SELECT m.claim_id, any_value(c.text) AS claim, any_value(c.rating) AS rating, any_value(c.url) AS url,
               any_value(c.origin) AS origin, count(*) FILTER (WHERE recent) AS recent_posts,
               count(*) FILTER (WHERE NOT recent) AS earlier_posts,
               (recent_posts + 1) / (earlier_posts + 1) AS growth,
               list(DISTINCT m.platform ORDER BY m.platform) AS platforms, min(m.created_at) AS first_seen,
               max(m.created_at) AS last_seen
        FROM m LEFT JOIN claims c USING (claim_id)
        GROUP BY m.claim_id HAVING recent_posts > 0 ORDER BY recent_posts DESC, growth DESC LIMIT $limit
        """,
        {"now": Param("time", required=True), "hours": Param("int", 6), "limit": Param("int", 20),
         "min_score": Param("float", MATCH)},
        doc="Known claims that posts matched (match probability >= `min_score`) in the last `hours`, with growth "
            "against the `hours` before.",
    ),
    "claim_matches": Query(
        """
        SELECT p.created_at, p.platform, p.post_id, p.author_handle, p.text, l.matched_claim_id AS claim_id,
               l.matched_claim_score AS match_score, l.misinfo_score, c.rating, c.url AS factcheck_url,
               c.text AS claim
        FROM labels l JOIN posts p USING (platform, post_id) LEFT JOIN claims c ON c.claim_id = l.matched_claim_id
        WHERE l.matched_claim_id IS NOT NULL AND l.matched_claim_score >= $min_score
          AND l.created_at >= $since AND l.created_at < $until AND ($claim_id IS NULL OR l.matched_claim_id = $claim_id)
        ORDER BY p.created_at DESC LIMIT $limit
        """,
        {**WINDOW, "claim_id": Param("str"), "limit": Param("int", 200), "min_score": Param("float", MATCH)},
        doc="Posts matching a known claim (match probability >= `min_score`), with the fact-check link.",
    ),
    "claims_list": Query(
        "SELECT claim_id, text, rating, url, source, origin, published_at, updated_at FROM claims "
        "WHERE $origin IS NULL OR origin = $origin ORDER BY origin, claim_id",
        {"origin": Param("str")},
        doc="Claims (fact-checks and the rumour register); `origin` filters (register | factcheck | import).",
    ),
    "search_posts": Query(
        """
        SELECT p.created_at, p.platform, p.post_id, p.author_handle, p.text, p.watches, l.sentiment,
               [t.name FOR t IN l.topics] AS topics, l.misinfo_score, l.matched_claim_id, p.url
        FROM posts p LEFT JOIN labels l USING (platform, post_id)
        WHERE p.created_at >= $since AND p.created_at < $until
          AND ($text IS NULL OR contains(lower(p.text), lower($text)))
          AND (coalesce(len($watches), 0) = 0 OR list_has_any(p.watches, $watches))
          AND (coalesce(len($platforms), 0) = 0 OR list_contains($platforms, p.platform))
          AND (coalesce(len($sentiments), 0) = 0 OR list_contains($sentiments, coalesce(l.sentiment, 'unscored')))
          AND (coalesce(len($topics), 0) = 0 OR list_has_any([t.name FOR t IN l.topics], $topics))
          AND ($min_misinfo IS NULL OR l.misinfo_score >= $min_misinfo)
        ORDER BY p.created_at DESC LIMIT $limit
        """,
        {**WINDOW, "text": Param("str"), "watches": Param("str_list"), "platforms": Param("str_list"),
         "sentiments": Param("str_list"), "topics": Param("str_list"), "min_misinfo": Param("float"),
         "limit": Param("int", 500)},
        doc="Posts filtered by text, watch, platform, sentiment ('unscored' too), topic and misinformation score.",
    ),
    "post_detail": Query(
        """
        SELECT p.platform, p.post_id, p.created_at, p.author_handle, p.text, p.lang AS post_lang, p.watches,
               p.url, p.like_count, p.repost_count, p.reply_count, l.lang, l.sentiment, l.sentiment_score,
               l.topics, l.misinfo_score, l.matched_claim_id, l.matched_claim_score, l.misinfo_reason,
               l.sentiment_model, l.topics_model, l.misinfo_model, l.labelled_at, c.text AS claim,
               c.rating AS claim_rating, c.url AS factcheck_url
        FROM posts p LEFT JOIN labels l USING (platform, post_id) LEFT JOIN claims c ON c.claim_id = l.matched_claim_id
        WHERE p.platform = $platform AND p.post_id = $post_id
        """,
        {"platform": Param("str", required=True), "post_id": Param("str", required=True)},
        doc="One post with its labels, their models and reasons, and the matched claim.",
    ),
    "label_feedback_for": Query(
        "SELECT label, verdict, correct_value, note, actor, created_at FROM label_feedback "
        "WHERE platform = $platform AND post_id = $post_id ORDER BY created_at DESC",
        {"platform": Param("str", required=True), "post_id": Param("str", required=True)},
        doc="Staff feedback on one post's labels.",
    ),
    "source_overview": Query(
        """
        WITH w AS (SELECT * FROM runs WHERE started_at >= $since),
        last AS (SELECT * FROM runs QUALIFY row_number() OVER (PARTITION BY source, job ORDER BY run_id DESC) = 1)
        SELECT l.source, l.job, l.status AS last_status, l.started_at AS last_run, l.finished_at AS last_finished,
               l.items AS last_items, l.error AS last_error, l.details AS last_details,
               count(w.run_id) AS runs, count(w.run_id) FILTER (WHERE w.status <> 'ok') AS failed_runs,
               coalesce(sum(w.items), 0) AS items, coalesce(sum(w.warnings), 0) AS warnings,
               coalesce(sum(w.quarantined), 0) AS quarantined,
               coalesce(sum(TRY_CAST(w.details->>'$.rate_limit_seconds' AS DOUBLE)), 0) AS rate_limit_wait_seconds,
               coalesce(sum(TRY_CAST(w.details->>'$.rate_limit_waits' AS BIGINT)), 0) AS rate_limit_waits
        FROM last l LEFT JOIN w USING (source, job)
        GROUP BY ALL ORDER BY l.source, l.job
        """,
        {"since": Param("time", required=True)},
        doc="Per source and job: the last run (with its details JSON) and totals since `since`.",
    ),
    "source_errors": Query(
        "SELECT source, job, started_at, status, error FROM runs WHERE status <> 'ok' AND started_at >= $since "
        "ORDER BY run_id DESC LIMIT $limit",
        {"since": Param("time", required=True), "limit": Param("int", 50)},
        doc="Failed runs since a time, newest first.",
    ),
    "narratives": Query(
        """
        SELECT alert_id, title, severity, status, first_seen_at, last_seen_at, occurrences,
               TRY_CAST(metrics->>'$.posts' AS BIGINT) AS posts, TRY_CAST(metrics->>'$.accounts' AS BIGINT) AS accounts,
               TRY_CAST(metrics->>'$.growth' AS DOUBLE) AS growth, metrics->>'$.top_phrase' AS top_phrase,
               CAST(metrics->'$.platforms' AS VARCHAR) AS platforms
        FROM alerts WHERE kind = 'narrative' AND last_seen_at >= $since AND first_seen_at < $until
        ORDER BY last_seen_at DESC, growth DESC NULLS LAST LIMIT $limit
        """,
        {**WINDOW, "limit": Param("int", 20)},
        doc="Emerging narratives (the narrative detector's alerts) seen in a window: posts, accounts, growth, "
            "platforms (JSON {platform: posts}).",
    ),
    "schema_columns": Query(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND NOT starts_with(table_name, '_') ORDER BY table_name, ordinal_position",
        doc="Every table and column analysts can query.",
    ),
    "saved_views": Query(
        "SELECT name, sql, description, owner, updated_at FROM saved_views ORDER BY name",
        doc="Analysts' saved SQL views.",
    ),
    "audit_log": Query(
        "SELECT logged_at, actor, action, details FROM audit WHERE ($actor IS NULL OR actor = $actor) "
        "AND ($action IS NULL OR action = $action) ORDER BY logged_at DESC LIMIT $limit",
        {"actor": Param("str"), "action": Param("str"), "limit": Param("int", 200)},
        doc="Who did what (optionally one user, one action such as 'download'), newest first.",
    ),
}

VIEW_NAME = re.compile(r"^[\w .-]{1,80}$")


def label_feedback(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    found = con.execute("SELECT count(*) FROM labels WHERE platform = ? AND post_id = ?",
                        [p["platform"], p["post_id"]]).fetchone()
    if not found or not found[0]:
        raise ValueError(f"post {p['platform']}/{p['post_id']} has no labels to give feedback on")
    con.execute("INSERT INTO label_feedback VALUES (?, ?, ?, 'wrong', ?, ?, ?, now()::TIMESTAMP)",
                [p["platform"], p["post_id"], p["label"], p["correct_value"], p["note"], actor])
    return {"recorded": True}


def register_save(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    if not (p["text"] or "").strip():
        raise ValueError("a rumour-register entry needs the claim's text")
    claim_id = p["claim_id"] or f"REG-{uuid.uuid4().hex[:8].upper()}"
    origin = con.execute("SELECT origin FROM claims WHERE claim_id = ?", [claim_id]).fetchone()
    if origin and origin[0] != "register":
        raise ValueError(f"{claim_id} is a {origin[0]} claim, not a register entry; it cannot be edited here")
    # delete + insert, not INSERT OR REPLACE: the same statements on DuckDB and on DuckLake (no unique keys there)
    con.execute("DELETE FROM claims WHERE claim_id = ?", [claim_id])
    con.execute(
        "INSERT INTO claims (claim_id, text, rating, url, source, origin, published_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, 'register', now()::TIMESTAMP, now()::TIMESTAMP)",
        [claim_id, p["text"].strip(), p["rating"], p["url"], p["source"]])
    return {"claim_id": claim_id}


def register_remove(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    where = "WHERE claim_id = ? AND origin = 'register'"  # selected, then deleted: DuckLake has no RETURNING
    row = con.execute(f"SELECT text FROM claims {where}", [p["claim_id"]]).fetchone()
    if row is None:
        raise ValueError(f"no register entry {p['claim_id']!r}")
    con.execute(f"DELETE FROM claims {where}", [p["claim_id"]])
    return {"removed": p["claim_id"], "text": row[0]}


def view_save(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    from storage.sandbox import check

    if not VIEW_NAME.match(p["name"]):
        raise ValueError("a view name is 1-80 letters, digits, spaces, dots, dashes or underscores")
    check(p["sql"])
    con.execute("DELETE FROM saved_views WHERE name = ?", [p["name"]])  # both kinds: no INSERT OR REPLACE on the lake
    con.execute("INSERT INTO saved_views VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
                [p["name"], p["sql"], p["description"], actor])
    return {"saved": p["name"]}


def view_delete(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    row = con.execute("SELECT name FROM saved_views WHERE name = ?", [p["name"]]).fetchone()
    if row is None:
        raise ValueError(f"no saved view {p['name']!r}")
    con.execute("DELETE FROM saved_views WHERE name = ?", [p["name"]])
    return {"deleted": p["name"]}


def audit_only(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """Nothing to write but the audit record itself (users live in the dashboard's users file)."""
    return {"recorded": True}


def actions() -> dict[str, Action]:
    """The dashboard's actions, collected by `storage.actions`."""
    key = {"platform": Param("str", required=True), "post_id": Param("str", required=True)}
    return {
        "label_feedback": Action(label_feedback, {**key, "label": Param("str", required=True),
                                                  "correct_value": Param("str"), "note": Param("str")},
                                 STAFF, "Mark one of a post's labels wrong (optionally with the right value)."),
        "register_save": Action(register_save, {"claim_id": Param("str"), "text": Param("str", required=True),
                                                "rating": Param("str"), "url": Param("str"),
                                                "source": Param("str")},
                                COMMS, "Add or edit an entry of the rumour register."),
        "register_remove": Action(register_remove, {"claim_id": Param("str", required=True)},
                                  COMMS, "Remove an entry from the rumour register."),
        "view_save": Action(view_save, {"name": Param("str", required=True), "sql": Param("str", required=True),
                                        "description": Param("str")},
                            ANALYSTS, "Save a read-only SQL query as a named view."),
        "view_delete": Action(view_delete, {"name": Param("str", required=True)},
                              ANALYSTS, "Delete a saved view."),
        "user_change": Action(audit_only, {"username": Param("str", required=True),
                                           "change": Param("str", required=True)},
                              ADMINS, "Record a change to a dashboard user in the audit log."),
        "sign_in": Action(audit_only, {"via": Param("str", "password")}, EVERYONE,
                          "Record a sign-in in the audit log."),
        "sign_in_failed": Action(audit_only, {"client": Param("str", "unknown")}, EVERYONE,
                                 "Record a failed sign-in (the name tried, the client address) in the audit log.",
                                 any_actor=True),  # the name tried may be no user at all
    }

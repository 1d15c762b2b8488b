"""Did the response work? The reads behind responses/effect.py: the incident's posts per hour around a response,
with the days before for the same-hour baseline, and the engagement of the agency's own post that carried it.

Listed in `storage.queries.AREAS`. Hours are counted from `at` (engine clock): hour 0 is
[at, at + 1 h), hour -1 the hour before. The agency's own posts (direction by_agency) never count: a correction
that quotes the claim is not a resident repeating it.
"""

from __future__ import annotations

from storage.named import Param, Query

# what the incident is about, from its alerts: claims, topics, watches (each alert's own and its evidence's)
ABOUT = """about AS (
    SELECT coalesce(list(DISTINCT a.claim_id) FILTER (WHERE a.claim_id IS NOT NULL), []) AS claims,
           coalesce(list(DISTINCT a.topic) FILTER (WHERE a.topic IS NOT NULL), []) AS topics,
           list_distinct(flatten(list(m.watches))
                         || coalesce(list(a.watch) FILTER (WHERE a.watch IS NOT NULL), [])) AS watches
    FROM incident_alerts m JOIN alerts a USING (alert_id) WHERE m.incident_id = $incident_id)"""

SERIES = f"""
WITH {ABOUT},
span AS (SELECT $at - to_hours($hours_before + 24 * $baseline_days) AS lo, $at + to_hours($hours_after) AS hi),
p AS (SELECT platform, post_id, created_at, watches FROM posts, span
      WHERE created_at >= span.lo AND created_at < span.hi AND direction <> 'by_agency'),
l AS (SELECT l.platform, l.post_id, l.created_at, l.matched_claim_id, l.matched_claim_score, l.topics
      FROM labels l, span WHERE l.created_at >= span.lo AND l.created_at < span.hi),
lp AS (SELECT l.* FROM l JOIN p USING (platform, post_id)),
hits AS (
    SELECT 'claim' AS kind, lp.created_at FROM lp, about
    WHERE lp.matched_claim_score >= $min_claim_score AND list_contains(about.claims, lp.matched_claim_id)
    UNION ALL
    SELECT 'topic', created_at FROM (SELECT lp.created_at, list_filter(lp.topics, lambda t: t.score >= $topic_min_score)
                                            AS kept FROM lp), about
    WHERE list_has_any(list_transform(kept, lambda t: t.name), about.topics)
    UNION ALL
    SELECT 'watch', p.created_at FROM p, about WHERE list_has_any(p.watches, about.watches))
SELECT kind, floor(date_diff('second', $at, created_at) / 3600)::BIGINT AS hour, count(*) AS posts
FROM hits GROUP BY ALL ORDER BY kind, hour
"""

ENGAGEMENT = """
WITH r AS (SELECT DISTINCT rtrim(url, '/') AS url FROM incident_responses
           WHERE incident_id = $incident_id AND url IS NOT NULL AND url <> ''),
own AS (SELECT p.platform, p.post_id, rtrim(p.url, '/') AS url, p.created_at, p.like_count, p.repost_count,
               p.reply_count, p.quote_count FROM posts p JOIN r ON rtrim(p.url, '/') = r.url
        WHERE p.direction = 'by_agency'),
seen AS (SELECT platform, post_id, count(*) AS observations, max(observed_at) AS observed_at
         FROM own_post_engagement JOIN own USING (platform, post_id) GROUP BY ALL)
SELECT own.*, coalesce(seen.observations, 0) AS observations, seen.observed_at
FROM own LEFT JOIN seen USING (platform, post_id) ORDER BY own.created_at
"""

QUERIES: dict[str, Query] = {
    "incident_effect_series": Query(
        SERIES,
        {"incident_id": Param("int", required=True), "at": Param("time", required=True),
         "hours_before": Param("int", 6), "hours_after": Param("int", 6), "baseline_days": Param("int", 7),
         "min_claim_score": Param("float", 0.5), "topic_min_score": Param("float", 0.5)},
        doc="Posts per hour around `at` (engine clock) and the `baseline_days` before, for each way of following "
            "an incident: kind claim (labelled matches of its claims), topic (its topics), watch (its watches); "
            "hour = whole hours from `at`. The agency's own posts are left out."),
    "incident_effect_about": Query(
        f"WITH {ABOUT} SELECT claims, topics, watches, (SELECT min(created_at) FROM post_keys) AS history_start "
        "FROM about", {"incident_id": Param("int", required=True)},
        doc="What an incident's posts are followed by (its claims, topics and watches) and when the stored "
            "history starts (earlier baseline days are missing, not quiet)."),
    "incident_response_engagement": Query(
        ENGAGEMENT, {"incident_id": Param("int", required=True)},
        doc="The agency's own collected posts (by_agency) whose link is one of the incident's recorded "
            "responses: their likes, reposts, replies and quotes as last collected."),
}

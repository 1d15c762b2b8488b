"""The touchpoint view's reads (dashboard/pages/touchpoints.py): channel (the post's platform: x, bluesky, news,
open311, email, webform, sms, facebook, ...) x topic, and how one incident moved across channels.

Listed in `storage.queries.AREAS`. A post is in a topic when its label gives that topic a score of at
least `topic_min_score`; the topic `ALL` holds every post of a channel, labelled or not (from the 5-minute rollup).
An incident touches a cell when one of its evidence posts is on that channel and in that topic.
"""

from __future__ import annotations

from storage.effect_queries import ABOUT
from storage.named import Param, Query

ALL = "(all posts)"
WINDOW = {"since": Param("time", required=True), "until": Param("time", required=True),
          "topic_min_score": Param("float", 0.5)}
OPEN = "('new', 'acknowledged', 'assigned')"


def _topics(alias: str) -> str:
    """The names of a label's topics scored at least $topic_min_score."""
    return (f"list_transform(list_filter({alias}.topics, lambda t: t.score >= $topic_min_score), "
            "lambda t: t.name)")


MATRIX = f"""
WITH l AS (SELECT platform, sentiment, unnest({_topics("labels")}) AS topic FROM labels
           WHERE created_at >= $since AND created_at < $until),
by_topic AS (SELECT platform AS channel, topic, count(*) AS posts, count(sentiment) AS scored,
                    count(*) FILTER (WHERE sentiment = 'negative') AS negative FROM l GROUP BY ALL),
every AS (SELECT platform AS channel, '{ALL}' AS topic, sum(posts)::BIGINT AS posts,
                 sum(posts) FILTER (WHERE sentiment <> 'unscored')::BIGINT AS scored,
                 sum(posts) FILTER (WHERE sentiment = 'negative')::BIGINT AS negative
          FROM posts_5m WHERE bucket >= $since AND bucket < $until GROUP BY ALL),
inbox AS (SELECT i.platform AS channel, unnest(list_append(coalesce({_topics("l")}, []), '{ALL}')) AS topic,
                 i.status, (epoch(i.answered_at) - epoch(i.received_at)) / 60 AS minutes
          FROM inbox_items i LEFT JOIN labels l USING (platform, post_id)
          WHERE i.received_at >= $since AND i.received_at < $until),
answered AS (SELECT channel, topic, count(*) AS inbox_items,
                    median(minutes) FILTER (WHERE status = 'answered') AS median_minutes_to_answer
             FROM inbox GROUP BY ALL)
SELECT c.channel, c.topic, c.posts, coalesce(c.negative, 0) AS negative,
       coalesce(c.negative, 0) / nullif(c.scored, 0) AS negative_share,
       coalesce(a.inbox_items, 0) AS inbox_items, a.median_minutes_to_answer
FROM (SELECT * FROM by_topic UNION ALL SELECT * FROM every) c LEFT JOIN answered a USING (channel, topic)
ORDER BY c.channel, c.topic
"""

INCIDENTS = f"""
WITH i AS (SELECT incident_id, status,
                  CASE WHEN first_response_at IS NOT NULL
                       THEN greatest(date_diff('second', opened_at, first_response_at), 0) / 60.0 END AS minutes
           FROM incidents WHERE status <> 'merged' AND last_seen_at >= $since AND first_seen_at < $until),
e AS (SELECT DISTINCT m.incident_id, v.platform, v.post_id
      FROM incident_alerts m JOIN alert_evidence v USING (alert_id) JOIN i USING (incident_id)),
cells AS (SELECT DISTINCT incident_id, channel, topic FROM (
              SELECT e.incident_id, e.platform AS channel,
                     unnest(list_append(coalesce({_topics("l")}, []), '{ALL}')) AS topic
              FROM e LEFT JOIN labels l USING (platform, post_id)))
SELECT channel, topic, count(*) AS incidents, count(*) FILTER (WHERE status IN {OPEN}) AS open_incidents,
       median(minutes) AS median_minutes_to_first_response, list(incident_id ORDER BY incident_id) AS incident_ids
FROM cells JOIN i USING (incident_id) GROUP BY ALL ORDER BY channel, topic
"""

CELL_POSTS = f"""
SELECT p.platform AS channel, p.post_id, p.created_at, p.direction, p.author_handle, p.text, p.url, l.sentiment,
       {_topics("l")} AS topics
FROM posts p LEFT JOIN (SELECT * FROM labels WHERE created_at >= $since AND created_at < $until) l
     USING (platform, post_id)
WHERE p.created_at >= $since AND p.created_at < $until AND p.platform = $channel
  AND ($topic IS NULL OR $topic = '{ALL}' OR list_contains({_topics("l")}, $topic))
ORDER BY p.created_at DESC LIMIT $limit
"""

CHANNELS = f"""
WITH {ABOUT},
span AS (SELECT coalesce(first_post_at, first_seen_at) AS lo, last_seen_at + to_hours($hours_after) AS hi
         FROM incidents WHERE incident_id = $incident_id),
p AS (SELECT platform, post_id, created_at, watches FROM posts, span
      WHERE created_at >= span.lo AND created_at < span.hi AND direction <> 'by_agency'),
lp AS (SELECT l.platform, l.created_at, l.matched_claim_id, l.matched_claim_score, l.topics
       FROM labels l JOIN p USING (platform, post_id), span WHERE l.created_at >= span.lo AND l.created_at < span.hi),
hits AS (
    SELECT 'claim' AS kind, lp.platform, lp.created_at FROM lp, about
    WHERE lp.matched_claim_score >= $min_claim_score AND list_contains(about.claims, lp.matched_claim_id)
    UNION ALL
    SELECT 'topic', lp.platform, lp.created_at FROM lp, about WHERE list_has_any({_topics("lp")}, about.topics)
    UNION ALL
    SELECT 'watch', p.platform, p.created_at FROM p, about WHERE list_has_any(p.watches, about.watches)
    UNION ALL
    SELECT DISTINCT 'evidence', v.platform, po.created_at
    FROM incident_alerts m JOIN alert_evidence v USING (alert_id) JOIN posts po USING (platform, post_id)
    WHERE m.incident_id = $incident_id)
SELECT kind, platform AS channel, time_bucket(INTERVAL 1 HOUR, created_at) AS hour, count(*) AS posts,
       min(created_at) AS first_at
FROM hits GROUP BY ALL ORDER BY kind, hour, channel
"""

QUERIES: dict[str, Query] = {
    "touchpoint_matrix": Query(
        MATRIX, WINDOW,
        doc=f"Per channel (platform) and topic in [since, until): posts, negative posts and share, posts addressed "
            f"to the agency (inbox items) and the median minutes to answer them; topic '{ALL}' is every post."),
    "touchpoint_incidents": Query(
        INCIDENTS, WINDOW,
        doc="Per channel and topic: incidents in the window whose evidence posts are there, how many are open, and "
            "the median minutes from opening to first response."),
    "touchpoint_posts": Query(
        CELL_POSTS, {**WINDOW, "channel": Param("str", required=True), "topic": Param("str"),
                     "limit": Param("int", 200)},
        doc="The posts of one cell (channel, topic), newest first."),
    "incident_channels": Query(
        CHANNELS, {"incident_id": Param("int", required=True), "hours_after": Param("int", 6),
                   "min_claim_score": Param("float", 0.5), "topic_min_score": Param("float", 0.5)},
        doc="How an incident moved across channels: its posts per hour and channel from its first post until "
            "hours_after its last signal, for each way of following it (claim, topic, watch, as the response "
            "effect), and its evidence posts (kind evidence); first_at is the bucket's first post."),
}

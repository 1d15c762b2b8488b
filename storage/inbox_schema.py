"""Migration 015: each post's direction, the inbox of what residents send the agency, and its own posts' engagement.

Kept apart from the store (storage/inbox_store.py) so that storage.migrations (imported by storage.db) does not
import storage.db back. Inbox rows are written in the same transaction as their posts (`inbox_store.track`), so the
queue never scans `posts`; they are removed with their posts (retention, upstream deletion, `civicradar forget`).
"""

MIGRATION_SQL = """
-- to_agency: replies, mentions and quotes addressed to the agency's accounts, and every e-mail, web form, SMS, 311
-- request and Page comment or message; by_agency: the agency's own posts; public: everything else
-- (two statements: DuckDB 1.5 cannot add a column with a constraint in one)
ALTER TABLE posts ADD COLUMN direction VARCHAR DEFAULT 'public';
ALTER TABLE posts ALTER COLUMN direction SET NOT NULL;
UPDATE posts SET direction = 'to_agency'
WHERE platform IN ('email', 'webform', 'sms', 'open311', 'facebook', 'instagram');
-- one row per inbound post (direction to_agency): the copy the queue reads, and its workflow
CREATE TABLE inbox_items (
    platform       VARCHAR NOT NULL,  -- the channel: x, bluesky, mastodon, reddit, email, webform, sms, open311, ...
    post_id        VARCHAR NOT NULL,
    received_at    TIMESTAMP NOT NULL, -- the post's created time (the platform's clock; simulated in the demo)
    author_id      VARCHAR,           -- handle id per platform, or a keyed hash (email:<hmac>, phone:<hmac>)
    author_handle  VARCHAR,
    text           VARCHAR NOT NULL,
    url            VARCHAR,
    reply_to_id    VARCHAR,
    status         VARCHAR NOT NULL,  -- new | in_progress | answered | closed | no_reply_needed
    assignee       VARCHAR,
    incident_id    BIGINT,            -- incidents.incident_id, by id only (no key constraint)
    updated_at     TIMESTAMP NOT NULL,
    answered_at    TIMESTAMP,         -- on the clock received_at uses, so time to answer is a difference of the two
    answered_by    VARCHAR,           -- the staff member, or the agency account that replied on the platform
    answer_text    VARCHAR,
    answer_via     VARCHAR,           -- elsewhere (recorded by staff) | platform (the agency's reply was collected)
    answer_url     VARCHAR,
    answer_post_id VARCHAR,           -- the agency's reply post, when it was collected
    response_id    VARCHAR,           -- the library response the answer started from, if any
    closed_at      TIMESTAMP,
    PRIMARY KEY (platform, post_id)
);
-- every change to an item: who, when, what
CREATE TABLE inbox_events (
    platform   VARCHAR NOT NULL,
    post_id    VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    actor      VARCHAR NOT NULL,      -- the staff member, or 'collector' (a reply seen on the platform)
    event      VARCHAR NOT NULL,      -- assigned | answered | closed | no_reply_needed | reopened | linked | unlinked
    status     VARCHAR NOT NULL,      -- the status after the change
    note       VARCHAR
);
-- the agency's own posts' engagement, one row each time one of them is collected
CREATE TABLE own_post_engagement (
    platform     VARCHAR NOT NULL,
    post_id      VARCHAR NOT NULL,
    observed_at  TIMESTAMP NOT NULL,  -- when it was collected
    like_count   BIGINT NOT NULL,
    repost_count BIGINT NOT NULL,
    reply_count  BIGINT NOT NULL,
    quote_count  BIGINT NOT NULL
);
INSERT INTO inbox_items
SELECT platform, post_id, created_at, author_id, author_handle, text, url, reply_to_id, 'new', NULL, NULL,
       collected_at, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM posts WHERE direction = 'to_agency';
"""

"""Migration 012: the approved-response library (storage/response_store.py writes it, response_queries.py reads it).

Kept apart from the store so that storage.migrations (imported by storage.db) does not import storage.db back.
"""

MIGRATION_SQL = """
-- one row per library entry: its status and which version is in use
CREATE TABLE responses (
    response_id      VARCHAR PRIMARY KEY,
    status           VARCHAR NOT NULL,   -- draft | approved | retired (of the latest version)
    version          INTEGER NOT NULL,   -- the latest version
    approved_version INTEGER,            -- the version staff may use; NULL: none yet, or retired
    approved_by      VARCHAR,
    approved_at      TIMESTAMP,
    created_by       VARCHAR NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_by       VARCHAR NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
-- every version's content but the messages; never updated
CREATE TABLE response_versions (
    response_id VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    title       VARCHAR NOT NULL,
    claim_ids   VARCHAR[] NOT NULL,      -- rumour-register / fact-check claim ids it answers
    topics      VARCHAR[] NOT NULL,
    watches     VARCHAR[] NOT NULL,
    links       VARCHAR[] NOT NULL,      -- the first one fills {link}
    review_by   DATE,                    -- after this day the entry is flagged stale
    note        VARCHAR,                 -- what changed
    edited_by   VARCHAR NOT NULL,
    edited_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (response_id, version)
);
-- each version's message per language and channel (x, bluesky, mastodon, sms, email, web)
CREATE TABLE response_messages (
    response_id VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    lang        VARCHAR NOT NULL,
    channel     VARCHAR NOT NULL,
    text        VARCHAR NOT NULL,
    PRIMARY KEY (response_id, version, lang, channel)
);
-- the entry's history: created, edited, approved, retired, imported (from the library file)
CREATE TABLE response_events (
    response_id VARCHAR NOT NULL,
    changed_at  TIMESTAMP NOT NULL,
    actor       VARCHAR NOT NULL,
    event       VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    note        VARCHAR
);
"""

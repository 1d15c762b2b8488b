"""Ordered schema migrations. Each runs once, in its own transaction, and is recorded in `_migrations`.

Append new migrations to the end of MIGRATIONS; never edit one that has shipped. Times are naive UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import duckdb

from storage import inbox_schema, incident_schema, response_schema, rollup, service_schema

log = logging.getLogger(__name__)

MIGRATIONS: list[tuple[str, str]] = [
    (
        "001_posts_cursors_runs_audit",
        """
        CREATE TABLE posts (
            platform      VARCHAR NOT NULL,
            post_id       VARCHAR NOT NULL,
            url           VARCHAR,
            author_id     VARCHAR,
            author_handle VARCHAR,
            text          VARCHAR NOT NULL,
            lang          VARCHAR,
            created_at    TIMESTAMP NOT NULL,
            collected_at  TIMESTAMP NOT NULL,
            source        VARCHAR NOT NULL,
            watches       VARCHAR[] NOT NULL,
            like_count    BIGINT NOT NULL DEFAULT 0,
            repost_count  BIGINT NOT NULL DEFAULT 0,
            reply_count   BIGINT NOT NULL DEFAULT 0,
            quote_count   BIGINT NOT NULL DEFAULT 0,
            reply_to_id   VARCHAR,
            repost_of_id  VARCHAR,
            quote_of_id   VARCHAR,
            raw           VARCHAR,
            PRIMARY KEY (platform, post_id)
        );
        CREATE TABLE cursors (
            source     VARCHAR PRIMARY KEY,
            cursor     VARCHAR,
            updated_at TIMESTAMP NOT NULL
        );
        CREATE SEQUENCE run_ids;
        CREATE TABLE runs (
            run_id      BIGINT PRIMARY KEY DEFAULT nextval('run_ids'),
            source      VARCHAR NOT NULL,
            job         VARCHAR NOT NULL,
            started_at  TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            status      VARCHAR NOT NULL,
            items       BIGINT NOT NULL DEFAULT 0,
            warnings    BIGINT NOT NULL DEFAULT 0,
            quarantined BIGINT NOT NULL DEFAULT 0,
            error       VARCHAR,
            details     VARCHAR
        );
        CREATE TABLE quarantine (
            source      VARCHAR NOT NULL,
            received_at TIMESTAMP NOT NULL,
            reason      VARCHAR NOT NULL,
            raw         VARCHAR
        );
        CREATE TABLE audit (
            logged_at TIMESTAMP NOT NULL,
            actor     VARCHAR NOT NULL,
            action    VARCHAR NOT NULL,
            details VARCHAR
        );
        """,
    ),
    (
        "002_labels_claims_embeddings",
        """
        CREATE TABLE labels (
            platform            VARCHAR NOT NULL,
            post_id             VARCHAR NOT NULL,
            created_at          TIMESTAMP NOT NULL,  -- the post's, copied so windowed queries need no join
            lang                VARCHAR,
            sentiment           VARCHAR,             -- negative | neutral | positive | NULL (unscored)
            sentiment_score     DOUBLE,
            topics              STRUCT(name VARCHAR, score DOUBLE)[],
            misinfo_score       DOUBLE,
            matched_claim_id    VARCHAR,
            matched_claim_score DOUBLE,
            misinfo_reason      VARCHAR,
            sentiment_model     VARCHAR,             -- name@version of the model that produced each label
            topics_model        VARCHAR,
            misinfo_model       VARCHAR,
            labelled_at         TIMESTAMP NOT NULL,
            PRIMARY KEY (platform, post_id)
        );
        -- sentence embeddings of recent posts, for narrative clustering; pruned by the retention job
        CREATE TABLE embeddings (
            platform   VARCHAR NOT NULL,
            post_id    VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            model      VARCHAR NOT NULL,
            vector     FLOAT[] NOT NULL,
            PRIMARY KEY (platform, post_id)
        );
        -- fact-checks and the agency's rumour register: what claim matching compares posts with
        CREATE TABLE claims (
            claim_id     VARCHAR PRIMARY KEY,
            text         VARCHAR NOT NULL,
            rating       VARCHAR,
            url          VARCHAR,
            source       VARCHAR,
            origin       VARCHAR NOT NULL,  -- factcheck | register | import
            published_at TIMESTAMP,
            updated_at   TIMESTAMP NOT NULL,
            raw          VARCHAR
        );
        """,
    ),
    (
        "003_alerts",
        """
        -- one row per situation (detector + subject); repeats update it. *_seen_at are engine-clock times (the
        -- detection step; simulated in the demo); raised_at, updated_at and the workflow times are wall-clock
        -- times, so response times measure people, never the demo's accelerated clock
        CREATE SEQUENCE alert_ids;
        CREATE TABLE alerts (
            alert_id        BIGINT PRIMARY KEY DEFAULT nextval('alert_ids'),
            fingerprint     VARCHAR NOT NULL,  -- kind:subject, e.g. volume_spike:watch:covid-19
            kind            VARCHAR NOT NULL,  -- volume_spike|sentiment_shift|narrative|claim_burst|coordination
            severity        VARCHAR NOT NULL,  -- low | medium | high: the highest reached
            watch           VARCHAR,
            topic           VARCHAR,
            claim_id        VARCHAR,
            title           VARCHAR NOT NULL,
            explanation     VARCHAR NOT NULL,  -- one plain-language paragraph with the numbers, latest step
            metrics         VARCHAR,           -- JSON: the numbers of the latest step
            links           VARCHAR,           -- JSON: [{"title": ..., "url": ...}]
            status          VARCHAR NOT NULL,  -- new | acknowledged | assigned | resolved | dismissed
            assignee        VARCHAR,
            resolution_note VARCHAR,
            response_url    VARCHAR,
            first_seen_at   TIMESTAMP NOT NULL,
            last_seen_at    TIMESTAMP NOT NULL,
            occurrences     BIGINT NOT NULL,   -- detection steps at which the situation held
            raised_at       TIMESTAMP NOT NULL,
            updated_at      TIMESTAMP NOT NULL,
            acknowledged_at TIMESTAMP,
            assigned_at     TIMESTAMP,
            resolved_at     TIMESTAMP,
            dismissed_at    TIMESTAMP
        );
        -- keys only: the text is read from posts, so a deleted or retention-pruned post leaves the evidence too
        CREATE TABLE alert_evidence (
            alert_id   BIGINT NOT NULL,
            rank       INTEGER NOT NULL,
            platform   VARCHAR NOT NULL,
            post_id    VARCHAR NOT NULL,
            note       VARCHAR,
            PRIMARY KEY (alert_id, rank)
        );
        -- the history of every alert: detector updates and every staff change, with who and when
        CREATE TABLE alert_events (
            alert_id BIGINT NOT NULL,
            changed_at TIMESTAMP NOT NULL,  -- wall clock
            seen_at  TIMESTAMP,           -- engine clock of the detection step (detector events)
            actor    VARCHAR NOT NULL,    -- 'detector' or the staff member
            event    VARCHAR NOT NULL,    -- raised | escalated | updated | acknowledged | assigned | resolved | ...
            status   VARCHAR NOT NULL,
            severity VARCHAR NOT NULL,
            note     VARCHAR,
            details  VARCHAR              -- JSON
        );
        -- the outbox: one row per message to send; sent at least once, marked sent in its own transaction
        CREATE SEQUENCE delivery_ids;
        CREATE TABLE deliveries (
            delivery_id     BIGINT PRIMARY KEY DEFAULT nextval('delivery_ids'),
            dedupe_key      VARCHAR NOT NULL UNIQUE,  -- one message per alert event and channel, or per digest day
            alert_id        BIGINT,
            channel         VARCHAR NOT NULL,  -- webhook | email
            target          VARCHAR NOT NULL,  -- the rule's name in settings (webhook URLs are resolved when sent)
            payload         VARCHAR NOT NULL,  -- JSON body, or the whole email message
            status          VARCHAR NOT NULL,  -- pending | sent | failed
            attempts        INTEGER NOT NULL,
            created_at      TIMESTAMP NOT NULL,
            next_attempt_at TIMESTAMP NOT NULL,
            sent_at         TIMESTAMP,
            last_error      VARCHAR
        );
        -- staff judging an alert (or one of its evidence posts): the running precision of each detector
        CREATE TABLE alert_feedback (
            alert_id   BIGINT NOT NULL,
            verdict    VARCHAR NOT NULL,  -- useful | not_relevant | noise | wrong_sentiment | not_misinformation
            platform   VARCHAR,
            post_id    VARCHAR,
            note       VARCHAR,
            actor      VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL
        );
        """,
    ),
    (
        "005_dashboard",
        """
        -- analysts' saved read-only SQL queries, downloadable from the dashboard
        CREATE TABLE saved_views (
            name        VARCHAR PRIMARY KEY,
            sql         VARCHAR NOT NULL,
            description VARCHAR,
            owner       VARCHAR NOT NULL,
            updated_at  TIMESTAMP NOT NULL
        );
        -- staff marking a post's label wrong (Explore page); input for evaluating and retraining classifiers
        CREATE TABLE label_feedback (
            platform      VARCHAR NOT NULL,
            post_id       VARCHAR NOT NULL,
            label         VARCHAR NOT NULL,  -- sentiment | topics | misinfo | claim_match | lang
            verdict       VARCHAR NOT NULL,  -- wrong
            correct_value VARCHAR,
            note          VARCHAR,
            actor         VARCHAR NOT NULL,
            created_at    TIMESTAMP NOT NULL
        );
        """,
    ),
    ("006_volume_rollup", rollup.MIGRATION_SQL),
    (
        "007_post_keys",
        """
        -- (platform, post_id) uniqueness moves from an index on the wide posts table to this narrow table, written
        -- in the same transaction as posts: ~3x cheaper to check and insert. created_at never changes.
        CREATE TABLE post_keys (
            platform   VARCHAR NOT NULL,
            post_id    VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            seen       BIGINT NOT NULL,     -- times collected again after the first
            PRIMARY KEY (platform, post_id)
        );
        INSERT INTO post_keys SELECT platform, post_id, created_at, 0 FROM posts;
        CREATE TABLE posts_007 (
            platform      VARCHAR NOT NULL,
            post_id       VARCHAR NOT NULL,
            url           VARCHAR,
            author_id     VARCHAR,
            author_handle VARCHAR,
            text          VARCHAR NOT NULL,
            lang          VARCHAR,
            created_at    TIMESTAMP NOT NULL,
            collected_at  TIMESTAMP NOT NULL,
            source        VARCHAR NOT NULL,
            watches       VARCHAR[] NOT NULL,
            like_count    BIGINT NOT NULL DEFAULT 0,
            repost_count  BIGINT NOT NULL DEFAULT 0,
            reply_count   BIGINT NOT NULL DEFAULT 0,
            quote_count   BIGINT NOT NULL DEFAULT 0,
            reply_to_id   VARCHAR,
            repost_of_id  VARCHAR,
            quote_of_id   VARCHAR,
            raw           VARCHAR
        );
        INSERT INTO posts_007 SELECT * FROM posts ORDER BY created_at;
        DROP TABLE posts;
        ALTER TABLE posts_007 RENAME TO posts;
        -- labels and embeddings of posts deleted upstream were kept before; they go with their posts now
        DELETE FROM labels t WHERE NOT EXISTS
            (SELECT 1 FROM post_keys k WHERE k.platform = t.platform AND k.post_id = t.post_id);
        DELETE FROM embeddings t WHERE NOT EXISTS
            (SELECT 1 FROM post_keys k WHERE k.platform = t.platform AND k.post_id = t.post_id);
        """,
    ),
    ("008_posts_rollup", rollup.POSTS_MIGRATION_SQL),
    (
        "009_no_orphan_labels",
        """
        -- a post deleted while it was being labelled could leave its label behind; labels.write now drops those, and
        -- labels.pending counts on every label having its post
        DELETE FROM labels WHERE (platform, post_id) NOT IN (SELECT (platform, post_id) FROM post_keys);
        DELETE FROM embeddings WHERE (platform, post_id) NOT IN (SELECT (platform, post_id) FROM post_keys);
        """,
    ),
    ("010_topics_rollup", rollup.TOPICS_MIGRATION_SQL),
    ("011_incidents", incident_schema.MIGRATION_SQL),
    ("012_responses", response_schema.MIGRATION_SQL),
    ("015_inbox", inbox_schema.MIGRATION_SQL),
    ("016_service_requests", service_schema.MIGRATION_SQL),
]


def apply(con: duckdb.DuckDBPyConnection, ddl: Callable[[str], str] = str) -> list[str]:
    """Apply pending migrations in order; returns the names applied now. `ddl` adapts each one to the storage kind
    (`storage.lake_schema.ddl` on the lake; the default leaves them as written)."""
    con.execute(ddl("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)"))
    done = {row[0] for row in con.execute("SELECT name FROM _migrations").fetchall()}
    applied = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        con.execute("BEGIN")
        try:
            con.execute(ddl(sql))
            con.execute("INSERT INTO _migrations VALUES (?, now()::TIMESTAMP)", [name])
            con.execute("COMMIT")
        except duckdb.Error:
            con.execute("ROLLBACK")
            raise
        log.info("applied migration %s", name)
        applied.append(name)
    if applied and ddl is str:
        # DuckDB 1.5.5 cannot replay some migrations' DDL from the write-ahead log after a crash ("GetDefaultDatabase
        # with no default database set", duckdb/duckdb#19712, #22044): fold them into the file before any data comes
        con.execute("CHECKPOINT")
    return applied

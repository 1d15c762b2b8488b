"""Ordered schema migrations. Each runs once, in its own transaction, and is recorded in `_migrations`.

Append new migrations to the end of MIGRATIONS; never edit one that has shipped. Times are naive UTC.
"""

from __future__ import annotations

import logging

import duckdb

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
]


def apply(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations in order; returns the names applied now."""
    con.execute("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    done = {row[0] for row in con.execute("SELECT name FROM _migrations").fetchall()}
    applied = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        con.execute("BEGIN")
        try:
            con.execute(sql)
            con.execute("INSERT INTO _migrations VALUES (?, now()::TIMESTAMP)", [name])
            con.execute("COMMIT")
        except duckdb.Error:
            con.execute("ROLLBACK")
            raise
        log.info("applied migration %s", name)
        applied.append(name)
    return applied

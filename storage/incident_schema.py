"""Migration 011: incidents, their membership, their history, the agency's responses, and staff visits.

Engine-clock times (`*_seen_at`, `first_post_at`, events' `seen_at`) describe the situation (simulated in the demo);
wall-clock times (`opened_at`, the workflow, responses, visits) measure people.
"""

MIGRATION_SQL = """
-- one row per situation: the alerts that alerts/incidents.py grouped together
CREATE SEQUENCE incident_ids;
CREATE TABLE incidents (
    incident_id       BIGINT PRIMARY KEY DEFAULT nextval('incident_ids'),
    headline          VARCHAR NOT NULL,  -- the latest title of its most severe alert (the first of those)
    headline_alert_id BIGINT,            -- that alert
    severity          VARCHAR NOT NULL,  -- low | medium | high: the highest of its alerts
    status            VARCHAR NOT NULL,  -- new | acknowledged | assigned | resolved | dismissed | merged
    assignee          VARCHAR,
    assignee_email    VARCHAR,           -- where the overdue reminder goes (the dashboard gives it on assigning)
    merged_into       BIGINT,            -- status 'merged': the incident that took its alerts
    first_post_at     TIMESTAMP,         -- the earliest post its alerts show (engine clock)
    first_seen_at     TIMESTAMP NOT NULL,
    last_seen_at      TIMESTAMP NOT NULL,
    opened_at         TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    acknowledged_at   TIMESTAMP,         -- the first action by a person
    assigned_at       TIMESTAMP,
    first_response_at TIMESTAMP,         -- the earliest posted_at of its responses
    resolved_at       TIMESTAMP,
    dismissed_at      TIMESTAMP,
    escalated_at      TIMESTAMP,         -- the latest escalation: severity, volume or past a target
    notices           INTEGER NOT NULL DEFAULT 0,  -- notifications so far (the opening and each escalation)
    resolution_note   VARCHAR
);
-- which incident each alert is in, and why (no key constraint: merges and splits rewrite incident_id)
CREATE TABLE incident_alerts (
    alert_id       BIGINT NOT NULL,
    incident_id    BIGINT NOT NULL,
    reason         VARCHAR NOT NULL,  -- opened | same_claim | shared_evidence | same_narrative | same_watch |
                                      -- same_topic | merged | split
    detail         VARCHAR NOT NULL,  -- the decision in words, e.g. "shares 2 evidence posts with alert #1"
    actor          VARCHAR NOT NULL,  -- 'detector' or the staff member who merged / split
    joined_at      TIMESTAMP NOT NULL,
    watches        VARCHAR[] NOT NULL,  -- its own watch, and the watch most of its evidence posts are in
    shingles       BIGINT[][] NOT NULL, -- per evidence post, hashed word pairs (near-duplicate test; no text kept)
    baseline_posts BIGINT NOT NULL      -- the incident's largest post count at its last notification (the same in
                                        -- each of its rows): its volume has doubled when a signal reaches twice it
);
-- the incident's own history: opened, joined, escalated, reminded, staff actions, merges, splits, responses
CREATE TABLE incident_events (
    incident_id BIGINT NOT NULL,
    changed_at  TIMESTAMP NOT NULL,  -- wall clock
    seen_at     TIMESTAMP,           -- engine clock of the detection step (detector events)
    actor       VARCHAR NOT NULL,    -- 'detector', 'engine' (targets) or the staff member
    event       VARCHAR NOT NULL,
    status      VARCHAR NOT NULL,
    severity    VARCHAR NOT NULL,
    alert_id    BIGINT,
    note        VARCHAR,
    details     VARCHAR              -- JSON
);
-- the agency's answer, posted: from the response library (response_id) or written on the spot
CREATE TABLE incident_responses (
    incident_id BIGINT NOT NULL,
    response_id VARCHAR,
    channel     VARCHAR NOT NULL,
    url         VARCHAR,
    posted_at   TIMESTAMP NOT NULL,
    actor       VARCHAR NOT NULL,
    note        VARCHAR,
    recorded_at TIMESTAMP NOT NULL
);
-- each user's latest visit to the Incidents page and the one before: "since you were last here"
CREATE TABLE incident_visits (
    username    VARCHAR PRIMARY KEY,
    previous_at TIMESTAMP,
    visited_at  TIMESTAMP NOT NULL
);
ALTER TABLE deliveries ADD COLUMN incident_id BIGINT;
"""

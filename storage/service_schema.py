"""Migration 016: Open311 service requests as columns (status, service, place, times), not only raw JSON.

Kept apart from the store (storage/service_requests.py) so that storage.migrations does not import storage.db.
The rows are written in the same transaction as their posts (`service_requests.track`) and removed with them
(`storage.db.DEPENDENT_TABLES`: retention, upstream deletion, `civicradar forget`); the migration fills the table
from the raw payloads of the 311 posts already stored.
"""

# A post is a service request when its raw payload (GeoReport v2) has a service_request_id. Times are naive UTC
# (the session's time zone is UTC); a closed request's closed_at is the payload's closed_datetime (an extension
# some servers send), else its updated_datetime, else the time it was first seen closed. {source} has the columns of
# `posts`; {existing} is the table of rows already stored (closed_at kept when a payload gives no time).
ROWS = """
WITH r AS (
    SELECT s.platform, s.post_id, s.created_at, s.collected_at,
           lower(trim(json_extract_string(s.raw, '$.status'))) AS status,
           json_extract_string(s.raw, '$.service_code') AS service_code,
           json_extract_string(s.raw, '$.service_name') AS service_name,
           TRY_CAST(json_extract_string(s.raw, '$.lat') AS DOUBLE) AS lat,
           TRY_CAST(json_extract_string(s.raw, '$.long') AS DOUBLE) AS lon,
           json_extract_string(s.raw, '$.address') AS address,
           TRY_CAST(json_extract_string(s.raw, '$.updated_datetime') AS TIMESTAMPTZ)::TIMESTAMP AS updated_at,
           TRY_CAST(json_extract_string(s.raw, '$.closed_datetime') AS TIMESTAMPTZ)::TIMESTAMP AS closed_given,
           json_extract_string(s.raw, '$.agency_responsible') AS agency_responsible
    FROM {source} s
    WHERE s.direction = 'to_agency' AND s.raw IS NOT NULL
      AND json_extract_string(s.raw, '$.service_request_id') IS NOT NULL)
SELECT r.platform, r.post_id, r.created_at AS requested_at, coalesce(r.status, 'open') AS status, r.service_code,
       r.service_name,
       CASE WHEN r.lat BETWEEN -90 AND 90 AND r.lon BETWEEN -180 AND 180 AND (r.lat <> 0 OR r.lon <> 0)
            THEN r.lat END AS lat,
       CASE WHEN r.lat BETWEEN -90 AND 90 AND r.lon BETWEEN -180 AND 180 AND (r.lat <> 0 OR r.lon <> 0)
            THEN r.lon END AS lon,
       r.address, r.updated_at,
       CASE WHEN r.status = 'closed'
            THEN coalesce(r.closed_given, r.updated_at, e.closed_at, r.collected_at) END AS closed_at,
       r.agency_responsible
FROM r LEFT JOIN {existing} e ON e.platform = r.platform AND e.post_id = r.post_id
"""

MIGRATION_SQL = """
-- one row per Open311 service request (a post whose raw payload is a GeoReport v2 request), kept exact on re-polls
CREATE TABLE service_requests (
    platform           VARCHAR NOT NULL,
    post_id            VARCHAR NOT NULL,   -- the service_request_id
    requested_at       TIMESTAMP NOT NULL, -- requested_datetime (the post's created time)
    status             VARCHAR NOT NULL,   -- open | closed (as the city's system says; lower case)
    service_code       VARCHAR,
    service_name       VARCHAR,
    lat                DOUBLE,             -- NULL when missing or out of range (0, 0 counts as missing)
    lon                DOUBLE,
    address            VARCHAR,
    updated_at         TIMESTAMP,          -- updated_datetime
    closed_at          TIMESTAMP,          -- set while closed (closed_datetime, else updated_datetime, else first seen)
    agency_responsible VARCHAR,
    PRIMARY KEY (platform, post_id)
);
INSERT INTO service_requests
""" + ROWS.format(source="posts", existing="(SELECT NULL::VARCHAR AS platform, NULL::VARCHAR AS post_id, "
                                           "NULL::TIMESTAMP AS closed_at WHERE false)") + ";"

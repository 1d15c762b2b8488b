"""Named queries over Open311 service requests (`service_requests`, written by storage/service_requests.py).

Listed in `storage.queries.AREAS`: time to close per service, and located requests for the map.
"""

from __future__ import annotations

from storage.named import Param, Query

QUERIES: dict[str, Query] = {
    "service_time_to_close": Query(
        """
        SELECT coalesce(service_name, service_code, '(no service)') AS service, service_code,
               count(*) FILTER (WHERE status <> 'closed') AS open_requests,
               count(*) FILTER (WHERE status = 'closed') AS closed_requests,
               round(median((epoch(closed_at) - epoch(requested_at)) / 3600)
                     FILTER (WHERE status = 'closed' AND closed_at >= requested_at), 1) AS median_hours_to_close
        FROM service_requests
        WHERE requested_at >= $since AND requested_at < $until AND ($platform IS NULL OR platform = $platform)
        GROUP BY ALL ORDER BY open_requests DESC, closed_requests DESC, service
        """,
        {"since": Param("time", required=True), "until": Param("time", required=True), "platform": Param("str")},
        doc="Open311 requests per service made in [since, until): how many are open and closed, and the median "
            "hours from request to close of the closed ones.",
    ),
    "service_request_map": Query(
        """
        SELECT r.platform AS channel, r.post_id, r.lat, r.lon, r.status, r.service_code,
               coalesce(r.service_name, r.service_code) AS service, r.address, r.requested_at, r.closed_at,
               i.incident_id
        FROM service_requests r LEFT JOIN inbox_items i USING (platform, post_id)
        WHERE r.lat IS NOT NULL AND r.requested_at >= $since AND r.requested_at < $until
          AND ($status IS NULL OR r.status = $status)
        ORDER BY r.requested_at DESC LIMIT $limit
        """,
        {"since": Param("time", required=True), "until": Param("time", required=True), "status": Param("str"),
         "limit": Param("int", 5000)},
        doc="Located Open311 requests made in [since, until) (newest first): where, status, service, address and "
            "the incident their inbox item is linked to.",
    ),
}

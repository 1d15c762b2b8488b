"""Open311 service requests as columns: written with their posts, closing their inbox items, and read by service.

`track` is the requests' part of every post write (called by `Database._upsert_posts` after the inbox's, in the same
transaction): each inbound post whose raw payload is a GeoReport v2 request gets its row in `service_requests`,
replaced when the request is collected again (a re-poll: open -> closed sets closed_at; reopened clears it). A
request that the city closed closes its inbox item (if still new or in progress) with an inbox event by actor
`open311`. Rows go with their posts (`storage.db.DEPENDENT_TABLES`). A batch without inbound posts costs one
vectorised check and no SQL.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from storage.bulk import insert_rows
from storage.service_schema import ROWS

# MERGE on the key and select-then-update: statements that run on DuckDB and on DuckLake (no unique keys there, no
# UPDATE ... RETURNING)
UPSERT = ("MERGE INTO service_requests USING (" + ROWS.format(source="requests_batch", existing="service_requests")
          + ") AS n USING (platform, post_id) WHEN MATCHED THEN UPDATE BY NAME WHEN NOT MATCHED THEN INSERT BY NAME")
_CLOSED = """service_requests r JOIN requests_batch b USING (platform, post_id)
WHERE inbox_items.platform = r.platform AND inbox_items.post_id = r.post_id AND r.status = 'closed'
  AND inbox_items.status IN ('new', 'in_progress')"""
CLOSING = f"SELECT inbox_items.platform, inbox_items.post_id, b.collected_at, r.closed_at FROM inbox_items, {_CLOSED}"
CLOSE_ITEMS = f"""
UPDATE inbox_items SET status = 'closed', closed_at = r.closed_at, updated_at = b.collected_at
FROM {_CLOSED}
"""


def track(con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    """Rows of `service_requests` for the service requests among the posts of `table`; closed ones close their
    inbox items."""
    if "direction" not in table.column_names or "raw" not in table.column_names:
        return
    inbound = pc.equal(table.column("direction"), "to_agency")
    if not pc.any(inbound).as_py():
        return
    requests = table.filter(pc.and_(inbound, pc.match_substring(table.column("raw"), '"service_request_id"')))
    if not requests.num_rows:
        return
    con.register("requests_batch", requests)
    try:
        con.execute(UPSERT).fetchall()
        closed = con.execute(CLOSING).fetchall()
        if closed:
            con.execute(CLOSE_ITEMS)
    finally:
        con.unregister("requests_batch")
    if closed:
        insert_rows(con, "INSERT INTO inbox_events SELECT platform, post_id, seen, 'open311', 'closed', 'closed', note "
                         "FROM {rows}",
                    {"platform": [c[0] for c in closed], "post_id": [c[1] for c in closed],
                     "seen": [c[2] for c in closed],
                     "note": [f"closed in the city's 311 system ({c[3]:%Y-%m-%d %H:%M} UTC)" for c in closed]})

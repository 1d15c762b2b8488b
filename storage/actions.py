"""Named actions staff take (alert transitions, label feedback, rumour-register edits).

Each runs as one write transaction in the engine, the only writer, and is recorded in the audit log with
the acting user and the client that sent it. Each area module listed in `storage.queries.AREAS` gives its actions
with `actions()`; the service exposes them at /v1/actions/NAME and checks the actor's role against `Action.roles`.
"""

from __future__ import annotations

from typing import Any

import duckdb

from core.roles import ROLES
from storage.named import Action as Action  # re-exported: the declaration lives in storage.named
from storage.named import ActionFn as ActionFn
from storage.named import Param
from storage.queries import AREAS, merged


def _recorded(con: duckdb.DuckDBPyConnection, actor: str, params: dict[str, Any]) -> dict[str, Any]:
    """Nothing to write but the audit record itself."""
    return {"recorded": True}


ACTIONS: dict[str, Action] = {
    # A file downloaded from the dashboard (dashboard.exports): who, which saved view or query, the format and rows.
    # Every role that reads may record one: the Touchpoints page offers its CSV and PNG to all of them (the SQL
    # page's downloads stay for the roles that may run SQL; the page checks that).
    "download": Action(
        _recorded, {"view": Param("str"), "sql": Param("str", required=True), "format": Param("str", required=True),
                    "rows": Param("int", required=True)},
        frozenset(ROLES),
        "Record a file downloaded from the dashboard in the audit log (sql: the query, or the named query it came "
        "from).",
        audit=lambda p: {**p, "sql": p["sql"][:10_000]},
    ),
}
merged(ACTIONS, "actions", [(area.__name__, area.actions()) for area in AREAS if hasattr(area, "actions")])

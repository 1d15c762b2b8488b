"""Named actions staff take (alert transitions, label feedback, rumour-register edits).

Each runs as one write transaction in the engine, the only writer, and is recorded in the audit log with
the acting user. Packages add their actions to ACTIONS; the service exposes them at /v1/actions/NAME.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from storage.queries import Param, Query

ActionFn = Callable[[duckdb.DuckDBPyConnection, str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Action:
    fn: ActionFn  # (connection inside the transaction, actor, bound params) -> result
    params: Mapping[str, Param] = field(default_factory=dict)
    roles: frozenset[str] = frozenset({"admin"})  # roles allowed to take it (checked by the dashboard's server)
    doc: str = ""
    audit: Callable[[dict[str, Any]], dict[str, Any]] = dict  # what the audit log keeps of the params

    def bind(self, name: str, given: Mapping[str, Any]) -> dict[str, Any]:
        return Query("", self.params).bind(name, given)


ACTIONS: dict[str, Action] = {}


def _register_area_actions() -> None:
    """Area modules in `storage.queries.AREA_MODULES` may define `actions() -> dict[str, Action]`.

    A function, not a dict, so an area module never imports this module while it is still initialising.
    """
    import importlib

    from storage.queries import AREA_MODULES

    for module in AREA_MODULES:
        area = importlib.import_module(module)
        found: dict[str, Action] = area.actions() if hasattr(area, "actions") else {}
        clash = set(found) & set(ACTIONS)
        if clash:
            raise RuntimeError(f"{module} redefines actions {sorted(clash)}")
        ACTIONS.update(found)


def _recorded(con: duckdb.DuckDBPyConnection, actor: str, params: dict[str, Any]) -> dict[str, Any]:
    """Nothing to write but the audit record itself."""
    return {"recorded": True}


# A file downloaded from the dashboard (dashboard.exports): who, which saved view or query, the format and rows.
# Every role that reads may record one: the Touchpoints page offers its CSV and PNG to all of them (the SQL page's
# downloads stay for the roles that may run SQL; the page checks that).
ACTIONS["download"] = Action(
    _recorded, {"view": Param("str"), "sql": Param("str", required=True), "format": Param("str", required=True),
                "rows": Param("int", required=True)},
    frozenset({"viewer", "comms", "lead", "analyst", "admin"}),
    "Record a file downloaded from the dashboard in the audit log (sql: the query, or the named query it came from).",
    audit=lambda p: {**p, "sql": p["sql"][:10_000]},
)
_register_area_actions()

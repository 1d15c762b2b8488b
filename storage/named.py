"""What a named query or a named action declares: its parameters (typed, with defaults), its doc and who may use it.

The declarations only; `storage.queries.QUERIES` and `storage.actions.ACTIONS` list the area modules that define
them. Kept apart from those registries so an area module imports these types without importing every other area.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from core.errors import CivicRadarError
from core.roles import ADMINS
from core.times import parse_time
from storage.db import naive_utc


class QueryError(CivicRadarError, ValueError):
    """Unknown query or bad parameter; the message says which and what is expected."""


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):  # already bound (the engine's own callers): binding twice changes nothing
        return naive_utc(value)
    if isinstance(value, str):  # the clients send ISO 8601: read it without dateutil's slower, lenient parser
        try:
            return naive_utc(datetime.fromisoformat(value))
        except ValueError:
            pass
    return naive_utc(parse_time(value))


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")
    return value


def _bucket_minutes(value: Any) -> int:
    minutes = int(value)
    if minutes < 5 or minutes % 5:
        raise ValueError("expected a multiple of 5 minutes (the rollup's resolution)")
    return minutes


PARAM_TYPES: dict[str, Callable[[Any], Any]] = {
    "bucket_minutes": _bucket_minutes,
    "time": _time,
    "int": int,
    "float": float,
    "str": str,
    "str_list": _str_list,
}


@dataclass(frozen=True)
class Param:
    type: str
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class Query:
    sql: str
    params: Mapping[str, Param] = field(default_factory=dict)
    doc: str = ""
    # None: any client holding the service token may run it (aggregates, the queue as every role sees it); a set:
    # it returns personal data only these roles need, so the service asks who is reading and checks their role.
    roles: frozenset[str] | None = None

    def bind(self, name: str, given: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(given) - set(self.params)
        if unknown:
            raise QueryError(f"query {name!r}: unknown parameter(s) {sorted(unknown)}; known: {sorted(self.params)}")
        return {key: _bound(name, key, spec, given.get(key)) for key, spec in self.params.items()}


def _bound(name: str, key: str, spec: Param, value: Any) -> Any:
    if value is None:
        if spec.required:
            raise QueryError(f"query {name!r}: parameter {key!r} ({spec.type}) is required")
        return spec.default
    try:
        return PARAM_TYPES[spec.type](value)
    except (TypeError, ValueError, OverflowError) as e:
        raise QueryError(f"query {name!r}: parameter {key!r} must be {spec.type}: {e}") from e


WINDOW = {"since": Param("time", required=True), "until": Param("time", required=True)}

ActionFn = Callable[[duckdb.DuckDBPyConnection, str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Action:
    fn: ActionFn  # (connection inside the transaction, actor, bound params) -> result
    params: Mapping[str, Param] = field(default_factory=dict)
    roles: frozenset[str] = ADMINS  # roles allowed to take it (core.roles): checked by the dashboard and the service
    doc: str = ""
    audit: Callable[[dict[str, Any]], dict[str, Any]] = dict  # what the audit log keeps of the params
    # An audit-only record whose actor need not be a user at all (a failed sign-in records the name tried).
    any_actor: bool = False

    def bind(self, name: str, given: Mapping[str, Any]) -> dict[str, Any]:
        return Query("", self.params).bind(name, given)

"""The storage service: the engine serves reads and staff actions over local HTTP.

Routes (all but /health need `Authorization: Bearer <token>`):
  GET  /health                    liveness, no data
  GET  /v1/clock                  the engine's clock (simulated while a demo replay drives it)
  GET  /v1/info                   what the dashboard shows of the settings (agency, time zone, watches, topics)
  GET  /v1/queries                named queries and their parameters
  GET  /v1/storage                engine or read replica (storage.replica: refuses actions, 409), the lake's lag
  POST /v1/query/{name}           JSON body of parameters; Arrow IPC stream if Accept asks for it, else JSON
  POST /v1/sql                    {"sql": "...", "actor": "..."}: analysts' read-only SQL (row and time limits)
  POST /v1/actions/{name}         {"actor": "...", "params": {...}}: one named write, audited
  POST /v1/snapshot               {"actor": "..."}: a consistent Parquet copy of every table (storage.snapshot)

Each client names itself in `x-civicradar-client`, recorded with every audit row. Actions, SQL, snapshots and the
queries that return personal data (`Query.roles`; the reader in `x-civicradar-actor`) are refused (403, audited)
unless the actor's role, looked up in the users file (storage.callers), allows them.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import warnings
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pyarrow as pa
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from storage import replica, sandbox
from storage.actions import ACTIONS
from storage.callers import ACTOR_HEADER, CLIENT_HEADER, SQL_ROLES, Caller, Directory, client_name, refusal
from storage.db import Database
from storage.queries import QUERIES, QueryError
from storage.snapshot import write_snapshot

# execute(...).to_arrow_table() warns that it copies the rows once more than con.sql(...); measured under the soak
# it is still the cheaper call per read (con.sql binds every statement before running it), and results are small.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
log = logging.getLogger(__name__)
ARROW = "application/vnd.apache.arrow.stream"
KEEP_ALIVE_SECONDS = 30.0  # uvicorn's default (5 s) equals httpx's pool expiry: a reuse races the close


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, default=_json_default, ensure_ascii=False)
    return Response(body, status_code=status, media_type="application/json")


def table_response(request: Request, table: pa.Table, headers: dict[str, str] | None = None) -> Response:
    if ARROW in request.headers.get("accept", ""):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return Response(sink.getvalue().to_pybytes(), media_type=ARROW, headers=headers)
    response = json_response(table.to_pylist())
    response.headers.update(headers or {})
    return response


class TokenAuth:
    """Every request but /health needs the bearer token (constant-time compare). A plain ASGI middleware:
    Starlette's BaseHTTPMiddleware costs a task and a stream per request, most of the engine's per-read CPU."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"")
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("?",)
        log.warning("refused %s %s from %s: missing or wrong token", scope["method"], scope["path"], client[0])
        await JSONResponse({"error": "missing or wrong token"}, status_code=401)(scope, receive, send)


def create_app(db: Database, token: str, clock: Callable[[], tuple[datetime, bool]],
               sql_row_limit: int = 10_000, sql_timeout: float = 10.0,
               info: dict[str, Any] | None = None, snapshot_dir: Path | None = None,
               read_slots: int = 2, directory: Directory | None = None) -> Starlette:
    """`directory`: who the actors are (the users file); without one, every actor is unknown and refused."""
    reads = ReadSlots(read_slots)
    gate = Gate(db, directory)

    def health(request: Request) -> Response:
        return json_response({"ok": True})

    def get_info(request: Request) -> Response:
        return json_response(info or {})

    def get_clock(request: Request) -> Response:
        now, simulated = clock()
        return json_response({"now": now, "simulated": simulated})

    def list_queries(request: Request) -> Response:
        return json_response(
            {name: {"doc": q.doc, "params": {k: p.type for k, p in q.params.items()}} for name, q in QUERIES.items()}
        )

    async def query(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in QUERIES:
            return json_response({"error": f"no query named {name!r}; GET /v1/queries lists them"}, 404)
        params = QUERIES[name].bind(name, await _body(request))
        if refused := await gate.query(request, name, params):
            return refused
        table = await reads.run(lambda: replica.read_named(db, name, params))  # a replica: its result cache
        return table_response(request, table)

    async def sql(request: Request) -> Response:
        body = await _body(request)
        text, caller = str(body.get("sql", "")), gate.caller(request, body)
        if refused := await gate.check(request, caller.actor, SQL_ROLES, "sql", {"sql": text[:10_000]}):
            return refused
        rows = min(int(body.get("row_limit") or sql_row_limit), sql_row_limit)  # a client may only lower limits
        seconds = min(float(body.get("timeout_seconds") or sql_timeout), sql_timeout)
        try:
            result = await reads.run(lambda: sandbox.run(db, text, max(rows, 1), seconds))
        finally:
            db.audit(caller.actor, "sql", {"sql": text[:10_000], "service_client": caller.client})
        return table_response(request, result.table, {"x-truncated": str(result.truncated).lower()})

    async def action(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ACTIONS:
            return json_response({"error": f"no action named {name!r}"}, 404)
        if db.read_only:
            return json_response({"error": replica.REFUSED}, 409)
        body = await _body(request)
        caller, chosen = gate.caller(request, body), ACTIONS[name]
        if not caller.actor:
            return json_response({"error": "an action needs the acting user ('actor')"}, 400)
        params = chosen.bind(name, body.get("params") or {})
        audited = {**chosen.audit(params), "service_client": caller.client}
        if not chosen.any_actor and (refused := await gate.check(request, caller.actor, chosen.roles, name, audited)):
            return refused
        result = await _in_thread(lambda: db.run_action(name, chosen.fn, caller.actor, params, audited))
        return json_response(result)

    async def snapshot(request: Request) -> Response:
        caller = gate.caller(request, await _body(request))
        if snapshot_dir is None or not caller.actor:
            return json_response({"error": "snapshots need a snapshot folder (engine) and an 'actor'"}, 400)
        if refused := await gate.check(request, caller.actor, SQL_ROLES, "snapshot", {}):
            return refused
        result = await _in_thread(lambda: write_snapshot(db, snapshot_dir))
        db.audit(caller.actor, "snapshot", {"path": result["path"], "service_client": caller.client})
        return json_response(result)

    async def storage(request: Request) -> Response:
        return json_response(await reads.run(lambda: replica.storage_state(db)))

    routes = [
        Route("/health", health),
        Route("/v1/clock", get_clock),
        Route("/v1/info", get_info),
        Route("/v1/queries", list_queries),
        Route("/v1/storage", storage),
        Route("/v1/query/{name}", query, methods=["POST"]),
        Route("/v1/sql", sql, methods=["POST"]),
        Route("/v1/actions/{name}", action, methods=["POST"]),
        Route("/v1/snapshot", snapshot, methods=["POST"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(TokenAuth, token=token)],
        exception_handlers={QueryError: _bad_request, ValueError: _bad_request},
    )


class Gate:
    """The service's own role check (storage.callers); a refusal is a 403 and an audit row ('refused')."""

    def __init__(self, db: Database, directory: Directory | None) -> None:
        self.db, self.directory = db, directory

    def caller(self, request: Request, body: dict[str, Any]) -> Caller:
        client, actor = client_name(request.headers.get(CLIENT_HEADER)), str(body.get("actor") or "")
        return self.directory.caller(client, actor) if self.directory else Caller(client, actor, None)

    async def query(self, request: Request, name: str, params: dict[str, Any]) -> Response | None:
        """A query that returns personal data (`Query.roles`) is read for the actor header's user, role checked."""
        roles = QUERIES[name].roles
        return None if roles is None else await self.check(request, "", roles, name, params)

    async def check(self, request: Request, actor: str, roles: frozenset[str], what: str,
                    details: dict[str, Any]) -> Response | None:
        """None if the actor (from the body, else the actor header) may do `what`; else the refusal, audited."""
        caller = self.caller(request, {"actor": actor or request.headers.get(ACTOR_HEADER, "")})
        reason = refusal(caller, roles, what.replace("_", " "))
        if reason is None:
            return None
        log.warning("refused %s from the %s client: %s", what, caller.client, reason)
        about = {**details, "refused": what, "role": caller.role, "service_client": caller.client, "reason": reason}
        await _in_thread(lambda: self.db.audit(caller.actor or "(nobody)", "refused", about))
        return json_response({"error": reason}, 403)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise QueryError(f"the request body is not JSON: {e}") from e
    if not isinstance(data, dict):
        raise QueryError("the request body must be a JSON object")
    return data


async def _in_thread(fn: Callable[[], Any]) -> Any:
    return await run_in_threadpool(fn)


class ReadSlots:
    """At most `slots` reads execute at once; more wait their turn. On a small machine, many readers running
    side by side only slow each other and starve the engine's writer; queued, they finish sooner on average."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, fn: Callable[[], Any]) -> Any:
        if self._limiter is None:  # created inside the event loop
            self._limiter = anyio.CapacityLimiter(self.slots)
        return await anyio.to_thread.run_sync(fn, limiter=self._limiter)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return json_response({"error": str(exc)}, 400)


class Service:
    """uvicorn serving the app in a background thread of the engine.

    Idle connections stay open `keep_alive` seconds, longer than clients keep them in their pools
    (storage.client.KEEPALIVE_EXPIRY_SECONDS): a client never reuses a connection the service is closing.
    """

    def __init__(self, app: Starlette, host: str, port: int, keep_alive: float = KEEP_ALIVE_SECONDS) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                timeout_keep_alive=keep_alive)  # type: ignore[arg-type]  # any number of seconds
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, name="storage-service", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        waited = 0.0
        while not self.server.started and waited < timeout and self._thread.is_alive():
            threading.Event().wait(0.05)
            waited += 0.05
        if not self.server.started:
            raise RuntimeError("the storage service did not start (is the port already in use?)")

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)


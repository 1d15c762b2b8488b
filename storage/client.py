"""Client of the storage service: DataFrames for the dashboard, never the database file.

Reads (named queries, GETs, read-only SQL) are sent a second time when the connection drops or is refused: they
change nothing, so a retry is safe. Actions and snapshots are sent again only when the first attempt never
reached the service (connection refused); if the connection drops after one was sent, `OutcomeUnknown` says so.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx
import pandas as pd
import pyarrow as pa
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from core.errors import CivicRadarError

ARROW = "application/vnd.apache.arrow.stream"
URL_ENV, TOKEN_ENV = "CIVICRADAR_SERVICE_URL", "CIVICRADAR_SERVICE_TOKEN"
CLIENT_HEADER, ACTOR_HEADER = "x-civicradar-client", "x-civicradar-actor"  # as storage.callers reads them
# An idle pooled connection is dropped here before the service closes it (storage.service.KEEP_ALIVE_SECONDS,
# 30 s): reusing one the service is closing at that very moment is what "Server disconnected" was.
KEEPALIVE_EXPIRY_SECONDS = 20.0
RETRY_PAUSE_SECONDS = 0.25
# Nothing reached the service: any request may be sent again.
NOT_SENT: tuple[type[Exception], ...] = (httpx.ConnectError,)
# The connection dropped or was refused: a read may be sent again, an action may have been done.
DROPPED: tuple[type[Exception], ...] = (*NOT_SENT, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
log = logging.getLogger(__name__)


class ServiceError(CivicRadarError):
    """The service refused or failed a request; the message is the service's own explanation."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ServiceUnreachable(ServiceError):
    """No answer: the engine is stopped or restarting, too busy to answer in time, or the connection dropped."""


class OutcomeUnknown(ServiceUnreachable):
    """An action was sent but the connection dropped before the answer: it may or may not have been done."""


class StorageClient:
    """`client`: this program's name (dashboard, cli, bench, ...), recorded with every audit row the service writes.
    Actions, SQL and snapshots name the person acting; the service checks their role (storage.callers)."""

    def __init__(self, url: str, token: str, timeout: float = 30.0, client: str = "unnamed"):
        headers = {"Authorization": f"Bearer {token}", CLIENT_HEADER: client}
        common: dict[str, Any] = {"base_url": url.rstrip("/"), "headers": headers, "timeout": timeout}
        self._http = httpx.Client(**common, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS))
        # A second attempt goes on a new connection: another idle one from the pool may be just as stale.
        self._fresh = httpx.Client(**common, limits=httpx.Limits(max_keepalive_connections=0))

    def close(self) -> None:
        self._http.close()
        self._fresh.close()

    def _send(self, method: str, path: str, idempotent: bool, **request: Any) -> httpx.Response:
        """One request; sent once more on a dropped connection (reads) or a refused one (anything)."""
        retrying = Retrying(retry=retry_if_exception_type(DROPPED if idempotent else NOT_SENT),
                            stop=stop_after_attempt(2), wait=_pause, reraise=True, before_sleep=_log_retry)
        try:
            for attempt in retrying:
                with attempt:
                    http = self._http if attempt.retry_state.attempt_number == 1 else self._fresh
                    response = http.request(method, path, **request)
        except httpx.HTTPError as e:
            raise self._failure(e, path, idempotent) from e
        return _checked(response)

    def _failure(self, error: httpx.HTTPError, path: str, idempotent: bool) -> ServiceUnreachable:
        where = f"the storage service at {self._http.base_url}"
        if isinstance(error, httpx.TimeoutException):
            return ServiceUnreachable(f"{where} did not answer {path} in time ({str(error) or type(error).__name__});"
                                      " the engine may be busy, try again shortly")
        if isinstance(error, DROPPED) and not idempotent and not isinstance(error, NOT_SENT):
            return OutcomeUnknown(f"the connection to {where} dropped after {path} was sent ({error}): it may or "
                                  "may not have been done; check before trying again")
        if isinstance(error, DROPPED):
            return ServiceUnreachable(f"{where} is not reachable: {error} (tried twice; is the engine running?)")
        return ServiceUnreachable(f"{where} is not reachable: {error}")

    def _post(self, path: str, body: dict[str, Any], accept: str = ARROW, idempotent: bool = True,
              actor: str | None = None) -> httpx.Response:
        headers = {"Accept": accept, **({ACTOR_HEADER: actor} if actor else {})}
        return self._send("POST", path, idempotent, json=body, headers=headers)

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        return self.query_as(name, None, **params)

    def query_as(self, name: str, actor: str | None, /, **params: Any) -> pd.DataFrame:
        """A named query read for `actor`: the queries that return personal data (`Query.roles`) need one."""
        body = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}
        return _frame(self._post(f"/v1/query/{name}", body, actor=actor))

    def sql(self, sql: str, actor: str, row_limit: int | None = None,
            timeout_seconds: float | None = None) -> tuple[pd.DataFrame, bool]:
        """Read-only SQL; returns the rows and whether they were cut at the row limit.

        `row_limit` and `timeout_seconds` can only lower the service's own limits.
        """
        body = {"sql": sql, "actor": actor, "row_limit": row_limit, "timeout_seconds": timeout_seconds}
        response = self._post("/v1/sql", body)
        return _frame(response), response.headers.get("x-truncated") == "true"

    def snapshot(self, actor: str) -> dict[str, Any]:
        """Ask the engine to write a consistent Parquet snapshot of every table; returns where and what."""
        result: dict[str, Any] = self._post("/v1/snapshot", {"actor": actor}, accept="application/json",
                                            idempotent=False).json()
        return result

    def queries(self) -> dict[str, Any]:
        """The named queries the engine serves, with their parameters."""
        data: dict[str, Any] = self._get("/v1/queries")
        return data

    def action(self, name: str, actor: str, /, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._post(f"/v1/actions/{name}", {"actor": actor, "params": params},
                                            accept="application/json", idempotent=False).json()
        return result

    def _get(self, path: str) -> Any:
        return self._send("GET", path, idempotent=True).json()

    def clock(self) -> tuple[datetime, bool]:
        """The engine's 'now' (naive UTC) and whether it is a simulated (demo) clock."""
        data = self._get("/v1/clock")
        return datetime.fromisoformat(data["now"]), bool(data["simulated"])

    def info(self) -> dict[str, Any]:
        """Agency name, time zone, refresh interval, watches and topics, as the engine was configured."""
        data: dict[str, Any] = self._get("/v1/info")
        return data

    def storage_state(self) -> dict[str, Any]:
        """Engine or read replica, the storage kind, and the lake's newest snapshot, its time and age (lag_seconds)."""
        data: dict[str, Any] = self._get("/v1/storage")
        return data


def _pause(state: RetryCallState) -> float:
    """A dropped keep-alive connection is replaced at once; a refused one gets a moment to come back."""
    error = state.outcome.exception() if state.outcome else None
    return RETRY_PAUSE_SECONDS if isinstance(error, NOT_SENT) else 0.0


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.info("storage service request failed (%s: %s); sending it once more", type(error).__name__, error)


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        try:
            message = response.json().get("error", response.text)
        except ValueError:
            message = response.text
        raise ServiceError(f"{response.status_code}: {message}", response.status_code)
    return response


def _frame(response: httpx.Response) -> pd.DataFrame:
    if response.headers.get("content-type", "").startswith(ARROW):
        return pa.ipc.open_stream(response.content).read_all().to_pandas()
    return pd.DataFrame(response.json())


# Where a dashboard sends its reads: a read replica's storage service (`civicradar serve`); unset, the engine.
READ_URL_ENV = "CIVICRADAR_READ_URL"


class SplitClient(StorageClient):
    """Reads (named queries, SQL, the query list, info, lag) go to a read replica; actions, snapshots and the clock
    go to the engine, the one writer (the clock too: a demo replay's simulated clock lives in the engine)."""

    def __init__(self, engine: StorageClient, reads: StorageClient) -> None:
        self._http, self._fresh, self.reads = engine._http, engine._fresh, reads

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        return self.reads.query(name, **params)

    def query_as(self, name: str, actor: str | None, /, **params: Any) -> pd.DataFrame:
        return self.reads.query_as(name, actor, **params)

    def sql(self, sql: str, actor: str, row_limit: int | None = None,
            timeout_seconds: float | None = None) -> tuple[pd.DataFrame, bool]:
        return self.reads.sql(sql, actor, row_limit, timeout_seconds)

    def queries(self) -> dict[str, Any]:
        return self.reads.queries()

    def info(self) -> dict[str, Any]:
        return self.reads.info()

    def storage_state(self) -> dict[str, Any]:
        return self.reads.storage_state()

    def close(self) -> None:
        super().close()
        self.reads.close()

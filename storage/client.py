"""Client of the storage service: DataFrames for the dashboard, never the database file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pandas as pd
import pyarrow as pa

ARROW = "application/vnd.apache.arrow.stream"
URL_ENV, TOKEN_ENV = "CIVICRADAR_SERVICE_URL", "CIVICRADAR_SERVICE_TOKEN"


class ServiceError(Exception):
    """The service refused or failed a request; the message is the service's own explanation."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class StorageClient:
    def __init__(self, url: str, token: str, timeout: float = 30.0):
        self._http = httpx.Client(
            base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, body: dict[str, Any], accept: str = ARROW) -> httpx.Response:
        try:
            return _checked(self._http.post(path, json=body, headers={"Accept": accept}))
        except httpx.HTTPError as e:
            raise ServiceError(f"the storage service at {self._http.base_url} is not reachable: {e}") from e

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        body = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}
        return _frame(self._post(f"/v1/query/{name}", body))

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
        result: dict[str, Any] = self._post("/v1/snapshot", {"actor": actor}, accept="application/json").json()
        return result

    def queries(self) -> dict[str, Any]:
        """The named queries the engine serves, with their parameters."""
        data: dict[str, Any] = self._get("/v1/queries")
        return data

    def action(self, name: str, actor: str, /, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._post(f"/v1/actions/{name}", {"actor": actor, "params": params},
                                            accept="application/json").json()
        return result

    def _get(self, path: str) -> Any:
        try:
            return _checked(self._http.get(path)).json()
        except httpx.HTTPError as e:
            raise ServiceError(f"the storage service at {self._http.base_url} is not reachable: {e}") from e

    def clock(self) -> tuple[datetime, bool]:
        """The engine's 'now' (naive UTC) and whether it is a simulated (demo) clock."""
        data = self._get("/v1/clock")
        return datetime.fromisoformat(data["now"]), bool(data["simulated"])

    def info(self) -> dict[str, Any]:
        """Agency name, time zone, refresh interval, watches and topics, as the engine was configured."""
        data: dict[str, Any] = self._get("/v1/info")
        return data


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

"""One client path for CLI commands: the running engine's storage service, or, when no engine answers, the database
opened by this process, behind the same interface (`Client`: query, action, clock, close).

`civicradar status`, `digest` and `forget` use `client_path`; what they do is the same either way, and `where` says
which it was. A service that answers with an error (a refused token, a bad parameter) is that error, not a reason to
open the file; an engine too busy to answer in time is not reachable, and the file it holds then refuses to open
with a StorageError that says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd

from storage import alert_store
from storage.actions import ACTIONS
from storage.client import ServiceUnreachable, StorageClient
from storage.db import Database, naive_utc
from storage.queries import QueryError, run_query


class Client(Protocol):
    def query(self, name: str, **params: Any) -> pd.DataFrame: ...

    def action(self, name: str, actor: str, /, **params: Any) -> dict[str, Any]: ...

    def clock(self) -> tuple[datetime, bool]: ...

    def close(self) -> None: ...


class LocalClient:
    """The storage client's interface on a database this process holds: the engine is stopped."""

    def __init__(self, db: Database, client: str = "cli") -> None:
        self.db, self.client = db, client

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        return run_query(self.db.reader(), name, params).to_pandas()

    def action(self, name: str, actor: str, /, **params: Any) -> dict[str, Any]:
        """The named action and its audit row in one transaction, as the service would run it."""
        chosen = ACTIONS.get(name)
        if chosen is None:
            raise QueryError(f"no action named {name!r}")
        bound = chosen.bind(name, params)
        audited = {**chosen.audit(bound), "service_client": self.client}
        result: dict[str, Any] = self.db.run_action(name, chosen.fn, actor, bound, audited)
        return result

    def clock(self) -> tuple[datetime, bool]:
        """The stopped engine's 'now': its clock at the last detection pass when that is later than the wall clock
        (a demo's simulated clock runs ahead), else the wall clock."""
        wall = naive_utc(datetime.now(UTC))
        last = alert_store.detect_cursor(self.db.reader())
        return (last, True) if last is not None and last > wall else (wall, False)

    def close(self) -> None:
        self.db.close()


@contextlib.contextmanager
def client_path(remote: Callable[[], StorageClient], open_db: Callable[[], Database],
                url: str) -> Iterator[tuple[Client, str]]:
    """(client, where): `remote()`, the service at `url`, if an engine answers there, else a LocalClient on
    `open_db()`; closed on leaving."""
    service = remote()
    if _answers(service):
        try:
            yield service, f"engine running, service at {url}"
        finally:
            service.close()
        return
    service.close()
    local = LocalClient(open_db())
    try:
        yield local, f"engine not running; read {local.db.path}"
    finally:
        local.close()


def _answers(service: StorageClient) -> bool:
    try:
        service.clock()
    except ServiceUnreachable:
        return False
    return True

"""What every page shares: the service client, cached named queries, role-checked actions, settings.

Pages get data only here (named queries through the storage service) and write only through `act`, which
checks the signed-in user's role in this server process before the service is called. The readers are wrapped in
`guard.loading`: when the engine does not answer, the page shows a short message and retries, never a traceback.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

import settings as settings_module
from core.pseudonyms import KEY_FILE, pseudonym
from dashboard.auth import Session
from dashboard.guard import loading
from settings import Settings
from storage import client as split
from storage.actions import ACTIONS
from storage.callers import DASHBOARD_CLIENT
from storage.client import TOKEN_ENV, URL_ENV, OutcomeUnknown, ServiceError, StorageClient
from storage.queries import QUERIES

SESSION_KEY = "civicradar_session"


@st.cache_resource
def _client(url: str, token: str) -> StorageClient:
    return StorageClient(url, token, client=DASHBOARD_CLIENT)


def client() -> StorageClient:
    """One client per service address and token for the whole server process; set by `civicradar run`."""
    missing = [name for name in (URL_ENV, TOKEN_ENV) if not os.environ.get(name)]
    if missing:
        raise ServiceError(f"{' and '.join(missing)} not set: start the dashboard with `civicradar run`")
    engine, reads = _client(os.environ[URL_ENV], os.environ[TOKEN_ENV]), os.environ.get(split.READ_URL_ENV, "")
    # [dashboard] read_url: reads from a read replica, actions still to the engine
    return split.SplitClient(engine, _client(reads, os.environ[TOKEN_ENV])) if reads else engine


@loading
def connect() -> StorageClient:
    """The client, or a clear message, a stopped page and a retry when the engine cannot be reached."""
    c = client()
    c.clock()
    return c


@st.cache_resource
def _settings(path: str, mtime: float) -> Settings:
    return settings_module.load(path)


def settings() -> Settings:
    """The settings file the engine runs with (`CIVICRADAR_SETTINGS`, else ./settings.toml)."""
    path = Path(os.environ.get("CIVICRADAR_SETTINGS", settings_module.DEFAULT_PATH)).resolve()
    return _settings(str(path), path.stat().st_mtime if path.exists() else 0.0)


def session() -> Session:
    """The signed-in user; app.py admits no one else, so a page run without one stops here."""
    current = st.session_state.get(SESSION_KEY)
    if not isinstance(current, Session) or current.expired:
        st.info("Please sign in.")
        st.stop()
    return current


def require(capability: str) -> Session:
    user = session()
    if not user.can(capability):
        st.error(f"Your role ({user.role}) does not allow this page.")
        st.stop()
    return user


@st.cache_data(ttl=60, show_spinner=False)
def _info(url: str) -> dict[str, Any]:
    return client().info()


@loading
def info() -> dict[str, Any]:
    return _info(os.environ.get(URL_ENV, ""))


@loading
def now() -> tuple[datetime, bool]:
    """The engine's clock, rounded down to the refresh interval so concurrent viewers share cached results."""
    moment, simulated = client().clock()
    step = max(int(info().get("refresh_seconds", 5)), 1)
    return moment - timedelta(seconds=moment.second % step, microseconds=moment.microsecond), simulated


@st.cache_data(ttl=30, show_spinner=False, max_entries=500)
def _query(url: str, name: str, params: dict[str, Any], reader: str) -> pd.DataFrame:
    return client().query_as(name, reader or None, **params)


@loading
def query(name: str, **params: Any) -> pd.DataFrame:
    """A named query through the service, cached briefly (keyed by the service and the parameters). The queries
    that return personal data (`Query.roles`) are read as the signed-in user, whose role the service checks."""
    reader = session().username if QUERIES[name].roles is not None else ""
    return _query(os.environ.get(URL_ENV, ""), name, params, reader)


def act(name: str, /, **params: Any) -> dict[str, Any] | None:
    """Take a named action as the signed-in user, if the role allows it; shows the outcome on failure."""
    user = session()
    action = ACTIONS.get(name)
    if action is None or user.role not in action.roles:
        st.error(f"Your role ({user.role}) may not {name.replace('_', ' ')}.")
        return None
    try:
        result = client().action(name, user.username, **params)
    except OutcomeUnknown as e:  # sent, but no answer: saying "not done" could be wrong
        _query.clear()
        st.warning(f"No answer from the engine: {e}")
        return None
    except ServiceError as e:
        st.error(f"Not done: {e}")
        return None
    _query.clear()
    return result


def run_sql(text: str, row_limit: int, timeout_seconds: float) -> tuple[pd.DataFrame, bool] | None:
    """Analysts' read-only SQL as the signed-in user (role checked here); None with a message if refused."""
    user = session()
    if not user.can("sql"):
        st.error(f"Your role ({user.role}) may not run SQL.")
        return None
    try:
        return client().sql(text, user.username, row_limit=row_limit, timeout_seconds=timeout_seconds)
    except ServiceError as e:
        st.error(f"The query did not run: {e}")
        return None


def flash(message: str) -> None:
    """Rerun so the page shows the new state, with `message` on top (see `show_flash`)."""
    st.session_state["civicradar_flash"] = message
    st.rerun()


def show_flash() -> None:
    if message := st.session_state.pop("civicradar_flash", None):
        st.success(message)


def pseudonymise(frame: pd.DataFrame, user: Session) -> pd.DataFrame:
    """Replace author handles with stable pseudonyms for roles that do not need them (when configured).

    The pseudonym is retention's (`core.pseudonyms`, keyed by `pseudonym.key` beside the database, not the service
    token): of the author id where the frame has one, so an author keeps the name retention gives their old posts;
    else of the handle.
    """
    s = settings()
    if "author_handle" not in frame or not s.retention.pseudonymise_handles or user.role in s.dashboard.handles_roles:
        return frame
    key = s.local_secret(KEY_FILE).encode()
    ids = frame["author_id"] if "author_id" in frame else pd.Series(None, index=frame.index, dtype=object)

    def alias(handle: object, author_id: object) -> object:
        if not isinstance(handle, str) or not handle:
            return handle
        return pseudonym(key, author_id if isinstance(author_id, str) and author_id else handle)

    return frame.assign(author_handle=[alias(h, a) for h, a in zip(frame["author_handle"], ids, strict=True)])


def text(value: object) -> str | None:
    """A text cell, or None for SQL NULL (which arrives as None or NaN)."""
    return value if isinstance(value, str) and value else None


def clock_caption(now: datetime, simulated: bool) -> str:
    label = "simulated demo clock" if simulated else "engine clock"
    return f"As of {now:%a %d %b %Y, %H:%M} UTC ({label})"

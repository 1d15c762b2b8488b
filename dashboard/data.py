"""Small cached helpers every page shares: the service client and the engine's clock."""

from __future__ import annotations

import os
from datetime import datetime

import streamlit as st

from storage.client import TOKEN_ENV, URL_ENV, ServiceError, StorageClient


@st.cache_resource
def _client(url: str, token: str) -> StorageClient:
    return StorageClient(url, token)


def client() -> StorageClient:
    """One client per service address and token for the whole server process; set by `civicradar run`."""
    missing = [name for name in (URL_ENV, TOKEN_ENV) if not os.environ.get(name)]
    if missing:
        raise ServiceError(f"{' and '.join(missing)} not set: start the dashboard with `civicradar run`")
    return _client(os.environ[URL_ENV], os.environ[TOKEN_ENV])


def connect() -> StorageClient:
    """The client, or a clear message and a stopped page when the engine cannot be reached."""
    try:
        c = client()
        c.clock()
    except ServiceError as e:
        st.info(f"The CivicRadar engine is not reachable: {e}")
        st.stop()
    return c


def clock_caption(now: datetime, simulated: bool) -> str:
    label = "simulated demo clock" if simulated else "engine clock"
    return f"As of {now:%a %d %b %Y, %H:%M} UTC ({label})"

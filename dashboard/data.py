"""Small cached helpers every page shares: the service client and the engine's clock."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from storage.client import ServiceError, StorageClient


@st.cache_resource
def client() -> StorageClient:
    return StorageClient.from_env()


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

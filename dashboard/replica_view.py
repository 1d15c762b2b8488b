"""The Sources page's storage line: where the dashboard's reads come from (the engine or a read replica) and, on
the lake, the newest snapshot they see and its age: the replica's lag behind the engine's last commit."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.data import client
from storage.client import ServiceError

LAG_NOTE = ("Lag: the age of the newest lake snapshot these reads see, i.e. the time since the engine last "
            "committed. A replica sees each commit as soon as it is made; a lag that keeps growing while sources "
            "run means the engine has stopped writing.")


@st.cache_data(ttl=5, show_spinner=False)
def _state(url: str) -> dict[str, Any]:
    return client().storage_state()


def show(url: str) -> None:
    """The storage metrics, or nothing for the embedded DuckDB file; a failure is a caption, never the page's end."""
    try:
        state = _state(url)
    except ServiceError as e:
        st.caption(f"Storage state not available: {str(e)[:200]}")
        return
    if state.get("snapshot_id") is None:
        return
    st.subheader("Storage")
    cols = st.columns(3)
    cols[0].metric("Reads from", "a read replica" if state.get("role") == "replica" else "the engine")
    cols[1].metric("Newest snapshot", f"{state['snapshot_id']}", help=f"{state['snapshot_at']} UTC")
    cols[2].metric("Lag", f"{float(state['lag_seconds']):.1f} s")
    st.caption(LAG_NOTE)

"""The SQL page's parts: the schema beside the editor, saved views, and snapshots for analysts' own DuckDB."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard.data import act, client, flash, query, session, text
from dashboard.exports import Recorder, download_buttons
from storage.actions import ACTIONS
from storage.client import ServiceError, StorageClient

EXAMPLE = """SELECT platform, date_trunc('hour', created_at) AS hour, count(*) AS posts
FROM posts
GROUP BY ALL
ORDER BY hour DESC
LIMIT 100"""


def schema_panel() -> None:
    columns = query("schema_columns")
    st.markdown("**Schema**")
    for table, group in columns.groupby("table_name", sort=True):
        with st.expander(f"{table} ({len(group)})"):
            st.dataframe(group[["column_name", "data_type"]], hide_index=True, width="stretch")


@dataclass(frozen=True)
class Result:
    """A query's rows as this page shows them; `view` is the saved view's name, None for the editor's query."""

    frame: pd.DataFrame
    truncated: bool
    sql: str
    view: str | None = None

    @property
    def label(self) -> str:
        return self.view or "query"


def result_panel(key: str) -> None:
    """The last result of this page (kept across reruns, so downloading does not lose it)."""
    result = st.session_state.get(key)
    if not isinstance(result, Result):
        return
    note = " (cut at the row limit)" if result.truncated else ""
    st.caption(f"{result.label}: {len(result.frame):,} rows{note}")
    st.dataframe(result.frame, hide_index=True, width="stretch", height=360)
    user = session()
    if user.role not in ACTIONS["download"].roles:
        st.caption(f"Your role ({user.role}) may not download results.")
        return
    download_buttons(result.frame, result.label.replace(" ", "_"), key=f"{key}-dl",
                     record=download_recorder(client(), user.username, result))


def download_recorder(service: StorageClient, actor: str, result: Result) -> Recorder:
    """Records a download in the audit log as `actor`, whose role was checked when the buttons were drawn.

    It runs on Streamlit's download thread, where the session (and so `dashboard.data.act`) cannot be reached:
    the client and the user are taken while the page runs.
    """

    def record(fmt: str, rows: int) -> None:
        service.action("download", actor, view=result.view, sql=result.sql, format=fmt, rows=rows)

    return record


def saved_views(run: Callable[[str, str | None], None]) -> None:
    views = query("saved_views")
    if views.empty:
        st.caption("No saved views yet: run a query, then save it as a view (above).")
        return
    name = st.selectbox("Saved view", views["name"], key="view-pick")
    view = views.set_index("name").loc[name]
    st.code(view["sql"], language="sql")
    st.caption(f"{text(view['description']) or 'no description'} · saved by {view['owner']} · "
               f"{view['updated_at']:%d %b %Y %H:%M}")
    left, right = st.columns(2)
    if left.button("Run view", icon=":material/play_arrow:"):
        run(view["sql"], name)
        st.rerun()  # the result panel above shows it
    if right.button("Delete view", icon=":material/delete:") and act("view_delete", name=name):
        flash(f"Deleted view {name}.")


def save_form(sql: str) -> None:
    with st.form("save-view", clear_on_submit=True):
        a, b = st.columns([1, 2])
        name = a.text_input("Save this query as a view named")
        description = b.text_input("Description")
        if st.form_submit_button("Save view") and name and act("view_save", name=name, sql=sql,
                                                                description=description or None):
            flash(f"Saved view {name}.")


def snapshot_panel() -> None:
    st.markdown("**Snapshot for your own DuckDB**: every table as Parquet, copied in one transaction.")
    if st.button("Write a snapshot", icon=":material/inventory_2:"):
        try:
            result = client().snapshot(session().username)
        except ServiceError as e:
            st.error(f"No snapshot: {e}")
            return
        st.success(f"Snapshot written on the engine's machine: `{result['path']}`")
        st.code(f"cd {result['path']} && duckdb analysis.duckdb < load.sql", language="bash")
        st.json(result["tables"], expanded=False)

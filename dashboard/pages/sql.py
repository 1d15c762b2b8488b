"""SQL and exports (analysts): read-only SQL beside the schema, row and time limits, downloads, views, snapshots."""

import streamlit as st

from dashboard import analyst
from dashboard.data import connect, info, require, run_sql, show_flash

require("sql")
connect()
meta = info()
max_rows, max_seconds = int(meta.get("sql_row_limit", 10_000)), float(meta.get("sql_timeout_seconds", 10.0))
RESULT = "sql-result"
st.title("SQL and exports")
show_flash()


def run(text: str, view: str | None) -> None:
    ran = run_sql(text, int(st.session_state.get("row-limit", max_rows)),
                  float(st.session_state.get("time-limit", max_seconds)))
    if ran is not None:
        st.session_state[RESULT] = analyst.Result(*ran, sql=text, view=view)


editor, schema = st.columns([3, 1])
with editor:
    sql = st.text_area("Read-only SQL (one SELECT; DuckDB dialect)", analyst.EXAMPLE, height=180, key="sql-text")
    a, b, c = st.columns([1, 1, 1])
    a.number_input("Row limit", 1, max_rows, max_rows, step=100, key="row-limit")
    b.number_input("Time limit (s)", 1.0, max_seconds, max_seconds, step=1.0, key="time-limit")
    c.write("")
    if c.button("Run query", type="primary", icon=":material/play_arrow:"):
        run(sql, None)
    analyst.result_panel(RESULT)
    analyst.save_form(sql)
with schema:
    analyst.schema_panel()

st.divider()
views, snap = st.columns(2)
with views:
    st.subheader("Saved views")
    analyst.saved_views(run)
with snap:
    st.subheader("Snapshot")
    analyst.snapshot_panel()

"""Admin: dashboard users and roles, the settings the engine runs with, and the audit log."""

import streamlit as st

from dashboard import useradmin
from dashboard.data import connect, query, require, settings, show_flash
from storage.actions import ACTIONS

AUDITED = sorted({*ACTIONS, "sql", "snapshot"})  # named actions, and what the service records itself

require("admin")
connect()
st.title("Admin")
show_flash()
useradmin.new_password_notice()

st.subheader("Users")
useradmin.users_table()
left, right = st.columns(2)
with left:
    useradmin.add_form()
with right:
    useradmin.change_form()
st.caption("Roles: viewer reads; comms works alerts and the rumour register; analyst runs SQL and exports; "
           "admin does everything and manages users. A change applies at the user's next page load.")

st.subheader("Settings")
st.caption(f"Read from `{settings().file}`. Edit that file and restart CivicRadar to change them; secrets appear "
           "only as the names of the environment variables that hold them.")
st.json(settings().model_dump(mode="json", exclude={"file"}), expanded=False)

st.subheader("Audit log")
who, what = st.columns(2)
actor = who.text_input("Only this user (blank: everyone)")
action = what.selectbox("Only this action", ["(all)", *AUDITED], help="download: a file downloaded from the "
                        "SQL page (the view or query, format and rows are in details); sql: a query run")
st.dataframe(query("audit_log", actor=actor or None, action=None if action == "(all)" else action, limit=500),
             hide_index=True, width="stretch")

"""The Admin page's user management: the users file, changed only by admins, each change audited."""

from __future__ import annotations

import streamlit as st

from dashboard.auth import ROLES, AuthError
from dashboard.data import act, flash
from dashboard.signin import store

OPS = {"role": "Change role", "disable": "Disable", "enable": "Enable", "reset": "Reset password",
       "remove": "Remove"}


def users_table() -> None:
    users = store().users().values()
    st.dataframe([{"user": u.username, "name": u.name, "role": u.role, "email": u.email,
                   "disabled": u.disabled, "password": "set" if u.password else "SSO only"} for u in users],
                 hide_index=True, width="stretch")


def add_form() -> None:
    with st.form("add-user", clear_on_submit=True):
        st.markdown("**Add a user** (a password is generated and shown once)")
        a, b, c, d = st.columns(4)
        username, name = a.text_input("User name"), b.text_input("Display name")
        email, role = c.text_input("E-mail (for single sign-on)"), d.selectbox("Role", ROLES)
        if st.form_submit_button("Add user", type="primary") and username:
            try:
                password = store().add(username.strip(), role, name=name, email=email.strip())
            except AuthError as e:
                st.error(str(e))
                return
            act("user_change", username=username, change=f"added as {role}")
            st.session_state["new-password"] = (username, password)
            st.rerun()  # the notice at the top of the page shows the password once


def new_password_notice() -> None:
    if found := st.session_state.pop("new-password", None):
        st.success(f"Password for **{found[0]}** (shown only now; hand it over safely):")
        st.code(found[1], language=None)


def change_form() -> None:
    users = sorted(store().users())
    with st.form("change-user"):
        st.markdown("**Change a user**")
        a, b, c = st.columns(3)
        username = a.selectbox("User", users)
        op = b.selectbox("Change", list(OPS), format_func=lambda key: OPS[key]) or "role"
        role = c.selectbox("New role (for a role change)", ROLES) or "viewer"
        if st.form_submit_button("Apply") and username:
            _apply(username, op, role)


def _apply(username: str, op: str, role: str) -> None:
    try:
        if op == "reset":
            st.session_state["new-password"] = (username, store().reset_password(username))
        elif op == "remove":
            store().remove(username)
        else:
            store().update(username, role=role if op == "role" else None,
                           disabled={"disable": True, "enable": False}.get(op))
    except AuthError as e:
        st.error(str(e))
        return
    act("user_change", username=username, change=OPS[op].lower() + (f" to {role}" if op == "role" else ""))
    flash(f"{OPS[op]}: done for {username}.")

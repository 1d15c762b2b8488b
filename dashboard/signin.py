"""The sign-in gate app.py runs before any page: password form (rate-limited), optional single sign-on, expiry."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import streamlit as st

from dashboard.auth import Session as UserSession
from dashboard.auth import SignInLimiter, User, UserStore, check_password, refresh, start_session
from dashboard.data import SESSION_KEY, client, settings
from storage.client import ServiceError

log = logging.getLogger("civicradar.dashboard")


@st.cache_resource
def user_store(path: str) -> UserStore:
    return UserStore(Path(path))


@st.cache_resource
def limiter(attempts: int, window_minutes: float) -> SignInLimiter:
    """One limiter for the whole server process: reloading the page does not reset it."""
    return SignInLimiter(attempts, window_minutes * 60)


def store() -> UserStore:
    s = settings()
    return user_store(str(s.path(s.dashboard.users_file)))


def gate() -> UserSession:
    """The signed-in user, or the sign-in screen and a stopped script."""
    s = settings().dashboard
    current = st.session_state.get(SESSION_KEY)
    if isinstance(current, UserSession):
        still = refresh(current, store(), s.sso_default_role)
        if still is not None:
            st.session_state[SESSION_KEY] = still
            return still
        del st.session_state[SESSION_KEY]
        st.session_state["signin_notice"] = "Your session has ended; please sign in again."
        if current.via == "sso":
            st.logout()
    if s.sso_provider and st.user.is_logged_in:
        return _sso(s.sso_default_role, s.session_minutes)

    def sign_in() -> None:
        with st.columns([1, 2, 1])[1]:
            st.title("CivicRadar")
            if notice := st.session_state.pop("signin_notice", None):
                st.info(notice)
            if s.sso_provider:
                st.button("Sign in with single sign-on", on_click=st.login,
                          args=(None if s.sso_provider == "default" else s.sso_provider,))
            _password_form(s.signin_attempts, s.signin_window_minutes, s.session_minutes)

    # Navigation holds the sign-in page alone: without it, Streamlit would list dashboard/pages/ to anyone
    st.navigation([st.Page(sign_in, title="Sign in", icon=":material/login:")], position="hidden").run()
    st.stop()
    raise AssertionError("unreachable")


def _password_form(attempts: int, window_minutes: float, minutes: float) -> None:
    with st.form("signin"):
        username = st.text_input("User name", autocomplete="username").strip()
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    keys = (f"user:{username.lower()}", f"ip:{st.context.ip_address or 'unknown'}")
    wait = limiter(attempts, window_minutes).wait_seconds(*keys)
    if wait > 0:
        st.error(f"Too many failed sign-ins. Try again in {math.ceil(wait / 60)} minute(s).")
        return
    user = store().get(username)
    if not check_password(user, password) or user is None:
        limiter(attempts, window_minutes).failed(*keys)
        log.warning("failed sign-in for %r from %s", username, keys[1])
        _audit(username or "(empty)", "sign_in_failed", client=keys[1].removeprefix("ip:"))
        st.error("Wrong user name or password.")
        return
    limiter(attempts, window_minutes).succeeded(keys[0])
    st.session_state[SESSION_KEY] = start_session(user, minutes)
    _record(user.username, "password")
    st.rerun()


def _sso(default_role: str, minutes: float) -> UserSession:
    """Signed in through Streamlit's st.login (OpenID Connect); the role comes from the users file."""
    email = str(st.user.get("email") or "")
    user = store().by_email(email) if email else None
    role = user.role if user is not None and not user.disabled else ("" if user is not None else default_role)
    if not role:
        st.error(f"{email or 'This account'} has no CivicRadar role. Ask an administrator to add you.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    who = user or User(username=email, role=role, name=str(st.user.get("name") or email), email=email)
    session = start_session(who, minutes, via="sso")
    st.session_state[SESSION_KEY] = session
    _record(who.username, "sso")
    return session


def _record(username: str, via: str) -> None:
    log.info("%s signed in (%s)", username, via)
    _audit(username, "sign_in", via=via)


def _audit(username: str, action: str, **params: str) -> None:
    """Sign-ins and failed ones go to the audit log; an unreachable engine must not keep anyone out."""
    try:
        client().action(action, username, **params)
    except ServiceError as e:
        log.warning("%s of %s not audited: %s", action, username, e)


def sign_out() -> None:
    current = st.session_state.pop(SESSION_KEY, None)
    if isinstance(current, UserSession) and current.via == "sso":
        st.logout()

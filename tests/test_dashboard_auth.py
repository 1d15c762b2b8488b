"""Sign-in, roles, sessions and the users file: the store, the rate limit, and app.py's gate under AppTest."""

import os
import stat
import time

import pytest
from dashboard_seed import PASSWORDS, ROOT, audit, dash_fixture  # noqa: F401
from streamlit.testing.v1 import AppTest

import jobs
from dashboard.auth import CAN, AuthError, SignInLimiter, UserStore, check_password, ensure_admin, refresh
from dashboard.data import SESSION_KEY


@pytest.fixture
def store(tmp_path):
    return UserStore(tmp_path / "users.yaml")


def test_passwords_are_hashed_and_the_file_is_private(store):
    password = store.add("ana", "analyst", name="Ana", rounds=4)
    text = store.path.read_text()
    assert password not in text and "$2b$04$" in text
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    user = store.get("ana")
    assert check_password(user, password) and not check_password(user, password + "x")
    assert not check_password(None, password)


def test_roles_and_the_last_admin(store):
    store.add("boss", "admin", rounds=4)
    store.add("cara", "comms", rounds=4)
    with pytest.raises(AuthError, match="unknown role"):
        store.add("x", "superuser", rounds=4)
    with pytest.raises(AuthError, match="already exists"):
        store.add("cara", "viewer", rounds=4)
    with pytest.raises(AuthError, match="no active admin"):
        store.update("boss", role="viewer")
    with pytest.raises(AuthError, match="no active admin"):
        store.remove("boss")
    store.update("cara", role="admin")
    store.update("boss", disabled=True)
    assert not check_password(store.get("boss"), "anything")
    assert CAN["viewer"] == {"read"} and "sql" in CAN["analyst"] and "work_alerts" not in CAN["analyst"]


def test_first_start_creates_one_admin_with_a_generated_password(store):
    password = ensure_admin(store)
    assert password and len(password) >= 16 and store.get("admin").role == "admin"
    assert check_password(store.get("admin"), password)
    assert ensure_admin(store) is None  # only when there are no users at all


def test_limiter_blocks_after_failures_and_forgets_them():
    limiter = SignInLimiter(attempts=2, window_seconds=0.3)
    assert limiter.wait_seconds("user:a", "ip:1") == 0
    limiter.failed("user:a", "ip:1")
    limiter.failed("user:a", "ip:1")
    assert limiter.wait_seconds("user:a") > 0 and limiter.wait_seconds("user:b", "ip:1") > 0
    time.sleep(0.35)
    assert limiter.wait_seconds("user:a", "ip:1") == 0


def test_sessions_expire_and_follow_the_users_file(store):
    from dashboard.auth import start_session

    store.add("boss", "admin", rounds=4)
    store.add("cara", "comms", rounds=4)
    session = start_session(store.get("cara"), minutes=1)
    assert refresh(session, store).role == "comms"
    store.update("cara", role="viewer")
    assert refresh(session, store).role == "viewer"
    store.update("cara", disabled=True)
    assert refresh(session, store) is None
    assert refresh(start_session(store.get("boss"), minutes=-1), store) is None


def test_users_command(tmp_path, capsys):
    settings = tmp_path / "settings.toml"
    settings.write_text('[dashboard]\nusers_file = "users.yaml"\n')
    assert jobs.main(["--settings", str(settings), "users", "add", "dan", "--role", "comms"]) == 0
    password = capsys.readouterr().out.split("password: ")[1].strip()
    assert check_password(UserStore(tmp_path / "users.yaml").get("dan"), password)
    assert jobs.main(["--settings", str(settings), "users", "list"]) == 0
    assert "dan\tcomms" in capsys.readouterr().out
    assert jobs.main(["--settings", str(settings), "users", "add", "eve"]) == 2
    assert "needs --role" in capsys.readouterr().err


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def test_nothing_before_sign_in(dash):
    at = app().run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert not at.metric and not at.dataframe


def test_sign_in_shows_the_overview_and_only_the_allowed_pages(dash):
    _, db = dash
    at = sign_in(app().run(), "viewer", PASSWORDS["viewer"])
    assert not at.exception
    assert at.session_state[SESSION_KEY].role == "viewer"
    assert "Test County: overview" in at.title[0].value
    assert audit(db, "sign_in")[0][0] == "viewer"
    assert registered(at) == VIEWER_PAGES
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not registered: not reachable
        at.switch_page("pages/sql.py")


VIEWER_PAGES = ["Overview", "Incidents", "Alerts", "Inbox", "Touchpoints", "Narratives and fact-checks", "Responses",
                "Explore posts", "Sources"]


def registered(at: AppTest) -> list[str]:
    return [page["page_name"] for page in at._registered_pages.values()]


@pytest.mark.parametrize("role, extra", [("comms", []), ("analyst", ["SQL and exports"]),
                                         ("admin", ["SQL and exports", "Admin"])])
def test_each_role_gets_its_pages(dash, role, extra):
    at = sign_in(app().run(), role, PASSWORDS[role])
    assert registered(at)[len(VIEWER_PAGES):] == extra


def test_analyst_reaches_sql_but_not_admin(dash):
    at = sign_in(app().run(), "analyst", PASSWORDS["analyst"])
    at.switch_page("pages/sql.py").run()
    assert not at.exception and at.title[0].value == "SQL and exports"


def test_wrong_password_then_rate_limit(dash):
    at = app().run()
    for _ in range(3):
        sign_in(at, "comms", "wrong")
        assert at.error[0].value == "Wrong user name or password."
    sign_in(at, "comms", PASSWORDS["comms"])  # right password, but this user name is locked for a while
    assert "Too many failed sign-ins" in at.error[0].value
    assert SESSION_KEY not in at.session_state
    _, db = dash
    assert [actor for actor, _ in audit(db, "sign_in_failed")] == ["comms"] * 3  # failures are audited too


def test_expired_session_returns_to_sign_in(dash):
    at = sign_in(app().run(), "admin", PASSWORDS["admin"])
    session = at.session_state[SESSION_KEY]
    expired = type(session)(session.username, session.name, session.role, time.time() - 1)
    at.session_state[SESSION_KEY] = expired
    at.run()  # AppTest reruns only the page a navigation finished on: the page itself refuses
    assert not at.exception and at.info[0].value == "Please sign in." and not at.metric
    fresh = app()
    fresh.session_state[SESSION_KEY] = expired
    fresh.run()  # a real rerun starts at app.py, whose gate ends the session
    assert "session has ended" in fresh.info[0].value and fresh.text_input[0].label == "User name"
    assert SESSION_KEY not in fresh.session_state


def test_sign_out(dash):
    at = sign_in(app().run(), "comms", PASSWORDS["comms"])
    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert SESSION_KEY not in at.session_state and not at.metric


def test_first_start_prints_the_admin_password_once(tmp_path):
    from dashboard.users_cli import first_admin_line

    settings_file = tmp_path / "settings.toml"
    settings_file.write_text('[dashboard]\nusers_file = "users.yaml"\n')
    s = jobs.settings_module.load(settings_file)
    line = first_admin_line(s)
    password = line.split("password ")[1].split(" ")[0]
    assert check_password(UserStore(tmp_path / "users.yaml").get("admin"), password)
    assert password not in (tmp_path / "users.yaml").read_text()
    assert first_admin_line(s) is None


def test_before_sign_in_no_page_is_registered(dash):
    at = app().run()
    assert registered(at) == ["Sign in"]  # not the files of dashboard/pages/, which Streamlit would list itself
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/admin.py")

"""Every dashboard page, run by Streamlit's AppTest against the real storage service on seeded data."""

from dashboard_seed import ROOT, audit, dash_fixture, details, frame_with, page, texts  # noqa: F401
from streamlit.testing.v1 import AppTest

from helpers import free_port
from storage.client import TOKEN_ENV, URL_ENV


def test_overview_tiles_charts_and_rising_topics(dash):
    at = page("overview", "viewer").run()
    assert not at.exception
    assert "Test County: overview" in texts(at)
    metrics = {m.label: m for m in at.metric}
    # 5-minute resolution: the buckets from NOW - 55 min (posts every 10 min: NOW - 50 ... NOW - 10)
    assert metrics["Posts in the last hour"].value == "5"
    assert metrics["Negative share (last hour)"].value == "20%"  # 1 of 5 (sentiments cycle)
    assert {"Open incidents", "Median time to acknowledge", "Within target", "Change vs usual"} <= set(metrics)
    assert len(at.get("vega_lite_chart")) == 4  # volume, sentiment, mood heatmap, rising topics
    claims = frame_with(at, "claim_id")
    assert list(claims["claim_id"]) == ["REG-1"]


def test_overview_by_topic_and_window(dash):
    at = page("overview", "viewer").run()
    at.get("button_group")[1].set_value("topic").run()
    assert not at.exception
    assert "Volume by topic" in texts(at)
    at.get("button_group")[0].set_value(6).run()
    assert not at.exception


def test_pages_explain_an_unreachable_engine(dash, monkeypatch):
    monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv(TOKEN_ENV, "x")
    for name in ("overview", "explore", "sources", "narratives", "sql", "admin", "alerts"):
        at = page(name, "admin").run()
        assert not at.exception, name
        assert "not reachable" in at.warning[0].value and "tries again" in at.warning[0].value, name


def test_a_page_without_a_signed_in_user_shows_nothing(dash):
    at = AppTest.from_file(str(ROOT / "dashboard" / "pages" / "explore.py"), default_timeout=60).run()
    assert not at.exception
    assert [i.value for i in at.info] == ["Please sign in."] and not at.dataframe


def test_explore_filters_opens_a_post_and_marks_a_label_wrong(dash):
    _, db = dash
    at = page("explore", "comms").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 144
    at.multiselect[3].set_value(["negative"])
    at.slider[0].set_value(0.5)
    at.button[0].click().run()  # Search
    found = at.dataframe[0].value
    assert len(found) == 10 and set(found["sentiment"]) == {"negative"}
    assert (found["misinfo_score"] >= 0.5).all()
    labels = at.dataframe[1].value
    assert list(labels["label"]) == ["sentiment", "topics", "misinfo", "claim_match", "lang"]
    assert "Matches known claim** REG-1" in texts(at)
    form = next(s for s in at.selectbox if s.label == "Label")
    form.set_value("sentiment")
    next(t for t in at.text_input if t.label == "Right value (optional)").input("neutral")
    next(b for b in at.button if b.label == "Mark wrong").click().run()
    assert not at.exception
    assert "marked wrong" in at.success[0].value
    row = db.reader().execute("SELECT label, correct_value, actor FROM label_feedback").fetchall()
    assert row == [("sentiment", "neutral", "comms")]
    assert audit(db, "label_feedback")[0][0] == "comms"


def test_viewers_cannot_mark_labels_wrong(dash):
    at = page("explore", "viewer").run()
    assert not at.exception
    assert not [b for b in at.button if b.label == "Mark wrong"]


def test_explore_text_search_and_empty_result(dash):
    at = page("explore", "viewer").run()
    at.text_input[0].input("number 14 ")
    at.button[0].click().run()
    assert not at.exception
    assert len(at.dataframe[0].value) >= 1
    at.text_input[0].input("no such words anywhere")
    at.button[0].click().run()
    assert "No posts match" in at.info[0].value


def test_sources_health_spend_and_errors(dash):
    at = page("sources", "viewer").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["source"]) == {"demo", "x_search", "reddit"}
    x = table.set_index("source").loc["x_search"]
    assert x["spend (USD)"] == 12.5 and x["cap (USD)"] == 50.0 and x["waited s (24 h)"] == 30
    assert table.set_index("source").loc["reddit", "rate-limit waits (24 h)"] == 1 and x["rate-limit waits (24 h)"] == 2
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Failing now"] == "1" and metrics["Rate-limit waits (24 h)"] == "3"
    assert metrics["Posts collected (24 h)"] == "184"  # demo 144 + x_search 40
    assert "x_search: $12.50 of $50.00 cap" in at.get("progress")[0].proto.text
    assert "RateLimited" in at.dataframe[1].value["error"].iloc[0]


def test_narratives_claims_matches_and_register_edits(dash):
    _, db = dash
    at = page("narratives", "comms").run()
    assert not at.exception
    assert "Emerging narratives" in texts(at)
    matches = frame_with(at, "factcheck_url")
    assert set(matches["claim_id"]) == {"REG-1"} and matches["factcheck_url"].iloc[0].startswith("https://")
    assert matches["author_handle"].isna().all()
    register = frame_with(at, "source")
    assert list(register["claim_id"]) == ["REG-1"]
    at.text_area[0].input("Hot baths prevent the virus. Official fact: they do not.")
    at.button[0].click().run()  # Save entry (new)
    assert not at.exception
    new_id = db.reader().execute("SELECT claim_id FROM claims WHERE text LIKE 'Hot baths%'").fetchone()[0]
    assert new_id.startswith("REG-") and new_id in at.success[0].value
    at.selectbox[0].set_value("REG-1").run()
    next(b for b in at.button if b.label.startswith("Remove REG-1")).click().run()
    assert not at.exception
    assert db.reader().execute("SELECT count(*) FROM claims WHERE claim_id = 'REG-1'").fetchone() == (0,)
    assert [row[0] for row in audit(db, "register_save")] == ["comms"]
    assert details(audit(db, "register_remove")[0]) == {"claim_id": "REG-1", "service_client": "dashboard"}


def test_viewers_read_the_register_but_cannot_edit(dash):
    at = page("narratives", "viewer").run()
    assert not at.exception
    assert not at.text_area and "can read the register" in texts(at)


def test_sql_runs_limits_downloads_and_saves_views(dash):
    _, db = dash
    at = page("sql", "analyst").run()
    assert not at.exception
    assert "posts (20)" in [e.label for e in at.expander]
    at.text_area[0].input("SELECT platform, count(*) AS n FROM posts GROUP BY ALL ORDER BY platform")
    next(b for b in at.button if b.label == "Run query").click().run()
    assert not at.exception
    result = at.dataframe[0].value
    assert list(result["platform"]) == ["bluesky", "x"] and list(result["n"]) == [72, 72]
    assert {b.label for b in at.get("download_button")} >= {"Download CSV", "Download Parquet", "Download XLSX"}
    at.number_input[0].set_value(5)
    at.text_area[0].input("SELECT * FROM range(100)")
    next(b for b in at.button if b.label == "Run query").click().run()
    assert len(at.dataframe[0].value) == 5 and "cut at the row limit" in texts(at)
    at.text_input[0].input("hundred")
    next(b for b in at.button if b.label == "Save view").click().run()
    assert not at.exception
    assert db.reader().execute("SELECT name, owner FROM saved_views").fetchall() == [("hundred", "analyst")]
    next(b for b in at.button if b.label == "Run view").click().run()
    assert not at.exception and "hundred: 5 rows" in texts(at)


def test_sql_refuses_writes_with_the_reason(dash):
    at = page("sql", "analyst").run()
    at.text_area[0].input("DELETE FROM posts")
    next(b for b in at.button if b.label == "Run query").click().run()
    assert not at.exception
    assert "only read queries" in at.error[0].value


def test_sql_page_refuses_other_roles(dash):
    for role in ("viewer", "comms"):
        at = page("sql", role).run()
        assert not at.exception
        assert "does not allow this page" in at.error[0].value and not at.text_area


def test_snapshot_from_the_sql_page(dash, tmp_path):
    at = page("sql", "analyst").run()
    next(b for b in at.button if b.label == "Write a snapshot").click().run()
    assert not at.exception
    assert "Snapshot written" in at.success[0].value


def test_admin_adds_changes_and_removes_users(dash, tmp_path):
    _, db = dash
    at = page("admin", "admin").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 5  # a user per role
    add = at.text_input
    add[0].input("newcomer")
    add[1].input("New Comer")
    at.selectbox[0].set_value("comms")
    next(b for b in at.button if b.label == "Add user").click().run()
    assert not at.exception
    assert "Password for **newcomer**" in at.success[0].value and len(at.code[0].value) >= 12
    assert "newcomer" in set(at.dataframe[0].value["user"])
    change = [s for s in at.selectbox if s.label in ("User", "Change", "New role (for a role change)")]
    change[0].set_value("newcomer")
    change[1].set_value("remove")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception
    assert "newcomer" not in set(at.dataframe[0].value["user"])
    changes = [details(r)["change"] for r in audit(db, "user_change")]
    assert changes == ["added as comms", "remove"]
    assert at.json, "settings are shown"


def test_admin_page_is_refused_to_other_roles(dash):
    for role in ("viewer", "comms", "analyst"):
        at = page("admin", role).run()
        assert "does not allow this page" in at.error[0].value


def test_handles_are_pseudonymised_for_roles_that_do_not_need_them(dash):
    _, db = dash
    db.write(lambda con: con.execute("UPDATE posts SET author_handle = 'resident_jane' WHERE post_id = '143'"))
    seen = {}
    for role in ("viewer", "comms"):
        at = page("explore", role).run()
        seen[role] = at.dataframe[0].value.set_index("post_id").at["143", "author_handle"]
        assert "resident_jane" not in texts(at) or role == "comms"
    assert seen["comms"] == "resident_jane"
    assert seen["viewer"].startswith("pseud-") and seen["viewer"] != "resident_jane"
    again = page("explore", "viewer").run().dataframe[0].value.set_index("post_id").at["143", "author_handle"]
    assert again == seen["viewer"]  # stable: the same author keeps one pseudonym


def test_exports_round_trip():
    import io

    import pandas as pd

    from dashboard.exports import to_bytes

    frame = pd.DataFrame({"platform": ["x", "bluesky"], "post_id": ["0012", "99"],
                          "created_at": pd.to_datetime(["2026-11-01 10:00", "2026-11-01 11:00"]),
                          "watches": [["covid-19"], []], "score": [0.5, None]})
    assert pd.read_csv(io.BytesIO(to_bytes(frame, "CSV")), dtype={"post_id": str})["post_id"].tolist() == ["0012", "99"]
    back = pd.read_parquet(io.BytesIO(to_bytes(frame, "Parquet")))
    assert back["post_id"].tolist() == ["0012", "99"] and list(back["watches"][0]) == ["covid-19"]
    sheet = pd.read_excel(io.BytesIO(to_bytes(frame, "XLSX")), dtype={"post_id": str})
    assert sheet["post_id"].tolist() == ["0012", "99"] and sheet["watches"][0] == "['covid-19']"

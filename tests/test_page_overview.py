"""The overview page, run by Streamlit's AppTest against a real storage service on seeded data."""

from streamlit.testing.v1 import AppTest

from storage.client import TOKEN_ENV, URL_ENV


def test_overview_shows_live_volume(service, monkeypatch):
    client, _ = service
    monkeypatch.setenv(URL_ENV, str(client._http.base_url))
    monkeypatch.setenv(TOKEN_ENV, "test-token-0123456789")
    at = AppTest.from_file("../dashboard/pages/overview.py", default_timeout=30).run()
    assert not at.exception
    assert "Test County" in at.title[0].value
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Posts in the last hour"] == "6" and metrics["Posts in the last 24 h"] == "144"
    assert len(at.dataframe) == 1


def test_overview_explains_an_unreachable_engine(monkeypatch):
    from helpers import free_port

    monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv(TOKEN_ENV, "x")
    at = AppTest.from_file("../dashboard/pages/overview.py", default_timeout=30).run()
    assert not at.exception
    assert "not reachable" in at.info[0].value

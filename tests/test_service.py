from datetime import datetime, timedelta

import httpx
import pytest

from conftest import SEED_NOW
from storage.client import ServiceError, StorageClient

NOW = SEED_NOW.replace(tzinfo=None)


def test_named_query_as_dataframe(service):
    client, _ = service
    volume = client.query("volume", since=NOW - timedelta(hours=24), until=NOW, bucket_minutes=60)
    assert set(volume.columns) == {"bucket", "platform", "watch", "posts"}
    by_watch = volume.groupby("watch")["posts"].sum().to_dict()
    assert by_watch == {"vaccines": 144, "covid-19": 48}
    assert volume["bucket"].dtype.kind == "M"  # timestamps survive the trip as timestamps (Arrow)


def test_json_is_offered_too(service):
    client, _ = service
    response = client._http.post("/v1/query/post_counts", json={}, headers={"Accept": "application/json"})
    assert response.headers["content-type"].startswith("application/json")
    assert sorted(r["platform"] for r in response.json()) == ["bluesky", "x"]


def test_token_is_required(service):
    client, _ = service
    url = str(client._http.base_url)
    assert httpx.get(f"{url}/health").status_code == 200
    assert httpx.get(f"{url}/v1/clock").status_code == 401
    assert httpx.get(f"{url}/v1/clock", headers={"Authorization": "Bearer wrong"}).status_code == 401
    with pytest.raises(ServiceError, match="401"):
        StorageClient(url, "wrong").query("post_counts")


def test_clock_and_info(service):
    client, _ = service
    assert client.clock() == (NOW, False)
    assert client.info()["agency"] == "Test County"


def test_bad_parameters_say_what_is_wrong(service):
    client, _ = service
    with pytest.raises(ServiceError, match=r"'since' .* is required"):
        client.query("volume", until=NOW)
    with pytest.raises(ServiceError, match="unknown parameter"):
        client.query("post_counts", bogus=1)
    with pytest.raises(ServiceError, match="must be time"):
        client.query("window_totals", since="soon", until=NOW)
    with pytest.raises(ServiceError, match="404: no query named"):
        client.query("drop_everything")


def test_read_only_sql_and_its_audit(service):
    client, db = service
    frame, truncated = client.sql("SELECT count(*) AS n FROM posts", actor="analyst@county")
    assert frame["n"].iloc[0] == 144 and not truncated
    with pytest.raises(ServiceError, match="only read queries"):
        client.sql("DELETE FROM posts", actor="analyst@county")
    with pytest.raises(ServiceError, match="exactly one statement"):
        client.sql("SELECT 1; SELECT 2", actor="analyst@county")
    assert db.reader().execute("SELECT count(*) FROM posts").fetchone() == (144,)
    actions = db.reader().execute("SELECT actor, action FROM audit").fetchall()
    assert actions.count(("analyst@county", "sql")) == 3


def test_sql_row_limit_marks_truncation(service):
    client, _ = service
    frame, truncated = client.sql("SELECT * FROM range(20000)", actor="a")
    assert len(frame) == 10_000 and truncated


def test_unreachable_service_is_a_clear_error():
    from helpers import free_port

    with pytest.raises(ServiceError, match="not reachable"):
        StorageClient(f"http://127.0.0.1:{free_port()}", "t", timeout=2).clock()


def test_reads_do_not_block_writes(service):
    """A long read on one thread while the writer commits on another."""
    import threading

    from collectors.base import Batch
    from helpers import make_post

    client, db = service
    reader = threading.Thread(target=lambda: client.sql("SELECT count(*) FROM range(30000000) a", actor="a"))
    reader.start()
    started = datetime.now()
    db.write_batch("other", Batch([make_post(i, "mastodon") for i in range(100)], "c"))
    assert (datetime.now() - started).total_seconds() < 2
    reader.join()

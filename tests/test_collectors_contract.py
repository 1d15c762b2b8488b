"""The contract every registered collector kind keeps, and fuzzing of every pure mapper.

For each kind: a documented settings model whose every field has a default; it builds from those defaults
against a fake base_url; `fetch` returns a Batch (twice, resuming from its own cursor); `civicradar collect
--source NAME --once` succeeds; `to_posts` is pure and tolerant of {} / [] / None and of random JSON.
"""

import copy
import gzip
import importlib
import json
import re
import typing
from pathlib import Path

import pytest
from fixtures.collectors.fakes import FakeJetstream, body, lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imap_server import PASSWORD, USER, ImapServer, mail

import jobs
import settings as settings_module
from collectors import registry
from collectors.base import Batch, Post, Watch
from core.settings_base import SourceSettings
from intake.spool import Spool

ROOT = Path(__file__).resolve().parents[1]
IMAP_URL: list[str] = []
WATCHES = (Watch("vaccines", ("vaccine",), ("vaccine",)),)
SECRETS = {"X_BEARER_TOKEN": "t", "REDDIT_CLIENT_ID": "i", "REDDIT_CLIENT_SECRET": "s",
           "BLUESKY_APP_PASSWORD": "p", "GOOGLE_FACTCHECK_API_KEY": "k", "REDDIT_PASSWORD": "w",
           "MASTODON_ACCESS_TOKEN": "m", "META_PAGE_TOKEN": "EAAx"}
ACCOUNTS = settings_module.AccountSettings(bluesky="a.bsky.social", mastodon="harborhealth", x="HarborCountyPH",
                                           reddit="HarborCountyPH")  # the agency's own accounts (*_account kinds)
SHAPES = ROOT / "tests" / "fixtures" / "shapes"
SAMPLES = {  # one recorded body per module, mutated by the fuzzer
    "x": ("x", "search_page1.json"), "reddit": ("reddit", "new_page1.json"), "mastodon": ("mastodon", "tag_page1.json"),
    "open311": ("open311", "requests.json"), "factchecks": ("factchecks", "claims_search.json"),
    "bluesky": ("bluesky", "search_page1.json"), "meta": ("meta", "published_posts.json"),
}


def serve_fakes(httpserver) -> None:
    """One fake server answering every HTTP platform's endpoint with a small recorded body."""
    routes = {"/2/tweets/search/recent": ("x", "search_empty.json"), "/api/v1/access_token": ("reddit", "token.json"),
              "/r/HarborCounty/new": ("reddit", "new_page2.json"),
              "/r/HarborCounty/comments": ("reddit", "comments.json"),
              "/api/v1/timelines/tag/vaccine": ("mastodon", "tag_page2.json"),
              "/requests.json": ("open311", "requests_later.json"),
              "/v1alpha1/claims:search": ("factchecks", "claims_search_page2.json"),
              "/feed.rss": ("rss", "agency.rss"), "/xrpc/app.bsky.feed.searchPosts": ("bluesky", "search_empty.json"),
              "/1001/published_posts": ("meta", "published_posts.json"),
              "/1001/conversations": ("meta", "conversations.json"), "/17841000/media": ("meta", "media.json")}
    for path, (source, name) in routes.items():
        httpserver.expect_request(path).respond_with_data(body(source, name), content_type="application/json")
    serve_account_fakes(httpserver)
    httpserver.expect_request("/claims.csv").respond_with_data((ROOT / "demo" / "claims.csv").read_bytes())
    session = {"did": "did:plc:abc", "handle": "a.bsky.social", "accessJwt": _jwt(), "refreshJwt": _jwt()}
    httpserver.expect_request("/xrpc/com.atproto.server.createSession").respond_with_json(session)


def serve_account_fakes(httpserver) -> None:
    """The endpoints the agency's own-account kinds read, with the documented response shapes."""
    shapes = {"/xrpc/app.bsky.notification.listNotifications": "bluesky_listNotifications.json",
              "/xrpc/app.bsky.feed.getAuthorFeed": "bluesky_getAuthorFeed.json",
              "/xrpc/app.bsky.feed.getPostThread": "bluesky_getPostThread.json",
              "/api/v1/notifications": "mastodon_notifications.json"}
    routes = {path: (SHAPES / name).read_bytes() for path, name in shapes.items()}
    routes |= {"/api/v1/accounts/verify_credentials": b'{"id": "1", "acct": "harborhealth"}',
               "/api/v1/accounts/1/statuses": b"[]", "/2/users/by/username/HarborCountyPH": b'{"data": {"id": "42"}}'}
    routes |= {path: body("x", "search_page2.json") for path in ("/2/users/42/mentions", "/2/users/42/tweets")}
    routes |= {path: body("reddit", "comments.json") for path in (
        "/message/inbox", "/message/mentions", "/user/HarborCountyPH/submitted", "/user/HarborCountyPH/comments")}
    for path, data in routes.items():
        httpserver.expect_request(path).respond_with_data(data, content_type="application/json")


def _jwt() -> str:
    import base64

    payload = base64.urlsafe_b64encode(json.dumps({"exp": 4102444800, "sub": "did:plc:abc"}).encode()).decode()
    return f"eyJhbGciOiJFUzI1NksifQ.{payload.rstrip('=')}.c2ln"


def overrides(kind: str, url: str, ws: str, tmp_path: Path) -> dict[str, typing.Any]:
    """The least each kind needs beyond its defaults: the fake base_url, and what it should follow."""
    if kind == "replay":
        path = tmp_path / "rows.jsonl.gz"
        with gzip.open(path, "wt") as f:
            f.write(json.dumps({"post_id": "1", "text": "vaccine clinic", "created_at": "2026-11-01T00:00:00Z"}) + "\n")
        return {"path": str(path)}
    if kind == "imap":
        return {"base_url": IMAP_URL[0], "username": USER}
    if kind == "intake":
        Spool(tmp_path / "spool").append({"channel": "webform", "text": "vaccine clinic queue"})
        return {"path": str(tmp_path / "spool")}
    extra = {"jetstream": {"base_url": ws, "listen_seconds": 0.3}, "reddit": {"subreddits": ["HarborCounty"]},
             "bluesky_search": {"handle": "a.bsky.social"}, "rss": {"feeds": ["feed.rss"]},
             "claims": {"path": "claims.csv"}, "factchecks": {"queries": ["vaccine"]},
             "meta_page": {"page_id": "1001", "instagram_user_id": "17841000", "lookback_days": 100000.0}}
    return {"base_url": url, **extra.get(kind, {})}


def mapper_module(kind: str):
    return importlib.import_module(registry.KINDS[kind].settings.__module__)


@pytest.fixture(scope="module")
def imap_server():
    server = ImapServer()
    server.deliver(mail(1))
    yield server
    server.stop()


@pytest.fixture
def fakes(httpserver, monkeypatch, request):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    serve_fakes(httpserver)
    if request.node.callspec.params.get("kind") == "imap":  # a real IMAP server, only where it is needed
        IMAP_URL[:] = [request.getfixturevalue("imap_server").url]
        monkeypatch.setenv("IMAP_PASSWORD", PASSWORD)
    jet = FakeJetstream(lines("bluesky", "jetstream_events.jsonl"))
    yield httpserver.url_for("/").rstrip("/"), jet.url
    jet.stop()


def test_every_source_settings_model_is_registered():
    """A source module whose settings model has no SourceKind declaration would never be built or tested."""
    models = {cls for module in {m.settings.__module__ for m in registry.KINDS.values()} | source_modules()
              for cls in vars(importlib.import_module(module)).values()
              if isinstance(cls, type) and issubclass(cls, SourceSettings) and cls.__module__ == module}
    assert models == {kind.settings for kind in registry.KINDS.values()}
    assert len(registry.KINDS) >= 17 and registry.KINDS["rss"].name == "rss"


def source_modules() -> set[str]:
    return {f"collectors.{p.stem}" for p in (ROOT / "collectors").glob("*.py") if p.stem != "__init__"}


@pytest.mark.parametrize("kind", sorted(registry.KINDS))
def test_settings_model_is_complete_and_documented(kind):
    model = registry.KINDS[kind].settings
    field = model.model_fields["kind"]
    assert typing.get_args(field.annotation) == (kind,) and field.default == kind
    required = [name for name, f in model.model_fields.items() if f.is_required()]
    assert required == ([] if kind != "replay" else ["path"])
    text = (ROOT / "settings.toml").read_text()
    assert re.search(rf'^kind = "{kind}"', text, re.M), f"no [sources.*] section with kind = {kind!r}"
    if kind not in ("replay", "intake"):  # those two read local files
        assert "base_url" in model.model_fields


@pytest.mark.parametrize("kind", sorted(registry.KINDS))
def test_builds_from_defaults_fetches_a_batch_and_resumes(kind, fakes, tmp_path):
    url, ws = fakes
    model = registry.KINDS[kind].settings
    source = model.model_validate({"kind": kind, **overrides(kind, url, ws, tmp_path)})
    collector = registry.build(kind, source, registry.Context(base_dir=tmp_path, watches=WATCHES, accounts=ACCOUNTS))
    first = collector.fetch(None)
    assert isinstance(first, Batch) and all(isinstance(p, Post) for p in first.posts)
    assert first.next_cursor is None or isinstance(first.next_cursor, str)
    second = collector.fetch(first.next_cursor)
    assert isinstance(second, Batch) and not first.warnings, first.warnings
    assert first.posts or first.claims or kind in ("x", "bluesky_search"), "the fake served something to map"


@pytest.mark.parametrize("kind", sorted(set(registry.KINDS) - {"replay"}))
def test_collect_once_from_the_command_line(kind, fakes, tmp_path, capsys):
    url, ws = fakes
    values = overrides(kind, url, ws, tmp_path)
    lines_ = [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    (tmp_path / "settings.toml").write_text("\n".join([
        '[storage]\npath = "db.duckdb"', "[classify]\nenabled = false",
        "[accounts]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in ACCOUNTS.model_dump().items()),
        '[[watches]]\nname = "vaccines"\nkeywords = ["vaccine"]\nhashtags = ["vaccine"]',
        f'[sources.{kind}]\nkind = "{kind}"\nenabled = false', *lines_]) + "\n")
    code = jobs.main(["--settings", str(tmp_path / "settings.toml"), "collect", "--source", kind, "--once"])
    assert code == 0, capsys.readouterr()
    assert capsys.readouterr().out.startswith(f"{kind}: ")


@pytest.mark.parametrize("kind", sorted(set(registry.KINDS) - {"replay"}))
@pytest.mark.parametrize("payload", [{}, [], None, "", b"", 0, {"data": None}, [None, 1, "x"]])
def test_to_posts_tolerates_empty_and_odd_payloads(kind, payload):
    assert mapper_module(kind).to_posts(payload) == []


def test_replay_mapper_tolerates_empty_rows():
    from datetime import UTC, datetime

    from collectors.replay import to_posts

    assert to_posts([], datetime(2026, 1, 1, tzinfo=UTC), "import") == ([], [])


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)


def mutate(value: typing.Any, data: st.DataObject) -> typing.Any:
    """A recorded body with random fields dropped or replaced: shapes a platform might really send."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            roll = data.draw(st.integers(0, 9))
            if roll == 0:
                continue
            out[key] = data.draw(JSON) if roll == 1 else mutate(item, data)
        return out
    if isinstance(value, list):
        return [mutate(item, data) for item in value]
    return value


@pytest.mark.parametrize("module", sorted(SAMPLES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mappers_never_crash_on_mutated_platform_bodies(module, data):
    payload = mutate(json.loads(body(*SAMPLES[module])), data)
    frozen = copy.deepcopy(payload)
    mapper = importlib.import_module(f"collectors.{module}")
    result = mapper.parse(payload)
    assert all(isinstance(p, Post) for p in result.posts)
    assert payload == frozen and mapper.to_posts(payload) == result.posts  # pure: same answer, input untouched


@settings(max_examples=60, deadline=None)
@given(event=st.one_of(JSON, st.builds(lambda e: e, st.sampled_from(lines("bluesky", "jetstream_events.jsonl")))))
def test_jetstream_mapper_never_crashes(event):
    from collectors.bluesky import parse

    parse(event)


@settings(max_examples=40, deadline=None)
@given(raw=st.binary(max_size=200) | st.sampled_from([body("rss", "agency.rss")[:n] for n in (50, 300, 700)]))
def test_feed_mapper_never_crashes_on_bytes(raw):
    from collectors.rss import parse

    parse(raw)

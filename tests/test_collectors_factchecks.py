"""Fact-checks fill the claims table: Fact Check Tools claims:search, ClaimReview JSON-LD, the rumour register."""

import json
from pathlib import Path

import pytest
from fixtures.collectors.fakes import Sleeps, body, engine, load
from werkzeug import Request, Response

from collectors.base import AuthFailed
from collectors.factchecks import (
    ClaimsFileCollector,
    ClaimsFileSettings,
    FactCheckCollector,
    FactCheckSettings,
    parse,
    read_claims_file,
    to_claims,
    to_posts,
)
from collectors.mapping import Mapped

ROOT = Path(__file__).resolve().parents[1]
BAD_KEY = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                     "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                                "reason": "API_KEY_INVALID"}]}}


def claims(e, origin=None):
    sql = "SELECT claim_id, text, rating, source, origin FROM claims" + (" WHERE origin = ?" if origin else "")
    return e.db.reader().execute(sql + " ORDER BY claim_id", [origin] if origin else []).fetchall()


def test_search_body_gives_one_claim_per_review():
    mapped = parse(load("factchecks", "claims_search.json"))
    assert [(c.rating, c.source) for c in mapped.claims] == [("False", "Reuters"), ("Incorrect", "Health Feedback"),
                                                             ("Falso", "Maldita.es")]
    assert mapped.claims[0].published_at.isoformat() == "2025-11-02T00:00:00+00:00"
    assert len(mapped.quarantined) == 1 and "no text" in mapped.quarantined[0].reason
    assert to_posts(load("factchecks", "claims_search.json")) == []


def test_claimreview_jsonld_and_the_register_csv():
    [claim] = to_claims(load("factchecks", "claimreview.jsonld"))
    assert claim.text == "Wearing a mask lowers your oxygen levels" and claim.rating == "False"
    assert claim.source == "Harbor County Public Health" and claim.origin == "import"
    out = Mapped()
    rows = read_claims_file((ROOT / "demo" / "claims.csv").read_bytes(), "claims.csv", out)
    register = to_claims(rows)
    assert len(register) == 21 and register[0].claim_id == "HCPH-RR-001" and register[0].origin == "register"


def test_engine_loads_the_demo_register_once(tmp_path):
    source = f'[sources.rumours]\nkind = "claims"\npath = "{ROOT / "demo" / "claims.csv"}"\n'
    e = engine(tmp_path, source)
    assert e.collect("rumours").status == "ok"
    stored = {row[0]: row for row in claims(e, "register")}
    assert len(stored) == 21 and stored["HCPH-RR-001"][2] == "False"
    e.db.close()
    again = engine(tmp_path, source)
    again.collect("rumours")
    details = again.db.reader().execute("SELECT details FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()[0]
    assert json.loads(details) == {"unchanged": True} and len(claims(again)) == 21
    again.db.close()


def test_claims_over_http_use_the_etag(httpserver):
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"r1"':
            return Response(status=304)
        return Response(body("factchecks", "claimreview.jsonld"), headers={"ETag": '"r1"'})

    httpserver.expect_request("/rumours/claimreview.jsonld").respond_with_handler(handler)
    s = ClaimsFileSettings(base_url=httpserver.url_for("/rumours"), path="claimreview.jsonld", origin="import")
    c = ClaimsFileCollector("imports", s, Path("."), Sleeps())
    first = c.fetch(None)
    assert len(first.claims) == 1 and len(first.quarantined) == 1
    second = c.fetch(first.next_cursor)
    assert second.claims == [] and second.stats == {"unchanged": True}


def test_engine_searches_each_term_and_follows_pages(httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_FACTCHECK_API_KEY", "test-key")
    seen: list[dict] = []

    def handler(request: Request) -> Response:
        seen.append(dict(request.args))
        name = "claims_search_page2.json" if request.args.get("pageToken") else "claims_search.json"
        return Response(body("factchecks", name), content_type="application/json")

    httpserver.expect_request("/v1alpha1/claims:search").respond_with_handler(handler)
    source = f'[sources.fc]\nkind = "factchecks"\nbase_url = "{httpserver.url_for("/").rstrip("/")}"\n' \
             'queries = ["vaccine", "booster"]\n'
    e = engine(tmp_path, source)
    summary = e.collect("fc")
    assert summary.status == "ok" and [s["query"] for s in seen] == ["vaccine", "vaccine", "booster", "booster"]
    assert seen[0]["key"] == "test-key" and seen[0]["languageCode"] == "en" and seen[1]["pageToken"] == "CAo"
    assert len(claims(e, "factcheck")) == 4
    e.db.close()


def test_watch_terms_are_the_default_queries():
    from collectors.base import Watch

    c = FactCheckCollector("fc", FactCheckSettings(), (Watch("v", ("vaccine",), ("vaccine",), places=("Harbor",)),))
    assert c.queries == ["vaccine", "Harbor"]


def test_a_bad_api_key_says_how_to_get_one(httpserver, monkeypatch):
    monkeypatch.setenv("GOOGLE_FACTCHECK_API_KEY", "nope")
    httpserver.expect_request("/v1alpha1/claims:search").respond_with_json(BAD_KEY, status=400)
    c = FactCheckCollector("fc", FactCheckSettings(base_url=httpserver.url_for("/").rstrip("/"), queries=("x",)),
                           sleep=Sleeps())
    with pytest.raises(AuthFailed, match="Fact Check Tools API enabled"):
        c.fetch(None)

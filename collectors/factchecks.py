"""Checked claims for misinformation matching: Google Fact Check Tools, ClaimReview files, the rumour register.

These sources fill the claims table (`Batch.claims`), not the posts table, so `to_posts` is always empty;
`to_claims(payload)` is the pure mapper. It reads, by shape:

- a Fact Check Tools `claims:search` body (`{"claims": [{"text", "claimant", "claimReview": [...]}]}`),
- schema.org ClaimReview JSON-LD (one object, a list, or an `@graph`),
- rows of the register CSV (`claim_id,text,rating,url,source,published_at`, the demo's demo/claims.csv).

`factchecks` searches the API for the watches' terms (an API key is required), one term per page of a run.
`claims` loads a CSV / JSON-LD file, or a URL under base_url fetched with its ETag, whenever it changes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import requests
from pydantic import Field

from collectors.base import AuthFailed, BadPayload, BaseCollector, Batch, Claim, CollectorError, Post, Watch
from collectors.http import get, session
from collectors.kinds import SourceKind
from collectors.mapping import Mapped, decode_json, dump_state, each, load_state, obj, seq, text, when
from core.settings_base import SecretRef, SourceSettings

KEY_HINT = ("Google rejected the API key: create a key with the Fact Check Tools API enabled in Google Cloud "
            "(console.cloud.google.com, APIs & Services) and export it as the variable sources.NAME.api_key names.")


class FactCheckSettings(SourceSettings):
    kind: Literal["factchecks"] = "factchecks"
    every_seconds: float = Field(3600.0, gt=0)
    base_url: str = "https://factchecktools.googleapis.com"
    api_key: SecretRef = SecretRef(env="GOOGLE_FACTCHECK_API_KEY")
    queries: tuple[str, ...] = ()  # empty: every watch's keywords, hashtags and places
    language: str = "en"
    max_age_days: int = Field(30, gt=0)
    page_size: int = Field(100, gt=0, le=1000)
    max_pages: int = Field(3, gt=0)
    timeout_seconds: float = Field(30.0, gt=0)


class ClaimsFileSettings(SourceSettings):
    kind: Literal["claims"] = "claims"
    every_seconds: float = Field(300.0, gt=0)
    path: str = "demo/claims.csv"  # a CSV or ClaimReview JSON-LD file; with base_url, a path under it
    base_url: str = ""  # fetch `path` from this HTTP root instead of the disk
    origin: Literal["register", "import", "factcheck"] = "register"
    timeout_seconds: float = Field(30.0, gt=0)


def _claim_id(prefix: str, *parts: Any) -> str:
    return prefix + hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _search_claim(item: Any, out: Mapped) -> None:
    claim = obj(item)
    if text(claim.get("text")) is None:
        raise ValueError("claim has no text")
    if not seq(claim.get("claimReview")):
        out.warnings.append(f"fact-check claim {claim.get('text')!r:.60}: no claimReview")
    for review in map(obj, seq(claim.get("claimReview"))):
        publisher = obj(review.get("publisher"))
        out.claims.append(Claim(
            claim_id=_claim_id("gfc:", review.get("url") or claim["text"], publisher.get("site")),
            text=str(claim["text"]), rating=text(review.get("textualRating")), url=text(review.get("url")),
            source=text(publisher.get("name")) or text(publisher.get("site")), origin="factcheck",
            published_at=when(review.get("reviewDate")) or when(claim.get("claimDate")), raw=claim))


def _claim_review(item: Any, out: Mapped) -> None:
    review = obj(item)
    claimed = text(review.get("claimReviewed"))
    if claimed is None:
        raise ValueError("ClaimReview has no claimReviewed")
    rating, author = obj(review.get("reviewRating")), obj(review.get("author"))
    out.claims.append(Claim(
        claim_id=_claim_id("cr:", review.get("url") or claimed), text=claimed,
        rating=text(rating.get("alternateName")) or text(rating.get("ratingValue")), url=text(review.get("url")),
        source=text(author.get("name")), origin="import", published_at=when(review.get("datePublished")),
        raw=review))


def _register_row(item: Any, out: Mapped) -> None:
    row = obj(item)
    if text(row.get("claim_id")) is None or text(row.get("text")) is None:
        raise ValueError("register row needs claim_id and text")
    if row.get("published_at") and when(row.get("published_at")) is None:
        out.warnings.append(f"register row {row['claim_id']}: unreadable published_at {row['published_at']!r}")
    out.claims.append(Claim(claim_id=str(row["claim_id"]), text=str(row["text"]), rating=text(row.get("rating")),
                            url=text(row.get("url")), source=text(row.get("source")), origin="register",
                            published_at=when(row.get("published_at")), raw=row))


def _is_review(item: Any) -> bool:
    return isinstance(item, dict) and "ClaimReview" in str(item.get("@type", ""))


def parse(payload: Any) -> Mapped:
    """Map a claims:search body, ClaimReview JSON-LD, or register rows to claims (never posts)."""
    out = Mapped()
    if isinstance(payload, dict) and isinstance(payload.get("claims"), list):
        return each(payload["claims"], _search_claim, "fact-check claim", out)
    if isinstance(payload, dict):
        payload = payload["@graph"] if isinstance(payload.get("@graph"), list) else [payload]
    if not isinstance(payload, list):
        return out
    for item in payload:
        fn = _claim_review if _is_review(item) else _register_row
        each([item], fn, "ClaimReview" if fn is _claim_review else "register row", out)
    return out


def to_claims(payload: Any) -> list[Claim]:
    return parse(payload).claims


def to_posts(payload: Any) -> list[Post]:
    """Fact-checks are claims, not posts: always empty (kept so every source answers the same contract)."""
    return []


def read_claims_file(data: bytes, name: str, out: Mapped) -> Any:
    """Rows of a CSV register, or decoded JSON-LD (`.json` / `.jsonld`, or any body starting with { or [)."""
    body = data.decode("utf-8-sig", "replace")
    if name.lower().endswith((".json", ".jsonld")) or body.lstrip()[:1] in ("{", "["):
        return decode_json(body, f"claims file {name}", out)
    return list(csv.DictReader(io.StringIO(body)))


class FactCheckCollector(BaseCollector):
    kind = "factchecks"

    def __init__(self, name: str, settings: FactCheckSettings, watches: Sequence[Watch] = (),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings = settings
        self.queries = list(settings.queries or dict.fromkeys(t.lstrip("#") for w in watches for t in w.terms()))
        self.url = settings.base_url.rstrip("/") + "/v1alpha1/claims:search"
        self._session = session()

    def fetch(self, cursor: str | None) -> Batch:
        state = load_state(cursor)
        position, page = int(state.get("position", 0)) % max(len(self.queries), 1), int(state.get("page", 0))
        if not self.queries:
            return Mapped(warnings=["factchecks: no queries (set queries or watches)"]).batch(None)
        query, out = self.queries[position], Mapped()
        response = self.call(lambda: self._search(query, state.get("token")))
        body = decode_json(response.content, f"claims:search {query!r}", out)
        out.extend(parse(body))
        token = text(obj(body).get("nextPageToken"))
        if token and page + 1 < self.settings.max_pages:
            state = {"position": position, "page": page + 1, "token": token}
        else:
            state = {"position": position + 1, "page": 0}
        more = state["position"] < len(self.queries)
        state["position"] %= len(self.queries)
        return out.batch(dump_state(state), more=more, stats={"query": query, "claims": len(out.claims)})

    def _search(self, query: str, token: str | None) -> requests.Response:
        s = self.settings
        params = {"query": query, "languageCode": s.language, "maxAgeDays": s.max_age_days, "pageSize": s.page_size,
                  "key": s.api_key.get(f"sources.{self.name}.api_key"), **({"pageToken": token} if token else {})}
        try:
            return get(self._session, self.url, "Fact Check Tools claims:search", KEY_HINT, s.timeout_seconds,
                       params=params)
        except AuthFailed:
            raise
        except CollectorError as e:  # Google answers a bad key with 400 API_KEY_INVALID, not 401
            if "API key" in str(e) or "API_KEY" in str(e):
                raise AuthFailed(f"Fact Check Tools: {KEY_HINT} ({e})") from e
            raise


class ClaimsFileCollector(BaseCollector):
    kind = "claims"

    def __init__(self, name: str, settings: ClaimsFileSettings, base_dir: Path,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings = settings
        self.path = None if settings.base_url else _resolve(Path(settings.path), base_dir)
        self.url = settings.base_url.rstrip("/") + "/" + settings.path.lstrip("/") if settings.base_url else None
        self._session = session()

    def fetch(self, cursor: str | None) -> Batch:
        state, out = load_state(cursor), Mapped()
        data, validators = self._read(state)
        digest = hashlib.sha256(data).hexdigest() if data is not None else state.get("sha256")
        if data is None or digest == state.get("sha256"):
            return out.batch(dump_state({**state, **validators}), stats={"unchanged": True})
        out.extend(parse(read_claims_file(data, self.settings.path, out)))
        origin = self.settings.origin
        out.claims = [c if c.origin == origin else _with_origin(c, origin) for c in out.claims]
        return out.batch(dump_state({"sha256": digest, **validators}), stats={"claims": len(out.claims)})

    def _read(self, state: dict[str, Any]) -> tuple[bytes | None, dict[str, Any]]:
        if self.path is not None:
            if not self.path.exists():
                raise BadPayload(f"claims file {self.path} does not exist; check sources.{self.name}.path")
            return self.path.read_bytes(), {}
        assert self.url is not None
        headers = {k: v for k, v in (("If-None-Match", state.get("etag")),
                                     ("If-Modified-Since", state.get("modified"))) if v}
        response = self.call(lambda: get(self._session, str(self.url), f"claims file {self.url}",
                                         "The server wants credentials; use a public URL.",
                                         self.settings.timeout_seconds, headers=headers))
        validators = {"etag": response.headers.get("ETag"), "modified": response.headers.get("Last-Modified")}
        return (None if response.status_code == 304 else response.content), validators


def _resolve(path: Path, base_dir: Path) -> Path:
    return path if path.is_absolute() else base_dir / path


def _with_origin(claim: Claim, origin: str) -> Claim:
    return replace(claim, origin=origin)


# The registry (collectors.registry) finds these declarations: nothing else to edit for these sources.
FACTCHECKS = SourceKind(FactCheckSettings, lambda name, s, ctx: FactCheckCollector(name, s, ctx.watches))
CLAIMS = SourceKind(ClaimsFileSettings, lambda name, s, ctx: ClaimsFileCollector(name, s, ctx.base_dir))

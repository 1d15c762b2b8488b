"""Open311 GeoReport v2 service requests (`requests.json`) from a city's endpoint.

311 requests are residents' own reports (potholes, missed pickups, a clinic queue), so a spike is a signal the
agency wants beside social posts. GeoReport v2 filters by `requested_datetime` between `start_date` and
`end_date` (servers typically allow 90 days and return at most 1000), by `service_code` and `status`. The
collector walks forward in windows of `window_days`; the cursor is the end of the last window fetched (and
the page within it, where the server supports the common `page` / `page_size` extension). A request seen
again with a new `updated_datetime` or `status` replaces the stored one. No resident names are stored.

Windows only move forward, so a request's later status would never be read: the cursor also remembers the
requests still open, and once caught up the collector asks for them again by `service_request_id` (which
overrides every other filter) every `repoll_every_seconds`, until they close or grow older than `repoll_days`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

from pydantic import Field

from collectors.base import BaseCollector, Batch, CollectorError, Post, Quarantined
from collectors.http import get, session
from collectors.kinds import SourceKind
from collectors.mapping import Mapped, decode_json, dump_state, each, load_state, text, when
from core.settings_base import SecretRef, SourceSettings

PLATFORM = "open311"
AUTH_HINT = ("The city's Open311 endpoint rejected the request: if it needs an api_key, set sources.NAME.api_key "
             "to { env = \"VARIABLE\" } and export it; some cities issue keys on request.")


class Open311Settings(SourceSettings):
    kind: Literal["open311"] = "open311"
    every_seconds: float = Field(900.0, gt=0)
    base_url: str = ""  # the city's GeoReport v2 root, e.g. https://city.example/open311/v2
    api_key: SecretRef | None = None
    jurisdiction_id: str = ""
    service_codes: tuple[str, ...] = ()
    status: Literal["", "open", "closed"] = ""
    window_days: float = Field(7.0, gt=0, le=90)
    initial_days: float = Field(7.0, ge=0)
    page_size: int = Field(0, ge=0)
    server_limit: int = Field(1000, gt=0)
    platform: str = PLATFORM
    timeout_seconds: float = Field(30.0, gt=0)
    repoll_every_seconds: float = Field(3600.0, ge=0)
    repoll_max: int = Field(1000, ge=0)
    repoll_days: float = Field(90.0, gt=0)
    repoll_batch: int = Field(50, gt=0)


def _request(item: Any, out: Mapped) -> None:
    if not isinstance(item, dict):
        raise TypeError(f"expected a service request object, got {type(item).__name__}")
    if "service_request_id" not in item and "service_code" in item and "requested_datetime" not in item:
        return  # a services.json entry (a kind of request), not a request
    if "service_request_id" not in item and "description" in item and "code" in item:
        out.warnings.append(f"open311: the server reported an error: {item.get('code')} {item.get('description')}")
        return
    ident, created = text(item.get("service_request_id")), when(item.get("requested_datetime"))
    if ident is None or created is None:
        missing = [k for k, v in (("service_request_id", ident), ("requested_datetime", created)) if v is None]
        out.quarantined.append(Quarantined(reason=f"open311 request: missing {', '.join(missing)}", raw=item))
        return
    name, description = text(item.get("service_name")), text(item.get("description"))
    if description is None:
        out.warnings.append(f"open311 request {ident}: no description")
    body = ": ".join(p for p in (name, description) if p) or f"service request {ident}"
    address = text(item.get("address"))
    out.posts.append(Post(platform=PLATFORM, post_id=ident, text=f"{body} ({address})" if address else body,
                          created_at=created, url=text(item.get("media_url")), raw=item, direction="to_agency"))


def parse(payload: Any) -> Mapped:
    """Map a decoded `requests.json` body (a list of service requests) to posts."""
    out = Mapped()
    if isinstance(payload, dict) and isinstance(payload.get("service_requests"), list):
        payload = payload["service_requests"]  # the XML-shaped JSON some servers send
    if not isinstance(payload, list):
        if payload not in (None, {}, ""):
            out.warnings.append(f"open311: expected a list of requests, got {type(payload).__name__}")
        return out
    return each(payload, _request, "open311 request", out)


def to_posts(payload: Any) -> list[Post]:
    return parse(payload).posts


def remember_open(tracked: dict[str, str], posts: list[Post], oldest: datetime, limit: int) -> None:
    """Keep the ids of requests still open (with their request time) so they can be asked for again; closed
    ones and those older than `oldest` are forgotten, and past `limit` the oldest go first."""
    for post in posts:
        if str((post.raw or {}).get("status", "")).lower() == "closed":
            tracked.pop(post.post_id, None)
        else:
            tracked[post.post_id] = _iso(post.created_at)
    for ident in [i for i, t in tracked.items() if (when(t) or oldest) < oldest]:
        del tracked[ident]
    for ident in sorted(tracked, key=tracked.__getitem__)[:max(0, len(tracked) - limit)]:
        del tracked[ident]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Open311Collector(BaseCollector):
    kind = "open311"

    def __init__(self, name: str, settings: Open311Settings,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        if not settings.base_url:
            raise CollectorError(f"sources.{name}.base_url is not set: give the city's GeoReport v2 root "
                                 "(the URL that serves services.json and requests.json)")
        self.settings = settings
        self._wall = wall
        self._session = session()
        self.url = settings.base_url.rstrip("/") + "/requests.json"

    def fetch(self, cursor: str | None) -> Batch:
        state, now = load_state(cursor), self._wall()
        page = int(state.pop("page", 1))
        start = when(state.get("start")) or now - timedelta(days=self.settings.initial_days)
        end = min(start + timedelta(days=self.settings.window_days), now)
        response = self.call(lambda: get(self._session, self.url, f"open311 {self.url}", AUTH_HINT,
                                         self.settings.timeout_seconds, params=self._params(start, end, page)))
        out = Mapped()
        body = decode_json(response.content, "open311 requests.json", out)
        out.extend(parse(body))
        if self.settings.platform != PLATFORM:
            out.posts = [replace(p, platform=self.settings.platform) for p in out.posts]
        returned = len(body) if isinstance(body, list) else 0
        next_page = self.settings.page_size and returned >= self.settings.page_size
        if not self.settings.page_size and returned >= self.settings.server_limit:
            out.warnings.append(f"open311: {returned} requests in one window (the server's cap): some may be "
                                f"missing; lower sources.{self.name}.window_days")
        state.update({"start": _iso(start), "page": page + 1} if next_page else {"start": _iso(end), "page": 1})
        if body is None:  # not JSON: quarantined; the same window is asked again next run
            state.update(start=_iso(start), page=page)
            now = end
        more = bool(next_page) or end < now
        stats = {"window_end": _iso(end), "returned": returned, "repolled": 0}
        window_posts = list(out.posts)
        if not more:  # caught up: ask again for requests that were open before this window
            stats["repolled"] = self._repoll(state.setdefault("open", {}), state, now, out)
        remember_open(state.setdefault("open", {}), window_posts, now - timedelta(days=self.settings.repoll_days),
                      self.settings.repoll_max)
        stats["open_tracked"] = len(state["open"])
        return out.batch(dump_state(state), more=more, stats=stats)

    def _repoll(self, tracked: dict[str, str], state: dict[str, Any], now: datetime, out: Mapped) -> int:
        """Ask again for the requests still open, by id (which overrides the date window), so that a
        request's later status (closed, notes) is seen; at most every `repoll_every_seconds`."""
        s, last = self.settings, when(state.get("repolled_at"))
        if last is None:  # the open requests were just read: the interval counts from now
            state["repolled_at"] = _iso(now)
        if not tracked or not s.repoll_max or last is None or (now - last).total_seconds() < s.repoll_every_seconds:
            return 0
        ids, seen = sorted(tracked), Mapped()
        for chunk in (ids[i:i + s.repoll_batch] for i in range(0, len(ids), s.repoll_batch)):
            response = self.call(partial(get, self._session, self.url, f"open311 {self.url}", AUTH_HINT,
                                         s.timeout_seconds,
                                         params={**self._common(), "service_request_id": ",".join(chunk)}))
            seen.extend(parse(decode_json(response.content, "open311 requests.json (re-poll)", out)))
        if s.platform != PLATFORM:
            seen.posts = [replace(p, platform=s.platform) for p in seen.posts]
        out.extend(seen)
        remember_open(tracked, seen.posts, now - timedelta(days=s.repoll_days), s.repoll_max)
        state["repolled_at"] = _iso(now)
        return len(seen.posts)

    def _params(self, start: datetime, end: datetime, page: int) -> dict[str, Any]:
        s = self.settings
        params: dict[str, Any] = {"start_date": _iso(start), "end_date": _iso(end), **self._common()}
        optional = {"service_code": ",".join(s.service_codes), "status": s.status}
        params.update({k: v for k, v in optional.items() if v})
        if s.page_size:
            params.update(page=page, page_size=s.page_size)
        return params

    def _common(self) -> dict[str, Any]:
        """The parameters every call carries: the jurisdiction and the key, where set."""
        s = self.settings
        common = {"jurisdiction_id": s.jurisdiction_id,
                  "api_key": s.api_key.get(f"sources.{self.name}.api_key") if s.api_key else ""}
        return {k: v for k, v in common.items() if v}


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(Open311Settings, lambda name, s, ctx: Open311Collector(name, s, ctx.wall))

"""A Facebook Page and its linked Instagram professional account, polled through Meta's Graph API: the fallback
for (and complement to) the signed webhooks of the public intake.

Per run: the Page's posts of the last `lookback_days` with their latest comments nested (`/{page-id}/
published_posts`), further comment pages of busy posts (`/{post-id}/comments`), the Page's conversations
(`/{page-id}/conversations`, messages nested) and the Instagram account's media with their comments (`/{ig-user-id}
/media`). Pages follow `paging.next`. The cursor holds the newest created time seen per feed (posts, comments,
messages, media, instagram comments); older items are not stored again, and the cursor is committed with the
posts. Post ids are the webhook's (`facebook-<comment_id>`, `facebook-msg-<mid>`, `instagram-<id>`), so an
item seen by both is one post. The Page's own posts, replies and messages are `by_agency`; residents' `to_agency`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import requests
from pydantic import Field

from collectors.base import BY_AGENCY, TO_AGENCY, BaseCollector, Batch, CollectorError, Post, Quarantined, count, scrub
from collectors.http import get, session
from collectors.kinds import SourceKind
from collectors.mapping import Mapped, decode_json, dump_state, load_state, obj, seq, text, when
from collectors.meta_errors import graph_error, to_error
from settings import SecretRef, SourceSettings

AUTH_HINT = "Meta refused the Page token: set sources.NAME.token to a Page access token (see README, Sources)."
COMMENT_FIELDS = "id,message,from,created_time,parent,permalink_url,like_count"
POST_FIELDS = ("id,message,story,created_time,permalink_url,"
               "comments.order(reverse_chronological).filter(stream).limit({n}).summary(true)"
               "{{" + COMMENT_FIELDS + "}}")
MESSAGE_FIELDS = "updated_time,messages.limit({n}){{id,message,from,created_time}}"
MEDIA_FIELDS = ("id,caption,timestamp,permalink,like_count,comments_count,"
                "comments.limit({n}){{id,text,from,username,timestamp,like_count,replies{{id,text,from,username,"
                "timestamp,like_count}}}}")
FEEDS = ("posts", "comments", "messages", "media", "instagram")


class MetaPageSettings(SourceSettings):
    kind: Literal["meta_page"] = "meta_page"
    every_seconds: float = Field(300.0, gt=0)
    base_url: str = "https://graph.facebook.com/v21.0"
    token: SecretRef = SecretRef(env="META_PAGE_TOKEN")
    page_id: str = ""
    instagram_user_id: str = ""
    messages: bool = True
    lookback_days: float = Field(7.0, gt=0)
    limit: int = Field(50, gt=0, le=100)
    max_pages: int = Field(10, gt=0)
    timeout_seconds: float = Field(30.0, gt=0)


# ---- pure mapping ---------------------------------------------------------------------------------------------

def _direction(author: str | None, own: Sequence[str]) -> str:
    return BY_AGENCY if author and author in own else TO_AGENCY


def _post(platform: str, ident: str, body: str | None, created: datetime, **kw: Any) -> Post:
    return Post(platform=platform, post_id=f"{platform}-{ident}", text=scrub(body or ""), created_at=created, **kw)


def _need(item: Any, time_key: str, where: str, out: Mapped) -> tuple[str, datetime] | None:
    """The item's id and time, or None with the item quarantined (or skipped, when it is not an object)."""
    if not isinstance(item, dict):
        if item is not None:
            out.warnings.append(f"{where}: expected an object, got {type(item).__name__}")
        return None
    ident, created = text(item.get("id")), when(item.get(time_key))
    if ident is None or created is None:
        missing = ", ".join(k for k, v in (("id", ident), (time_key, created)) if v is None)
        out.quarantined.append(Quarantined(reason=f"{where}: missing {missing}", raw=item))
        return None
    return ident, created


def fb_comment(item: Any, post_id: str | None, own: Sequence[str], out: Mapped) -> None:
    if not (found := _need(item, "created_time", "facebook comment", out)):
        return
    author = obj(item.get("from"))
    aid, parent = text(author.get("id")), text(obj(item.get("parent")).get("id")) or post_id
    out.posts.append(_post("facebook", found[0], text(item.get("message")), found[1], url=text(
        item.get("permalink_url")), author_id=f"facebook:{aid}" if aid else None, author_handle=text(author.get(
            "name")), like_count=count(item.get("like_count")), reply_to_id=f"facebook-{parent}" if parent else None,
        raw=item, direction=_direction(aid, own)))


def fb_post(item: Any, own: Sequence[str], out: Mapped) -> None:
    """A Page post (the agency's own) and the comments nested in it."""
    if not (found := _need(item, "created_time", "facebook post", out)):
        return
    comments = obj(item.get("comments"))
    out.posts.append(_post("facebook", found[0], text(item.get("message")) or text(item.get("story")), found[1],
                           url=text(item.get("permalink_url")), reply_count=count(obj(comments.get("summary")).get(
                               "total_count")), raw={k: v for k, v in item.items() if k != "comments"},
                           direction=BY_AGENCY))
    for comment in seq(comments.get("data")):
        fb_comment(comment, found[0], own, out)


def fb_conversation(item: Any, own: Sequence[str], out: Mapped) -> None:
    for message in seq(obj(obj(item).get("messages")).get("data")):
        if not (found := _need(message, "created_time", "facebook message", out)):
            continue
        author = obj(message.get("from"))
        aid = text(author.get("id"))
        out.posts.append(_post("facebook", f"msg-{found[0]}", text(message.get("message")), found[1],
                               author_id=f"facebook:{aid}" if aid else None, author_handle=text(author.get("name")),
                               raw=message, direction=_direction(aid, own)))


def ig_comment(item: Any, media_id: str | None, own: Sequence[str], out: Mapped) -> None:
    if not (found := _need(item, "timestamp", "instagram comment", out)):
        return
    author = obj(item.get("from"))
    aid, handle = text(author.get("id")), text(author.get("username")) or text(item.get("username"))
    out.posts.append(_post("instagram", found[0], text(item.get("text")), found[1], like_count=count(item.get(
        "like_count")), author_id=f"instagram:{aid}" if aid else None, author_handle=handle,
        reply_to_id=f"instagram-{media_id}" if media_id else None,
        raw={k: v for k, v in item.items() if k != "replies"}, direction=_direction(aid or handle, own)))
    for reply in seq(obj(item.get("replies")).get("data")):
        ig_comment(reply, found[0], own, out)


def ig_media(item: Any, own: Sequence[str], out: Mapped) -> None:
    """An Instagram media object (the agency's own) and its nested comments and their replies."""
    if not (found := _need(item, "timestamp", "instagram media", out)):
        return
    out.posts.append(_post("instagram", found[0], text(item.get("caption")), found[1], url=text(item.get(
        "permalink")), like_count=count(item.get("like_count")), reply_count=count(item.get("comments_count")),
        raw={k: v for k, v in item.items() if k != "comments"}, direction=BY_AGENCY))
    for comment in seq(obj(item.get("comments")).get("data")):
        ig_comment(comment, found[0], own, out)


def _kind(item: dict[str, Any]) -> str:
    if "messages" in item:
        return "conversation"
    if "timestamp" in item:
        return "media" if any(k in item for k in ("caption", "media_type", "permalink", "comments")) else "ig_comment"
    return "comment" if "parent" in item else "post"


def parse(payload: Any, own: Sequence[str] = (), kind: str | None = None, parent: str | None = None) -> Mapped:
    """Map a decoded Graph response (a page of `data`, or one object) to posts. `kind` (post, comment, conversation,
    media, ig_comment) is guessed from each item when not given; `own` holds the Page's / account's ids and
    usernames (their items are `by_agency`); `parent` is the post or media a comments page belongs to."""
    out = Mapped()
    if graph_error(payload):
        out.warnings.append(f"meta: the response is an error: {graph_error(payload)}")
        return out
    items = seq(obj(payload).get("data")) if isinstance(obj(payload).get("data"), list) else (
        [payload] if obj(payload).get("id") or obj(payload).get("messages") else seq(payload))
    for item in items:
        if not isinstance(item, dict):
            continue
        mapper = {"post": lambda i: fb_post(i, own, out), "comment": lambda i: fb_comment(i, parent, own, out),
                  "conversation": lambda i: fb_conversation(i, own, out), "media": lambda i: ig_media(i, own, out),
                  "ig_comment": lambda i: ig_comment(i, parent, own, out)}[kind or _kind(item)]
        try:
            mapper(item)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
            out.quarantined.append(Quarantined(reason=f"meta item: {type(e).__name__}: {e}", raw=item))
    return out


def to_posts(payload: Any) -> list[Post]:
    return parse(payload).posts


# ---- the collector --------------------------------------------------------------------------------------------

def _next_params(body: Any) -> dict[str, str] | None:
    """The query of `paging.next` (re-issued against base_url, so a proxy or test server stays in the loop)."""
    nxt = text(obj(obj(body).get("paging")).get("next"))
    if not nxt:
        return None
    return {k: v for k, v in parse_qsl(urlsplit(nxt).query, keep_blank_values=True) if k != "access_token"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _feed(post: Post) -> str:
    """Which cursor mark a mapped post counts against."""
    if post.platform == "instagram":
        return "media" if post.reply_to_id is None else "instagram"
    if post.post_id.startswith("facebook-msg-"):
        return "messages"
    return "posts" if post.reply_to_id is None else "comments"


def _oldest(items: list[Any], key: str) -> datetime | None:
    times = [t for t in (when(obj(i).get(key)) for i in items) if t is not None]
    return min(times) if times else None


class MetaPageCollector(BaseCollector):
    kind = "meta_page"

    def __init__(self, name: str, settings: MetaPageSettings,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        if not settings.page_id and not settings.instagram_user_id:
            raise CollectorError(f"sources.{name}.page_id is not set: give the Facebook Page's numeric id (Page > "
                                 "About > Page transparency, or GET /me/accounts with the token), and "
                                 "instagram_user_id for a linked Instagram professional account")
        self.settings, self._wall, self.calls = settings, wall, 0
        self.own = tuple(i for i in (settings.page_id, settings.instagram_user_id) if i)
        self._session = session()
        self._session.hooks["response"].append(self._graph_hook)
        self._what, self._needs = f"meta {name}", tuple[str, ...]()  # of the call in flight, for the hook's message

    def _graph_hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Graph's own error body becomes the collector error (before http.get's generic one by status)."""
        if response.status_code >= 400 and (error := graph_error(_json(response))):
            raise to_error(error, response.headers, self._what, self._needs)

    def _get(self, path: str, params: dict[str, Any], needs: tuple[str, ...], out: Mapped) -> Any:
        s = self.settings
        url, token = s.base_url.rstrip("/") + "/" + path, s.token.get(f"sources.{self.name}.token")
        self._what, self._needs = f"meta {path}", needs
        response = self.call(lambda: get(self._session, url, self._what, AUTH_HINT, s.timeout_seconds,
                                         params=params, headers={"Authorization": f"Bearer {token}"}))
        self.calls += 1
        body = decode_json(response.content, self._what, out)
        if error := graph_error(body):
            raise to_error(error, response.headers, self._what, needs)
        return body

    def _pages(self, path: str, params: dict[str, Any], needs: tuple[str, ...], out: Mapped,
               done: Callable[[list[Any]], bool]) -> Iterator[Any]:
        """Each page's body, following `paging.next` until `done(items)` says the rest was seen before."""
        for _ in range(self.settings.max_pages):
            body = self._get(path, params, needs, out)
            yield body
            nxt, items = _next_params(body), seq(obj(body).get("data"))
            if nxt is None or not items or done(items):
                return
            params = {**params, **nxt}
        out.warnings.append(f"meta {path}: more than {self.settings.max_pages} pages this run; the older ones are "
                            f"skipped: raise sources.{self.name}.max_pages or run it more often")

    def fetch(self, cursor: str | None) -> Batch:
        state, now, s = load_state(cursor), self._wall(), self.settings
        marks = {f: when(state.get(f)) for f in FEEDS}
        out, read = Mapped(), Mapped()
        if s.page_id:
            self._page_posts(marks, now, read)
            if s.messages:
                self._conversations(marks, read)
        if s.instagram_user_id:
            self._media(now, read)
        fresh = [p for p in read.posts if _feed(p) in ("posts", "media") or marks[_feed(p)] is None
                 or p.created_at >= marks[_feed(p)]]  # type: ignore[operator]
        out.extend(read)
        out.posts = fresh
        for post in read.posts:
            mark = when(state.get(_feed(post)))
            if mark is None or post.created_at > mark:
                state[_feed(post)] = _iso(post.created_at)
        return out.batch(dump_state(state), stats={"calls": self.calls, "read": len(read.posts), "new": len(fresh)})

    def _page_posts(self, marks: dict[str, datetime | None], now: datetime, out: Mapped) -> None:
        s, since = self.settings, now - timedelta(days=self.settings.lookback_days)
        params = {"fields": POST_FIELDS.format(n=s.limit), "limit": s.limit, "since": int(since.timestamp())}
        needs = ("pages_read_engagement", "pages_read_user_content")
        for body in self._pages(f"{s.page_id}/published_posts", params, needs, out, lambda items: False):
            out.extend(parse(body, self.own, "post"))
            for item in seq(obj(body).get("data")):
                self._more_comments(obj(item), marks["comments"], out)

    def _more_comments(self, post: dict[str, Any], mark: datetime | None, out: Mapped) -> None:
        """The comment pages of a post beyond those nested in it, down to the comments seen last run."""
        nested, ident = obj(post.get("comments")), text(post.get("id"))
        oldest, nxt = _oldest(seq(nested.get("data")), "created_time"), _next_params(nested)
        if not ident or nxt is None or (mark is not None and oldest is not None and oldest < mark):
            return
        params = {"fields": COMMENT_FIELDS, "filter": "stream", "order": "reverse_chronological",
                  "limit": self.settings.limit, **{k: v for k, v in nxt.items() if k in ("after", "before")}}
        needs = ("pages_read_engagement", "pages_read_user_content")
        for body in self._pages(f"{ident}/comments", params, needs, out, lambda items: mark is not None and (
                (_oldest(items, "created_time") or mark) < mark)):
            out.extend(parse(body, self.own, "comment", parent=ident))

    def _conversations(self, marks: dict[str, datetime | None], out: Mapped) -> None:
        s, mark = self.settings, marks["messages"]
        params = {"fields": MESSAGE_FIELDS.format(n=s.limit), "limit": s.limit}
        needs = ("pages_messaging", "pages_read_engagement")
        for body in self._pages(f"{s.page_id}/conversations", params, needs, out,
                                lambda items: mark is not None and (_oldest(items, "updated_time") or mark) < mark):
            out.extend(parse(body, self.own, "conversation"))

    def _media(self, now: datetime, out: Mapped) -> None:
        s, since = self.settings, now - timedelta(days=self.settings.lookback_days)
        params = {"fields": MEDIA_FIELDS.format(n=s.limit), "limit": s.limit}
        needs = ("instagram_basic", "instagram_manage_comments", "pages_read_engagement")
        for body in self._pages(f"{s.instagram_user_id}/media", params, needs, out,
                                lambda items: (_oldest(items, "timestamp") or since) < since):
            kept = [i for i in seq(obj(body).get("data")) if (when(obj(i).get("timestamp")) or now) >= since]
            out.extend(parse({"data": kept}, self.own, "media"))


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(MetaPageSettings, lambda name, s, ctx: MetaPageCollector(name, s, ctx.wall))

"""Posting an approved response from CivicRadar through the platforms' own client libraries: Bluesky (atproto,
com.atproto.repo.createRecord), Mastodon (Mastodon.py, POST /api/v1/statuses), X (tweepy, POST /2/tweets with the
account's OAuth 1.0a token, under a cost meter). Off unless `[posting]` turns it on (settings.PostingSettings).

`post` returns what the platform said (its id and the link to the post, in the form the collectors store, so the
agency's own post, once collected, is found by that link); every failure is a `PostingError` whose message says
what happened and what to do. Who may post, the confirmation and the audit record are the caller's
(dashboard/posting_view.py, storage/posting_queries.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from core.errors import CivicRadarError
from settings import PostingSettings, Settings, SettingsError

T = TypeVar("T")
URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


class PostingError(CivicRadarError):
    """Nothing was posted; the message says why and what to do."""


@dataclass(frozen=True)
class Posted:
    platform: str
    post_id: str
    url: str
    account: str


def post(platform: str, text: str, s: Settings, lang: str = "en", posted_this_month: int = 0,
         reply_to: str | None = None) -> Posted:
    """Post `text` as the agency's account on `platform` ('bluesky', 'mastodon' or 'x'); with `reply_to` (the
    platform's id of a post: an at:// URI, a status id on the posting server, a tweet id) as a reply to it."""
    if platform not in s.posting.platforms():
        raise PostingError(f"posting to {platform} is off ([posting] enabled and [posting.{platform}] enabled)")
    try:
        if platform == "bluesky":
            return _bluesky(s, text, lang, reply_to)
        if platform == "mastodon":
            return _mastodon(s.posting, text, lang, reply_to)
        return _x(s, text, posted_this_month, reply_to)
    except SettingsError as e:
        raise PostingError(str(e)) from e


def account(platform: str, s: Settings) -> str:
    """Who a post on `platform` is made as, for the confirmation."""
    if platform == "bluesky":
        return "@" + (s.posting.bluesky.handle or s.accounts.bluesky or "(no handle: set [posting.bluesky] handle)")
    if platform == "mastodon":
        return "@" + (s.accounts.mastodon or f"the account of the token, on {s.posting.mastodon.base_url}")
    return "@" + (s.accounts.x or "the account of the access token")


def _bluesky(s: Settings, text: str, lang: str, reply_to: str | None = None) -> Posted:
    from atproto import Client, client_utils
    from atproto_client.request import Request

    p = s.posting.bluesky
    handle = p.handle or s.accounts.bluesky
    if not handle:
        raise PostingError("posting to Bluesky needs the account's handle: set [posting.bluesky] handle or "
                           "[accounts] bluesky")
    client = Client(base_url=p.base_url, request=Request(timeout=p.timeout_seconds))
    rich = client_utils.TextBuilder()
    at = 0
    for found in URL.finditer(text):  # links as facets, or Bluesky shows them as plain text
        rich.text(text[at:found.start()]).link(found.group(), found.group())
        at = found.end()
    rich.text(text[at:])

    def send() -> Any:
        client.login(handle, p.app_password.get("posting.bluesky.app_password"), fetch_bsky_profile=False)
        reply = _bluesky_reply(client, reply_to) if reply_to else None
        return client.send_post(rich, profile_identify=handle, langs=[lang], reply_to=reply)

    sent = _bluesky_call(send, p.base_url, handle)
    did, rkey = sent.uri.removeprefix("at://").split("/")[0], sent.uri.rsplit("/", 1)[-1]
    return Posted("bluesky", sent.uri, f"https://bsky.app/profile/{did}/post/{rkey}", "@" + handle)


def _bluesky_reply(client: Any, uri: str) -> Any:
    """The reply reference for the post `uri`: it as the parent, and its thread's root (itself, if it starts one)."""
    from atproto import models

    found = client.get_posts([uri]).posts
    if not found:
        raise PostingError(f"Bluesky no longer has the post {uri} (deleted, or its author blocks the agency): "
                           "nothing was sent; answer another way and record it")
    parent = models.ComAtprotoRepoStrongRef.Main(uri=found[0].uri, cid=found[0].cid)
    thread = getattr(found[0].record, "reply", None)
    return models.AppBskyFeedPost.ReplyRef(parent=parent, root=thread.root if thread else parent)


def _bluesky_call(fn: Callable[[], T], base_url: str, handle: str) -> T:
    from atproto_client import exceptions as ex

    try:
        return fn()
    except ex.UnauthorizedError as e:
        raise PostingError(f"Bluesky ({base_url}) refused the login of @{handle}: check that "
                           "BLUESKY_POSTING_APP_PASSWORD (or the variable [posting.bluesky] app_password names) holds "
                           f"a current app password of that account ({e})") from e
    except ex.RateLimitExceededError as e:
        raise PostingError(f"Bluesky is rate-limiting this account ({e}); nothing was posted: try again later") from e
    except (ex.NetworkError, ex.InvokeTimeoutError) as e:
        raise PostingError(f"cannot reach Bluesky at {base_url} ({e}); nothing was posted: try again") from e
    except ex.AtProtocolError as e:
        raise PostingError(f"Bluesky did not take the post ({type(e).__name__}: {e}); nothing was posted") from e


def _mastodon(p: PostingSettings, text: str, lang: str, reply_to: str | None = None) -> Posted:
    from mastodon import Mastodon, errors

    m = p.mastodon
    if not m.base_url:
        raise PostingError("posting to Mastodon needs the account's server: set [posting.mastodon] base_url")
    try:
        api = Mastodon(api_base_url=m.base_url, access_token=m.access_token.get("posting.mastodon.access_token"),
                       request_timeout=m.timeout_seconds, ratelimit_method="throw", version_check_mode="none")
        status = api.status_post(text, visibility=m.visibility, language=lang, in_reply_to_id=reply_to)
    except errors.MastodonUnauthorizedError as e:
        raise PostingError(f"{m.base_url} refused the access token: check that MASTODON_POSTING_TOKEN (or the variable "
                           "[posting.mastodon] access_token names) is the agency account's token with the "
                           f"write:statuses scope ({e})") from e
    except errors.MastodonRatelimitError as e:
        raise PostingError(f"{m.base_url} is rate-limiting this account; nothing was posted: try again later") from e
    except errors.MastodonNetworkError as e:
        raise PostingError(f"cannot reach {m.base_url} ({e}); nothing was posted: try again") from e
    except errors.MastodonError as e:
        raise PostingError(f"{m.base_url} did not take the post ({e}); nothing was posted") from e
    who = status.get("account") or {}
    return Posted("mastodon", str(status["id"]), str(status.get("url") or status.get("uri")),
                  "@" + str(who.get("acct") or "?"))


def x_spend(posted_this_month: int, s: Settings) -> float:
    return posted_this_month * s.posting.x.price_per_post_usd


def _said(error: Any) -> str:
    """What X said, on one line."""
    return "; ".join(str(m) for m in error.api_messages) or str(error).replace("\n", " ")


def _x(s: Settings, text: str, posted_this_month: int, reply_to: str | None = None) -> Posted:
    import requests
    import tweepy

    from collectors.x_support import TWEEPY_HOST, RewriteAdapter

    x = s.posting.x
    spent = x_spend(posted_this_month, s)
    if spent + x.price_per_post_usd > x.monthly_cap_usd:
        month = datetime.now().strftime("%Y-%m")
        raise PostingError(f"X posting cap reached: {posted_this_month} posts from CivicRadar in {month}, "
                           f"${spent:.2f} of the ${x.monthly_cap_usd:.2f} cap; nothing was posted. Post by hand and "
                           "record it, or raise [posting.x] monthly_cap_usd")
    keys = {k: getattr(x, k).get(f"posting.x.{k}") for k in ("consumer_key", "consumer_secret", "access_token",
                                                              "access_token_secret")}
    client = tweepy.Client(**keys, return_type=dict)
    client.session.mount(TWEEPY_HOST, RewriteAdapter(x.base_url, x.timeout_seconds))
    try:
        body = client.create_tweet(text=text, in_reply_to_tweet_id=reply_to, user_auth=True)
    except tweepy.Unauthorized as e:
        raise PostingError("X refused the credentials (401): check the app's API key and secret and the account's "
                           f"access token and secret ([posting.x]), with read and write permission ({e})") from e
    except tweepy.Forbidden as e:
        raise PostingError(f"X refused the post (403: {_said(e)}): a duplicate of a recent post, or an app without "
                           "write access; nothing was posted") from e
    except tweepy.TooManyRequests as e:
        raise PostingError("X is rate-limiting this account (429); nothing was posted: try again later") from e
    except tweepy.HTTPException as e:
        raise PostingError(f"X did not take the post ({e.response.status_code}: {_said(e)}); nothing was posted") from e
    except requests.RequestException as e:
        raise PostingError(f"cannot reach X at {x.base_url} ({e}); nothing was posted: try again") from e
    post_id = str(body["data"]["id"])
    return Posted("x", post_id, f"https://x.com/{s.accounts.x or 'i/web'}/status/{post_id}",
                  "@" + (s.accounts.x or "?"))

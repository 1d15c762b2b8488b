"""Directions wherever posts come from: a post by one of the agency's own accounts ([accounts]) is `by_agency`, and
every post on a platform residents only use to write to the agency (e-mail, web form, SMS, 311, Page comments and
messages: `INBOUND_PLATFORMS`) is `to_agency`.

Sources that know better set directions themselves (the *_account sources, imap, open311); this covers the rest (a
search, a hashtag timeline, an import or the demo replay), so "what the agency said" never counts as public talk
about it, and no tip or text message misses the inbox. Only `public` posts are changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from collectors.base import BY_AGENCY, INBOUND_PLATFORMS, PUBLIC, TO_AGENCY, Post
from settings import AccountSettings


def handles(accounts: AccountSettings) -> dict[str, frozenset[str]]:
    """Per platform, the author handles that are the agency's (lower case; a Mastodon acct also as its user part,
    which is how its own server writes it)."""
    mastodon = accounts.mastodon.lstrip("@").lower()
    found = {"bluesky": {accounts.bluesky.lstrip("@").lower()}, "x": {accounts.x.lstrip("@").lower()},
             "reddit": {accounts.reddit.removeprefix("u/").lower()}, "mastodon": {mastodon, mastodon.split("@")[0]}}
    return {platform: frozenset(h for h in names if h) for platform, names in found.items() if any(names)}


def with_directions(posts: Sequence[Post], accounts: AccountSettings) -> list[Post]:
    """`posts`, the public ones by an agency account marked `by_agency` and those on inbound platforms `to_agency`."""
    own = handles(accounts)
    return [_directed(p, own) if p.direction == PUBLIC else p for p in posts]


def _directed(post: Post, own: dict[str, frozenset[str]]) -> Post:
    if post.platform in own and (post.author_handle or "").lower() in own[post.platform]:
        return replace(post, direction=BY_AGENCY)
    return replace(post, direction=TO_AGENCY) if post.platform in INBOUND_PLATFORMS else post

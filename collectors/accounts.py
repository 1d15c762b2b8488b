"""The agency's own accounts ([accounts]) wherever their posts turn up: any source's post by one is `by_agency`.

The *_account sources set directions themselves; this covers the rest (a search, a hashtag timeline, a replay that
happens to bring the agency's own posts), so "what the agency said" never counts as public talk about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from collectors.base import BY_AGENCY, PUBLIC, Post
from settings import AccountSettings


def handles(accounts: AccountSettings) -> dict[str, frozenset[str]]:
    """Per platform, the author handles that are the agency's (lower case; a Mastodon acct also as its user part,
    which is how its own server writes it)."""
    mastodon = accounts.mastodon.lstrip("@").lower()
    found = {"bluesky": {accounts.bluesky.lstrip("@").lower()}, "x": {accounts.x.lstrip("@").lower()},
             "reddit": {accounts.reddit.removeprefix("u/").lower()}, "mastodon": {mastodon, mastodon.split("@")[0]}}
    return {platform: frozenset(h for h in names if h) for platform, names in found.items() if any(names)}


def own_posts(posts: Sequence[Post], accounts: AccountSettings) -> list[Post]:
    """`posts`, with those written by one of the agency's accounts marked `by_agency` (other directions kept)."""
    own = handles(accounts)
    if not own:
        return list(posts)
    return [replace(p, direction=BY_AGENCY) if p.direction == PUBLIC and (p.author_handle or "").lower() in own.get(
        p.platform, ()) else p for p in posts]

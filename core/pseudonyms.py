"""Author pseudonyms: one keyed hash for retention (stored ids) and the dashboard (shown handles).

The key is its own secret (`pseudonym.key` beside the database, `Settings.local_secret(KEY_FILE)`), never the
storage-service token, so rotating the token leaves every pseudonym as it was. The same author gets the same
pseudonym wherever it is made: in the database once retention has pseudonymised their old posts, and on the
dashboard for roles that do not see handles.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "pseud-"
KEY_FILE = "pseudonym.key"


def pseudonym(key: bytes, author_id: str) -> str:
    """`pseud-` and 16 hex digits of HMAC-SHA256(key, author_id); an id that is already a pseudonym is kept."""
    if author_id.startswith(PREFIX):
        return author_id
    return PREFIX + hmac.new(key, author_id.encode(), hashlib.sha256).hexdigest()[:16]

"""Meta Graph API errors (`{"error": {"code", "error_subcode", "type", "message"}}`) as collector errors.

Graph answers most failures with HTTP 400 (sometimes 401 / 403 / 500) and says what went wrong in the body's
`code`; the message here says what to do about it:

    190                         AuthFailed: the Page token expired or was invalidated; how to get a long-lived one
    10, 200-299                 AuthFailed: the app or token lacks a permission; which one the endpoint needs
    4, 17, 32, 613, 80001-80006 RateLimited: waiting as long as the usage headers say
    1, 2 (or `is_transient`)    SourceUnavailable: retried with backoff
    100                         CollectorError: a parameter (the page or account id, a field) is wrong
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from collectors.base import AuthFailed, CollectorError, RateLimited, SourceUnavailable
from collectors.http import retry_after

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80004, 80005, 80006})
USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage")
TOKEN_HINT = ("get a new long-lived Page token: in the Graph API Explorer (or your app's login flow) get a user "
              "token with the permissions this source needs, exchange it for a long-lived one (GET /oauth/"
              "access_token?grant_type=fb_exchange_token&client_id=APP_ID&client_secret=APP_SECRET&"
              "fb_exchange_token=TOKEN), then read the Page's own token from GET /me/accounts with it (a Page token "
              "from a long-lived user token does not expire); export it as the variable sources.NAME.token names")


def graph_error(body: Any) -> dict[str, Any] | None:
    """The `error` object of a decoded Graph body, or None when the body is not a Graph error."""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def usage_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until Meta lets the app call again: `estimated_time_to_regain_access` (minutes) in the
    X-Business-Use-Case-Usage / X-Page-Usage / X-App-Usage headers, else Retry-After; None when none says."""
    lowered = {k.lower(): v for k, v in headers.items()}
    minutes = [m for name in USAGE_HEADERS if name in lowered for m in _regain_minutes(lowered[name])]
    return max(minutes) * 60.0 if minutes else retry_after(headers)


def _regain_minutes(header: str) -> list[float]:
    try:
        usage = json.loads(header)
    except ValueError:
        return []
    entries = [usage] if isinstance(usage, dict) and "call_count" in usage else (
        [e for v in usage.values() if isinstance(v, list) for e in v] if isinstance(usage, dict) else [])
    return [float(e["estimated_time_to_regain_access"]) for e in entries if isinstance(e, dict)
            and isinstance(e.get("estimated_time_to_regain_access"), int | float)]


def to_error(error: dict[str, Any], headers: Mapping[str, str], what: str, needs: Sequence[str]) -> CollectorError:
    """The collector error for a Graph `error` object from a call that needs the permissions `needs`."""
    code, sub = _int(error.get("code")), _int(error.get("error_subcode"))
    said = " ".join(str(error.get("message") or "no message").split())[:300]
    detail = f"(Graph said: code {code}{f'/{sub}' if sub else ''} {error.get('type') or ''}: {said})"
    if code == 190:
        return AuthFailed(f"{what}: the Page access token is expired or invalid {detail}; {TOKEN_HINT}")
    if code == 10 or 200 <= code <= 299:
        perms = " and ".join(needs) or "the permission Meta names"
        return AuthFailed(f"{what}: the token lacks a permission {detail}; this call needs {perms}: add it to the "
                          "app (App Review for live Pages), grant it when creating the Page token, and set the new "
                          "token")
    if code in RATE_LIMIT_CODES:
        wait = usage_wait(headers)
        return RateLimited(f"{what}: Meta's rate limit was reached {detail}; waiting "
                           f"{wait if wait is not None else 60:.0f}s, then continuing", retry_after=wait)
    if code in (1, 2) or error.get("is_transient") is True:
        return SourceUnavailable(f"{what}: Meta reports a temporary problem {detail}; retrying with backoff")
    if code == 100:
        return CollectorError(f"{what}: Meta refused a parameter {detail}; check sources.NAME.page_id and "
                              "instagram_user_id (numeric ids the token can read) and base_url's API version")
    return CollectorError(f"{what}: Meta's Graph API refused the call {detail}")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0

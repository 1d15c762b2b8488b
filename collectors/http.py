"""Plain-HTTP plumbing for the sources without a client library (feeds, Open311, fact-checks, files).

One `requests` session per collector, and one translation of HTTP outcomes into the collector error tree:
401 / 403 -> AuthFailed (with the source's own hint), 429 -> RateLimited (waiting until the reset the
server gives), 5xx / timeouts / connection errors -> SourceUnavailable, anything else -> CollectorError.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests

from collectors.base import AuthFailed, BadPayload, CollectorError, RateLimited, SourceUnavailable

USER_AGENT = "CivicRadar/0.1 (self-hosted social listening for a public agency)"
RESET_HEADERS = ("x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset")


def session(user_agent: str = USER_AGENT) -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = user_agent
    return s


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds until the server lets us call again, from Retry-After or a rate-limit reset header.

    Reset headers come as epoch seconds (X, Bluesky), seconds to go (Reddit) or an ISO time (Mastodon).
    """
    now = time.time() if now is None else now
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after" in lowered:
        return _seconds(lowered["retry-after"], now, http_date=True)
    for name in RESET_HEADERS:
        if name in lowered:
            return _seconds(lowered[name], now, http_date=False)
    return None


def _seconds(value: str, now: float, http_date: bool) -> float | None:
    value = str(value).strip()
    try:
        number = float(value)
    except ValueError:
        return _date_seconds(value, now, http_date)
    if not math.isfinite(number):
        return None
    return max(number - now, 0.0) if number > 1e9 else max(number, 0.0)


def _date_seconds(value: str, now: float, http_date: bool) -> float | None:
    try:
        moment = email.utils.parsedate_to_datetime(value) if http_date else datetime.fromisoformat(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(moment.timestamp() - now, 0.0)


def error_for(status: int, headers: Mapping[str, str], body: str, what: str, auth_hint: str) -> CollectorError:
    """The collector error for an HTTP status of 400 or more."""
    detail = " ".join(body.split())[:300]
    if status in (401, 403):
        return AuthFailed(f"{what}: {status} {'Unauthorized' if status == 401 else 'Forbidden'}. {auth_hint} "
                          f"(server said: {detail or 'nothing'})")
    if status == 429:
        wait = retry_after(headers)
        return RateLimited(f"{what}: rate limited (429); waiting {wait if wait is not None else 60:.0f}s as the "
                           "server asked, then continuing", retry_after=wait)
    if status >= 500:
        return SourceUnavailable(f"{what}: server error {status}; retrying with backoff (server said: {detail})")
    return CollectorError(f"{what}: HTTP {status} (server said: {detail or 'nothing'}); check the source's "
                          "settings (URL, parameters)")


def check(status: int, headers: Mapping[str, str], body: str, what: str, auth_hint: str) -> None:
    """Raise the collector error for an HTTP status that is not success (304 counts as success)."""
    if status >= 400:
        raise error_for(status, headers, body, what, auth_hint)


MAX_BODY_BYTES = 32 * 2**20


def _read_capped(response: requests.Response, what: str) -> None:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=1 << 16):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            response.close()
            raise BadPayload(f"{what}: the response is larger than {MAX_BODY_BYTES >> 20} MB and was refused; "
                             "check the source's base_url and page size")
        chunks.append(chunk)
    response._content = b"".join(chunks)  # what requests itself does when it reads a body


def get(s: requests.Session, url: str, what: str, auth_hint: str, timeout: float = 30.0,
        **kwargs: Any) -> requests.Response:
    """GET with errors translated; the caller reads `.content` (kept raw) and `.status_code` (200 or 304).

    The body is read in chunks and refused past MAX_BODY_BYTES, so a misbehaving server cannot exhaust memory."""
    try:
        response = s.get(url, timeout=timeout, stream=True, **kwargs)
        _read_capped(response, what)
    except requests.Timeout as e:
        raise SourceUnavailable(f"{what}: no answer within {timeout:g}s ({e}); retrying with backoff") from e
    except requests.RequestException as e:
        raise SourceUnavailable(f"{what}: cannot connect ({e}); retrying with backoff") from e
    check(response.status_code, response.headers, response.text if response.status_code >= 400 else "",
          what, auth_hint)
    return response

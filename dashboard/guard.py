"""What staff see when the engine does not answer or a page fails: a short message and a retry, never a trace.

Data loading (`loading`, on dashboard.data's readers), page execution (`page_errors`, in app.py) and the live
refresh (`refreshing`, instead of `st.fragment`) all end in `fail`, so no page needs its own try/except. The
details (the error, and its traceback when it is not just an unreachable engine) go to the dashboard's log.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, ParamSpec, TypeVar

import streamlit as st

from storage.client import ServiceError, ServiceUnreachable

log = logging.getLogger("civicradar.dashboard")
P = ParamSpec("P")
R = TypeVar("R")
RETRY_KEY = "civicradar_retry_due"
DEFAULT_RETRY_SECONDS = 5.0


def explain(error: Exception) -> str:
    """One plain sentence on what is wrong; never a traceback or an exception's type."""
    if isinstance(error, ServiceUnreachable):
        return "The CivicRadar engine is not reachable right now: it may be stopped, restarting or busy."
    if isinstance(error, ServiceError):
        said = str(error).splitlines()[0] if str(error) else "no reason given"
        return f"The CivicRadar engine could not answer this page: {said[:300]}"
    return "Something went wrong while loading this page."


def fail(error: Exception, where: str) -> NoReturn:
    """Show `explain(error)` and that the page retries, log the details, and stop this run of the page."""
    if isinstance(error, ServiceUnreachable):
        log.warning("%s: %s", where, error)  # a network failure: its traceback says nothing more
    else:
        log.error("%s failed", where, exc_info=error)
    seconds = retry_seconds()
    hint = " If this lasts, check that the engine runs (`civicradar run`)." if isinstance(error, ServiceError) else ""
    st.warning(f"{explain(error)} This page tries again every {seconds:g} seconds.{hint} "
               "The details are in the dashboard's log.", icon=":material/cloud_off:")
    _retry_every(seconds)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises; this line satisfies the type checker


def loading(fn: Callable[P, R]) -> Callable[P, R]:
    """For functions that load data: any failure becomes `fail`'s message where the data was wanted."""

    @functools.wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            fail(e, f"loading data ({fn.__qualname__})")

    return guarded


@contextmanager
def page_errors() -> Iterator[None]:
    """Around a whole page: an error no loader caught still becomes a short message."""
    try:
        yield
    except Exception as e:
        fail(e, "page")


def refreshing(seconds: float) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """`st.fragment(run_every=seconds)` whose failures show `fail`'s message; the next refresh tries again."""

    def decorate(fn: Callable[[], None]) -> Callable[[], None]:
        @functools.wraps(fn)
        def guarded() -> None:
            with page_errors():
                fn()

        return st.fragment(run_every=seconds)(guarded)

    return decorate


def retry_seconds() -> float:
    from dashboard.data import settings  # data imports this module

    try:
        return float(settings().dashboard.refresh_seconds)
    except Exception:  # a broken settings file must not hide the message being shown
        return DEFAULT_RETRY_SECONDS


def _retry_every(seconds: float) -> None:
    """Rerun the whole page `seconds` after a failure, until it loads (a timer in the browser: st.fragment)."""

    @st.fragment(run_every=seconds)
    def retry() -> None:
        due = st.session_state.setdefault(RETRY_KEY, time.monotonic() + seconds * 0.9)
        if time.monotonic() >= due:  # called by the timer, not while the failing page is drawn
            del st.session_state[RETRY_KEY]
            st.rerun()

    retry()

"""Did the response work? For an incident with a recorded response: its posts per hour before and after the
response against the usual for the same hours, and the engagement of the agency's own post where it was collected,
summarised in one sentence ("posts repeating the claim fell from 37/h to 6/h within 3 h of the correction").

Which posts: an incident is followed by the most specific series its alerts name: the labelled matches of its claims
(claim bursts, or any alert naming a claim), else its topics, else its watches (storage/effect_queries.py). Its
evidence posts are not used: they are a sample picked when the alerts fired, not a rate that can fall.

The figures: `before` is the posts in the hour before the response; `after` the posts in hour `hours` after it
([at + (hours - 1) h, at + hours h), or the latest full hour while less time has passed); the usual for an hour is
the mean of the same hour on the `baseline_days` days before (days before the stored history are left out). Hours
are on the engine clock; a recorded response's time is on the wall clock and is placed with `Clock`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from settings import Settings

QueryFn = Callable[[str, dict[str, Any]], pd.DataFrame]
KINDS = ("claim", "topic", "watch")  # most specific first
FELL, ROSE = 0.8, 1.25  # after / before at or below FELL "fell", at or above ROSE "rose" (and a change of >= 2/h)
PLATFORM_NAMES = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon", "reddit": "Reddit", "facebook": "Facebook",
                  "instagram": "Instagram"}


@dataclass(frozen=True)
class Clock:
    """Places wall-clock times (responses are recorded on it) on the engine clock the posts are on. Outside the
    demo both are the same; the demo's replay runs `speed` times faster than the wall clock."""

    engine_now: datetime
    wall_now: datetime
    simulated: bool = False
    speed: float = 1.0

    def engine_time(self, wall: datetime) -> datetime:
        if not self.simulated:
            return wall
        # to the minute: the mapping moves with every look at the clocks, and a stable time keeps the page's cache
        return (self.engine_now - (self.wall_now - wall) * self.speed).replace(second=0, microsecond=0)


def replay_speed(s: Settings) -> float:
    """The speed of the replay that drives a simulated clock (the demo: 60), else 1."""
    for source in s.sources.values():
        speed = float(getattr(source, "speed", 0.0) or 0.0)
        if getattr(source, "drives_clock", False) and speed > 0:
            return speed
    return 1.0


@dataclass(frozen=True)
class Follow:
    """The series an incident is followed by: a kind and its keys (claim ids, topics or watches)."""

    kind: str
    keys: tuple[str, ...]

    @property
    def what(self) -> str:
        if self.kind == "claim":
            return "posts repeating the claim" if len(self.keys) == 1 else "posts repeating its claims"
        noun = "topic" if self.kind == "topic" else "watch"
        if len(self.keys) == 1:
            return f"posts on {noun} '{self.keys[0]}'"
        return f"posts on its {noun}{'s' if noun == 'topic' else 'es'} ({', '.join(self.keys)})"

    @property
    def response_noun(self) -> str:
        return "correction" if self.kind == "claim" else "response"


def follow_of(about: pd.Series) -> Follow | None:
    """The most specific series an incident names (from `incident_effect_about`), or None."""
    for kind, column in zip(KINDS, ("claims", "topics", "watches"), strict=True):
        keys = _strings(about.get(column))
        if keys:
            return Follow(kind, keys)
    return None


def _strings(value: Any) -> tuple[str, ...]:
    if value is None or isinstance(value, float):
        return ()
    return tuple(sorted(str(v) for v in value if v is not None and str(v)))


@dataclass(frozen=True)
class Engagement:
    platform: str
    url: str
    likes: int
    reposts: int
    replies: int
    quotes: int

    def words(self, noun: str) -> str:
        counts = [f"{n} {word if n == 1 else plural}" for n, word, plural in (
            (self.likes, "like", "likes"), (self.reposts, "repost", "reposts"), (self.replies, "reply", "replies"),
            (self.quotes, "quote", "quotes")) if n]
        said = _joined(counts) if counts else "no likes, reposts or replies yet"
        return f"the {noun} on {PLATFORM_NAMES.get(self.platform, self.platform)} has {said}"


def _joined(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def rate(value: float) -> str:
    """'37/h', '0.4/h': whole numbers as they are, small means with one decimal."""
    if value >= 10 or float(value).is_integer():
        return f"{value:.0f}/h"
    return f"{value:.1f}/h"


@dataclass(frozen=True)
class Effect:
    follow: Follow
    channel: str
    at: datetime  # the response, engine clock
    before: int  # posts in the hour before the response
    usual_before: float
    after: int | None  # posts in hour `hours` after (None: no full hour has passed)
    usual_after: float | None
    hours: int
    hourly: pd.DataFrame = field(repr=False)  # hour, start, posts, usual, complete
    engagement: Engagement | None = None

    @property
    def change(self) -> str:
        """'fell', 'rose' or 'held' (or 'early' before a full hour has passed)."""
        if self.after is None:
            return "early"
        if self.after <= self.before * FELL and self.before - self.after >= 2:
            return "fell"
        if self.after >= self.before * ROSE and self.after - self.before >= 2:
            return "rose"
        return "held"

    @property
    def excess_gone(self) -> float | None:
        """The share of the posts above the usual in the hour before that were gone `hours` later."""
        if self.after is None or self.usual_after is None or self.before - self.usual_before <= 0:
            return None
        left = max(self.after - self.usual_after, 0.0) / (self.before - self.usual_before)
        return max(0.0, 1.0 - left)

    def sentence(self) -> str:
        what, noun = self.follow.what, self.follow.response_noun
        if self.after is None:
            text = (f"Too early to tell: {what} ran at {rate(self.before)} in the hour before the {noun} (usual for "
                    f"that hour: {rate(self.usual_before)}); the first full hour after it is not over yet")
        else:
            usual = f"usual for that hour: {rate(self.usual_after or 0.0)}"
            within = f"within {self.hours} h of the {noun}"
            text = {"fell": f"{what} fell from {rate(self.before)} to {rate(self.after)} {within} ({usual})",
                    "rose": f"{what} rose from {rate(self.before)} to {rate(self.after)} {within} ({usual})",
                    "held": f"{what} held at {rate(self.after)} {within}, against {rate(self.before)} in the hour "
                            f"before ({usual})"}[self.change]
        if self.engagement is not None:
            text += f"; {self.engagement.words(noun)}"
        return text[0].upper() + text[1:] + "."


def hourly_frame(counts: dict[int, int], at: datetime, engine_now: datetime, window: int, baseline_days: int,
                 history_start: datetime | None) -> pd.DataFrame:
    """Hours -window .. window-1 around `at`: posts, the usual for that hour, and whether the hour is over."""
    rows = []
    for hour in range(-window, window):
        start = at + timedelta(hours=hour)
        rows.append({"hour": hour, "start": start, "posts": counts.get(hour, 0),
                     "usual": usual(counts, hour, at, baseline_days, history_start),
                     "complete": start + timedelta(hours=1) <= engine_now})
    return pd.DataFrame(rows)


def usual(counts: dict[int, int], hour: int, at: datetime, days: int, history_start: datetime | None) -> float:
    """The mean of the same hour on the `days` days before, over the days the stored history covers."""
    earlier = [hour - 24 * d for d in range(1, days + 1)]
    if history_start is not None:
        earlier = [h for h in earlier if at + timedelta(hours=h) >= history_start]
    return sum(counts.get(h, 0) for h in earlier) / len(earlier) if earlier else 0.0


def compute(series: pd.DataFrame, follow: Follow, at: datetime, engine_now: datetime, s: Settings, channel: str,
            history_start: datetime | None, engagement: Engagement | None = None) -> Effect:
    """The effect from `incident_effect_series` rows (kind, hour, posts), for the followed kind."""
    rule = s.effect
    mine = series[series["kind"] == follow.kind] if len(series) else series
    counts = {int(h): int(p) for h, p in zip(mine.get("hour", []), mine.get("posts", []), strict=True)}
    window = max(rule.window_hours, rule.hours)
    frame = hourly_frame(counts, at, engine_now, window, rule.baseline_days, history_start)
    by_hour = frame.set_index("hour")
    done = [h for h in range(rule.hours) if bool(by_hour.loc[h, "complete"])]
    last = done[-1] if done else None
    return Effect(follow, channel, at, counts.get(-1, 0), float(by_hour.loc[-1, "usual"]),
                  None if last is None else counts.get(last, 0),
                  None if last is None else float(by_hour.loc[last, "usual"]),
                  0 if last is None else last + 1, frame, engagement)


def engagement_of(frame: pd.DataFrame, url: str | None) -> Engagement | None:
    """The collected own post whose link is the response's (from `incident_response_engagement`)."""
    if not url or not len(frame):
        return None
    found = frame[frame["url"] == url.rstrip("/")]
    if found.empty:
        return None
    r = found.iloc[-1]
    return Engagement(str(r["platform"]), str(r["url"]), int(r["like_count"]), int(r["repost_count"]),
                      int(r["reply_count"]), int(r["quote_count"]))


def first_response(responses: pd.DataFrame) -> dict[str, Any] | None:
    """The earliest recorded response (what time to first response counts), as a plain dict."""
    if not len(responses):
        return None
    row = responses.sort_values("posted_at").iloc[0]
    return {k: (None if _missing(v) else v) for k, v in row.items()}


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, list | tuple) and bool(pd.isna(value)))


def measure(run: QueryFn, incident_id: int, response: dict[str, Any], clock: Clock, s: Settings
            ) -> Effect | str:
    """The effect of one recorded response (a row of `incident_responses`), or why it cannot be measured."""
    about = run("incident_effect_about", {"incident_id": incident_id})
    follow = follow_of(about.iloc[0]) if len(about) else None
    if follow is None:
        return "This incident names no claim, topic or watch, so there is no series of posts to follow."
    at = clock.engine_time(pd.Timestamp(response["posted_at"]).to_pydatetime())
    rule = s.effect
    series = run("incident_effect_series", {
        "incident_id": incident_id, "at": at.isoformat(), "hours_before": max(rule.window_hours, 1),
        "hours_after": max(rule.window_hours, rule.hours), "baseline_days": rule.baseline_days,
        "min_claim_score": s.alerts.claim_match_score, "topic_min_score": s.alerts.topic_min_score})
    start = about.iloc[0].get("history_start")
    history = None if _missing(start) else pd.Timestamp(start).to_pydatetime()
    engagement = engagement_of(run("incident_response_engagement", {"incident_id": incident_id}),
                               response.get("url"))
    return compute(series, follow, at, clock.engine_now, s, str(response.get("channel") or ""), history, engagement)


def for_digest(run: QueryFn, incidents: pd.DataFrame, s: Settings, until: datetime) -> dict[int, str]:
    """Each responded incident's sentence, as of the digest's end (or now, for a digest still under way).

    The digest reads recorded times as engine-clock times: outside the demo they are the same clock."""
    if not len(incidents) or "first_response_at" not in incidents:
        return {}
    moment = min(until, datetime.now(UTC).replace(tzinfo=None))
    found: dict[int, str] = {}
    for incident_id in incidents.loc[incidents["first_response_at"].notna(), "incident_id"]:
        response = first_response(run("incident_responses", {"incident_id": int(incident_id)}))
        if response is not None:
            result = measure(run, int(incident_id), response, Clock(moment, moment), s)
            found[int(incident_id)] = result if isinstance(result, str) else result.sentence()
    return found

"""Volume spikes and sentiment shifts per watch and topic (and over all posts), from one aggregate per pass.

Volume: the posts of a series in the last window against the same local hour on past weeks (same weekday) or
past days, the expected count floored for quiet series; it needs at least `min_posts`, `medium_ratio` times the
expected count and `min_z` Poisson standard deviations. Sentiment: the negative share of the labelled posts of a
series against its share over the baseline hours before, by at least `medium_rise` and `min_z` binomial
standard deviations. 'All posts' is reported only when no watch or topic explains the step.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from pydantic import Field

from alerts import explain as ex
from alerts.context import Context, evidence_from
from alerts.model import Finding
from alerts.registry import Detector, Rules
from alerts.text import top_phrase
from alerts.windows import Baseline, BucketSums, merge_ranges, seasonal, typical
from settings import StrictModel

PHRASE_POSTS = 400


class VolumeRule(StrictModel):
    """[alerts.volume]: posts per watch / topic in the last window against the same hour on past weeks (or days)."""

    enabled: bool = True
    window_minutes: int = Field(60, gt=0)
    min_posts: int = Field(20, gt=0)
    baseline_floor: float = Field(5.0, gt=0)
    weeks: int = Field(4, ge=0)
    min_weeks: int = Field(2, gt=0)
    days: int = Field(7, gt=0)
    min_z: float = Field(5.0, ge=0)
    medium_ratio: float = Field(3.0, gt=1)
    high_ratio: float = Field(5.0, gt=1)


class SentimentRule(StrictModel):
    """[alerts.sentiment]: the negative share of a watch / topic in the last window against its baseline share."""

    enabled: bool = True
    window_minutes: int = Field(60, gt=0)
    baseline_hours: int = Field(168, gt=0)
    min_labelled: int = Field(20, gt=0)
    min_z: float = Field(4.0, ge=0)
    medium_rise: float = Field(0.20, gt=0, lt=1)
    high_rise: float = Field(0.35, gt=0, lt=1)


def detect(ctx: Context) -> list[Finding]:
    vol, sent = ctx.rule(VolumeRule), ctx.rule(SentimentRule)
    if not (vol.enabled or sent.enabled) or not ctx.steps:
        return []
    wv, ws = timedelta(minutes=vol.window_minutes), timedelta(minutes=sent.window_minutes)
    plans = {e: seasonal(e, wv, ctx.zone, vol.weeks, vol.min_weeks, vol.days, ctx.data_start) for e in ctx.steps}
    ranges = [(e - wv, e) for e in ctx.steps] + [w for b in plans.values() for w in b.windows]
    if sent.enabled:
        ranges += [(e - ws - timedelta(hours=sent.baseline_hours), e) for e in ctx.steps]
    merged = merge_ranges(ranges)
    frame = ctx.reader.series_counts(merged, ctx.bucket_minutes, ctx.settings.topic_min_score)
    sums = BucketSums(frame, ["dim", "key"], ["posts", "labelled", "negative"], merged[0][0], merged[-1][1],
                      ctx.bucket_minutes)
    found: list[Finding] = []
    for e in ctx.steps:
        step = (_volume(ctx, sums, e, plans[e]) if vol.enabled else []) + (_sentiment(ctx, sums, e) if sent.enabled
                                                                           else [])
        found += _without_redundant_all(step)
    return found


def _without_redundant_all(findings: list[Finding]) -> list[Finding]:
    explained = {f.kind for f in findings if f.watch or f.topic}
    return [f for f in findings if f.watch or f.topic or f.kind not in explained]


def _volume(ctx: Context, sums: BucketSums, end: datetime, baseline: Baseline) -> list[Finding]:
    rule = ctx.rule(VolumeRule)
    if not baseline.windows:
        return []
    window = timedelta(minutes=rule.window_minutes)
    now = sums.total("posts", end - window, end)
    past = np.array([sums.total("posts", lo, hi) for lo, hi in baseline.windows])
    expected = np.array([typical(list(past[:, i])) for i in range(len(sums.series))])
    floored = np.maximum(expected, rule.baseline_floor)
    ratio, z = now / floored, (now - floored) / np.sqrt(floored)
    fired = np.flatnonzero((now >= rule.min_posts) & (ratio >= rule.medium_ratio) & (z >= rule.min_z))
    return [_volume_finding(ctx, sums, end, baseline, int(i), now[i], expected[i], ratio[i]) for i in fired]


def _volume_finding(ctx: Context, sums: BucketSums, end: datetime, baseline: Baseline, i: int, now: float,
                    expected: float, ratio: float) -> Finding:
    rule, (dim, key) = ctx.rule(VolumeRule), sums.series[i]
    window = timedelta(minutes=rule.window_minutes)
    posts = ctx.reader.series_posts(dim, key, end - window, end, ctx.settings.topic_min_score, PHRASE_POSTS)
    labelled, negative = sums.total("labelled", end - window, end)[i], sums.total("negative", end - window, end)[i]
    phrase = top_phrase(posts["text"])
    text = (f"{ex.number(now)} posts{'' if dim == 'all' else ' on ' + ex.subject(dim, key)} in the "
            f"{ex.minutes_phrase(rule.window_minutes)} to "
            f"{ex.day_and_clock(end, ctx.zone)}, {ex.times(ratio)} {_usual(ctx, end, baseline, expected)}. "
            + _sentiment_clause(labelled, negative) + (f" Top phrase: \"{phrase}\"." if phrase else ""))
    return Finding("volume_spike", f"volume_spike:{dim}:{key}", "high" if ratio >= rule.high_ratio else "medium",
                   end, f"Volume spike on {ex.subject(dim, key)}: {ex.number(now)} posts, {ex.times(ratio)} usual",
                   text, watch=_watch(dim, key), topic=_topic(dim, key), evidence=evidence_from(posts),
                   metrics={"posts": now, "expected": round(expected, 2), "ratio": round(ratio, 2),
                            "baseline": baseline.basis, "baseline_windows": len(baseline.windows),
                            "labelled": labelled, "negative": negative, "top_phrase": phrase})


def _usual(ctx: Context, end: datetime, baseline: Baseline, expected: float) -> str:
    """'the usual 22.5 for a Tuesday 9 am (median of the last 4 Tuesdays)'."""
    floor, weekly, n = ctx.rule(VolumeRule).baseline_floor, baseline.basis == "weekly", len(baseline.windows)
    how = "median" if n >= 3 else "mean"
    source = (f"{how} of the last {n} {ex.local(end, ctx.zone):%A}s" if weekly
              else f"{how} of the same hour on the previous {n} days" if n > 1 else "the same hour the day before")
    quiet = f"; a quiet series, counted as at least {ex.number(floor)}" if expected < floor else ""
    return (f"the usual {ex.number(round(expected, 1))} for {ex.hour_phrase(end, ctx.zone, weekly)} "
            f"({source}{quiet})")


def _sentiment_clause(labelled: float, negative: float) -> str:
    if not labelled:
        return "Sentiment: not labelled yet."
    return f"{ex.percent(negative / labelled)} negative (of {ex.number(labelled)} labelled posts)."


def _watch(dim: str, key: str) -> str | None:
    return key if dim == "watch" else None


def _topic(dim: str, key: str) -> str | None:
    return key if dim == "topic" else None


def _sentiment(ctx: Context, sums: BucketSums, end: datetime) -> list[Finding]:
    rule = ctx.rule(SentimentRule)
    window, base = timedelta(minutes=rule.window_minutes), timedelta(hours=rule.baseline_hours)
    lab, neg = sums.total("labelled", end - window, end), sums.total("negative", end - window, end)
    base_lab = sums.total("labelled", end - window - base, end - window)
    base_neg = sums.total("negative", end - window - base, end - window)
    with np.errstate(divide="ignore", invalid="ignore"):
        share, p0 = np.where(lab > 0, neg / lab, 0.0), np.where(base_lab > 0, base_neg / base_lab, 0.0)
        spread = np.sqrt(np.maximum(p0, 0.05) * (1 - np.minimum(p0, 0.95)) / np.maximum(lab, 1))
    rise, z = share - p0, (share - p0) / spread
    ok = (lab >= rule.min_labelled) & (base_lab >= rule.min_labelled) & (rise >= rule.medium_rise) & (z >= rule.min_z)
    return [_sentiment_finding(ctx, sums, end, int(i), lab[i], neg[i], p0[i], base_lab[i]) for i in np.flatnonzero(ok)]


def _sentiment_finding(ctx: Context, sums: BucketSums, end: datetime, i: int, lab: float, neg: float, p0: float,
                       base_lab: float) -> Finding:
    rule, (dim, key) = ctx.rule(SentimentRule), sums.series[i]
    window = timedelta(minutes=rule.window_minutes)
    posts = ctx.reader.series_posts(dim, key, end - window, end, ctx.settings.topic_min_score, PHRASE_POSTS,
                                    negative_only=True)
    phrase, share = top_phrase(posts["text"]), neg / lab
    total = sums.total("posts", end - window, end)[i]
    text = (f"{ex.percent(share)} of the {ex.number(lab)} labelled posts on {ex.subject(dim, key)} in the "
            f"{ex.minutes_phrase(rule.window_minutes)} to {ex.day_and_clock(end, ctx.zone)} are negative, against "
            f"{ex.percent(p0)} over the previous {rule.baseline_hours} hours ({ex.number(base_lab)} labelled posts): "
            f"{100 * (share - p0):+.0f} points. {ex.number(total)} posts in all."
            + (f" Top phrase among the negative posts: \"{phrase}\"." if phrase else ""))
    severity = "high" if share - p0 >= rule.high_rise else "medium"
    title = f"Sentiment shift on {ex.subject(dim, key)}: {ex.percent(share)} negative (usually {ex.percent(p0)})"
    return Finding("sentiment_shift", f"sentiment_shift:{dim}:{key}", severity, end, title,
                   text, watch=_watch(dim, key), topic=_topic(dim, key),
                   metrics={"labelled": lab, "negative": neg, "share": round(share, 3), "baseline_share": round(p0, 3),
                            "baseline_labelled": base_lab, "posts": total, "top_phrase": phrase},
                   evidence=evidence_from(posts, "negative"))


def _windows(rules: Rules) -> tuple[int, ...]:
    return rules(VolumeRule).window_minutes, rules(SentimentRule).window_minutes


DETECTOR = Detector(detect, kinds=("volume_spike", "sentiment_shift"),
                    rules={"volume": VolumeRule, "sentiment": SentimentRule}, order=10, windows=_windows, fast=True)

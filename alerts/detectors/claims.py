"""Fact-check match bursts: posts matching a claim rated false, counted in the last window and growing.

A post counts for a claim through the labeller's claim match (`labels.matched_claim_id`, score at least
`min_match_score`) when it has a misinformation label, else through a lexical fallback (enough of the claim's
words, stop words left out, compared on their first five letters); the explanation says which. A burst needs
`min_posts` in the window, `min_ratio` times the hourly rate of the baseline hours before, and at least as many
matches in the newer half of the window as in the older half (growing, not fading).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from pydantic import Field

from alerts import explain as ex
from alerts.context import Context, evidence_from
from alerts.model import Finding, Link
from alerts.registry import Detector, Rules
from alerts.text import STOPWORDS
from alerts.windows import BucketSums
from settings import CLAIM_MATCH_SCORE, StrictModel


class ClaimRule(StrictModel):
    """[alerts.claims]: posts matching a claim rated false, counted in the last window and growing."""

    enabled: bool = True
    window_minutes: int = Field(60, gt=0)
    baseline_hours: int = Field(24, gt=0)
    min_posts: int = Field(10, gt=0)
    high_posts: int = Field(25, gt=0)
    min_ratio: float = Field(3.0, gt=1)
    min_match_score: float = Field(CLAIM_MATCH_SCORE, ge=0, le=1)  # also read outside alerts: settings' default
    lexical_min_shared: int = Field(3, gt=0)
    lexical_min_fraction: float = Field(0.5, gt=0, le=1)
    false_ratings: tuple[str, ...] = ("false", "mostly false", "partly false", "misleading", "pants on fire",
                                      "fake", "incorrect", "unproven")


def detect(ctx: Context) -> list[Finding]:
    rule = ctx.rule(ClaimRule)
    if not rule.enabled or not ctx.steps:
        return []
    window, base = timedelta(minutes=rule.window_minutes), timedelta(hours=rule.baseline_hours)
    lo, hi = ctx.steps[0] - window - base, ctx.steps[-1]
    frame = ctx.reader.claim_match_counts(lo, hi, ctx.bucket_minutes, rule, STOPWORDS)
    frame["posts"] = frame["labeller"] + frame["lexical"] if len(frame) else []
    sums = BucketSums(frame, ["claim_id"], ["posts", "labeller", "lexical"], lo, hi, ctx.bucket_minutes)
    found: list[Finding] = []
    for end in ctx.steps:
        found += [_finding(ctx, sums, end, i) for i in _bursting(ctx, sums, end)]
    return found


def _bursting(ctx: Context, sums: BucketSums, end: datetime) -> np.ndarray:
    rule = ctx.rule(ClaimRule)
    window, base = timedelta(minutes=rule.window_minutes), timedelta(hours=rule.baseline_hours)
    now = sums.total("posts", end - window, end)
    newer, older = sums.total("posts", end - window / 2, end), sums.total("posts", end - window, end - window / 2)
    rate = sums.total("posts", end - window - base, end - window) * (window / base)
    ok = (now >= rule.min_posts) & (now >= rule.min_ratio * np.maximum(rate, 1.0)) & (newer >= older)
    return np.flatnonzero(ok)


def _finding(ctx: Context, sums: BucketSums, end: datetime, i: int) -> Finding:
    rule, (claim_id,) = ctx.rule(ClaimRule), sums.series[i]
    window, base = timedelta(minutes=rule.window_minutes), timedelta(hours=rule.baseline_hours)
    now, newer = sums.total("posts", end - window, end)[i], sums.total("posts", end - window / 2, end)[i]
    labeller, lexical = sums.total("labeller", end - window, end)[i], sums.total("lexical", end - window, end)[i]
    rate = sums.total("posts", end - window - base, end - window)[i] * (window / base)
    posts = ctx.reader.claim_evidence(claim_id, end - window, end, rule, STOPWORDS, 5)
    claim = posts.iloc[0] if len(posts) else None
    text = (f"{ex.number(now)} posts in the {ex.minutes_phrase(rule.window_minutes)} to "
            f"{ex.day_and_clock(end, ctx.zone)} match the claim {claim_id}"
            + (_claim_words(str(claim["claim_text"]), str(claim["rating"])) if claim is not None else "")
            + f", against {rate:.1f} per {ex.minutes_phrase(rule.window_minutes)} over the previous "
            f"{rule.baseline_hours} hours; {ex.number(newer)} of them in the last {rule.window_minutes // 2} minutes. "
            + _how_matched(labeller, lexical))
    links = (Link("Fact-check", str(claim["claim_url"])),) if claim is not None and claim["claim_url"] else ()
    return Finding("claim_burst", f"claim_burst:{claim_id}", "high" if now >= rule.high_posts else "medium", end,
                   f"Fact-check match burst: {ex.number(now)} posts repeat false claim {claim_id}", text,
                   claim_id=claim_id, links=links, evidence=evidence_from(posts),
                   metrics={"posts": now, "newer_half": newer, "baseline_rate": round(rate, 2),
                            "labeller": labeller, "lexical": lexical})


def _claim_words(text: str, rating: str) -> str:
    """' "the claim" (rated False; official fact: "...")', from a register entry's "claim. Official fact: fact"."""
    claim, _, fact = text.partition("Official fact:")
    official = f"; official fact: \"{ex.snippet(fact.strip(), 140)}\"" if fact.strip() else ""
    return f" \"{ex.snippet(claim.strip(), 140)}\" (rated {rating}{official})"


def _how_matched(labeller: float, lexical: float) -> str:
    if not lexical:
        return f"All {ex.number(labeller)} were matched by the claim-matching model."
    if not labeller:
        return ("Matched by shared claim words (lexical fallback: these posts are not labelled yet), so some may "
                "quote or rebut the claim rather than repeat it.")
    return (f"{ex.number(labeller)} matched by the claim-matching model, {ex.number(lexical)} by shared claim words "
            "(lexical fallback for posts not labelled yet; some may quote or rebut the claim).")


def _windows(rules: Rules) -> tuple[int, ...]:
    window = rules(ClaimRule).window_minutes
    return window, window // 2 or 1  # the growing test compares the window's halves


DETECTOR = Detector(detect, kinds=("claim_burst",), rules={"claims": ClaimRule}, order=20, windows=_windows,
                    fast=True)

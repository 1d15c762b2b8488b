"""Coordinated posting: many distinct accounts posting the same text or link within a short window.

The co-post and co-link signals of the QUT coordination-network-toolkit (Graham et al.), over original posts
(reposts are ordinary amplification and left out). What it reports is content and timing: how many accounts,
how fast, which platforms, and the posts. It never names or scores an account, and every explanation says that
the same pattern also comes from share buttons, copy-paste campaigns and people forwarding one message.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pandas as pd
from pydantic import Field

from alerts import explain as ex
from alerts.context import Context, evidence_from
from alerts.model import Finding
from alerts.registry import Detector
from settings import StrictModel

CAVEAT = ("Identical wording or links at the same time can come from coordination, but also from share buttons, "
          "copy-and-paste campaigns or many people forwarding one message: treat this as evidence to review, "
          "not as a finding about any account or person.")


class CoordinationRule(StrictModel):
    """[alerts.coordination]: many distinct accounts posting the same text or link within a short window."""

    enabled: bool = True
    window_minutes: int = Field(15, gt=0)
    min_accounts: int = Field(8, gt=1)
    high_accounts: int = Field(20, gt=1)
    min_chars: int = Field(30, ge=0)


def detect(ctx: Context) -> list[Finding]:
    rule = ctx.rule(CoordinationRule)
    if not rule.enabled or not ctx.steps:
        return []
    window = timedelta(minutes=rule.window_minutes)
    groups = ctx.reader.shared_content(ctx.steps[0] - window, ctx.steps[-1], rule.min_chars,
                                       rule.min_accounts)
    found: list[Finding] = []
    for end in ctx.steps:
        current = groups[(groups["created_at"] >= end - window) & (groups["created_at"] < end)]
        found += _findings(ctx, current, end)
    return found


def _findings(ctx: Context, posts: pd.DataFrame, end: datetime) -> list[Finding]:
    rule = ctx.rule(CoordinationRule)
    if posts.empty:
        return []
    accounts = posts.groupby(["signal", "key"])["account"].nunique()
    hits = accounts[accounts >= rule.min_accounts].index
    fired = posts.set_index(["signal", "key"]).loc[lambda f: f.index.isin(hits)].reset_index()
    copies = _keys(fired[fired["signal"] == "text"])
    found = []
    for (signal, key), group in fired.groupby(["signal", "key"], sort=False):
        if signal == "link" and _keys(group) <= copies:
            continue  # the same copies, already reported as identical text
        found.append(_finding(ctx, group, str(signal), str(key), end))
    return found


def _keys(posts: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(posts["platform"], posts["post_id"], strict=True))


def _finding(ctx: Context, group: pd.DataFrame, signal: str, key: str, end: datetime) -> Finding:
    rule = ctx.rule(CoordinationRule)
    first, last = group["created_at"].min(), group["created_at"].max()
    accounts = group["account"].nunique()
    span = max(1, round((last - first).total_seconds() / 60))
    platforms = ", ".join(f"{p} {n}" for p, n in group["platform"].value_counts().items())
    what = f"the same text \"{ex.snippet(str(group['text'].iloc[0]))}\"" if signal == "text" else f"the link {key}"
    text = (f"{accounts} different accounts posted {what} within {span} minutes "
            f"({ex.clock(first, ctx.zone)}–{ex.clock(last, ctx.zone)}; platforms: {platforms}). " + CAVEAT)
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    severity = "high" if accounts >= rule.high_accounts else "medium"
    return Finding("coordination", f"coordination:{signal}:{digest}", severity, end,
                   f"Possible coordinated posting: {accounts} accounts, same {signal} within {span} min", text,
                   metrics={"accounts": int(accounts), "posts": len(group), "minutes": span, "signal": signal,
                            "first": first, "last": last},
                   evidence=evidence_from(group.sort_values("created_at"), "same " + signal))


DETECTOR = Detector(detect, kinds=("coordination",), rules={"coordination": CoordinationRule}, order=30)

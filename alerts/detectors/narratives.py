"""Emerging narratives: groups of similar recent posts that grow faster than overall volume.

At each step, posts of the last two windows are grouped (exact copies, near-duplicates, embedding neighbours:
see `alerts.similarity`). A group is an emerging narrative when its window holds at least `min_posts` posts
from `min_accounts` accounts and `min_growth` times what its previous window predicts once overall volume growth
is allowed for. A narrative keeps its alert while its signature (its most shared word pairs) stays similar.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import Field

from alerts import explain as ex
from alerts.context import Context, evidence_from
from alerts.model import Finding
from alerts.registry import Detector
from alerts.similarity import group
from alerts.text import pairs, tokens, top_phrase
from settings import StrictModel

SAME_NARRATIVE = 0.2  # signature Jaccard above which a group continues a known narrative


class NarrativeRule(StrictModel):
    """[alerts.narrative]: groups of near-duplicate or similar posts growing faster than the overall volume."""

    enabled: bool = True
    window_minutes: int = Field(60, gt=0)
    min_posts: int = Field(15, gt=0)
    min_accounts: int = Field(8, gt=0)
    min_growth: float = Field(3.0, gt=1)
    high_posts: int = Field(45, gt=0)
    text_similarity: float = Field(0.3, gt=0, le=1)  # also the incidents' near-duplicate rule
    embedding_similarity: float = Field(0.85, gt=0, le=1)
    max_posts: int = Field(20_000, gt=0)


def detect(ctx: Context) -> list[Finding]:
    rule = ctx.rule(NarrativeRule)
    if not rule.enabled or not ctx.steps:
        return []
    window = timedelta(minutes=rule.window_minutes)
    span = ctx.steps[-1] - ctx.steps[0] + 2 * window
    limit = rule.max_posts * math.ceil(span / (2 * window))
    posts = _frame(ctx.reader.recent_posts(ctx.steps[0] - 2 * window, ctx.steps[-1], limit))
    since = ctx.steps[0] - timedelta(minutes=ctx.settings.cooldown_minutes) - window
    known = ctx.reader.narrative_signatures(since)
    found: list[Finding] = []
    for end in ctx.steps:
        current = posts[(posts["created_at"] >= end - 2 * window) & (posts["created_at"] < end)].tail(rule.max_posts)
        found += [_finding(ctx, g, current, end, known) for g in _emerging(ctx, current, end)]
    return found


def _frame(table: pa.Table) -> pd.DataFrame:
    frame = table.drop_columns(["vector"]).to_pandas()
    frame["vector"] = _vectors(table.column("vector").combine_chunks())
    return frame.sort_values("created_at", kind="stable").reset_index(drop=True)


def _vectors(column: pa.Array) -> list[np.ndarray | None]:
    """A list<float> column as one numpy row per post (None where the post has no embedding), without Python floats."""
    if not len(column) or column.null_count == len(column):
        return [None] * len(column)
    values = column.values.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    offsets = column.offsets.to_numpy()  # absolute positions in `values`, also for a sliced array
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    return [values[offsets[i]:offsets[i + 1]] if valid[i] else None for i in range(len(column))]


def _emerging(ctx: Context, posts: pd.DataFrame, end: datetime) -> list[pd.DataFrame]:
    rule = ctx.rule(NarrativeRule)
    recent = (posts["created_at"] >= end - timedelta(minutes=rule.window_minutes)).to_numpy()
    if recent.sum() < rule.min_posts:
        return []
    labels = group(list(posts["text"]), list(posts["vector"]), rule.text_similarity, rule.embedding_similarity)
    ids, index = np.unique(labels, return_inverse=True)
    now = np.bincount(index, weights=recent, minlength=len(ids))
    before = np.bincount(index, weights=~recent, minlength=len(ids))
    volume = recent.sum() / max((~recent).sum(), 1)
    growth = now / np.maximum(before * volume, 1.0)
    found = []
    for g in np.flatnonzero((now >= rule.min_posts) & (growth >= rule.min_growth)):
        members = posts[index == g].assign(recent=recent[index == g], growth=growth[g], volume=volume)
        if members.loc[members["recent"], "account"].nunique() >= rule.min_accounts:
            found.append(members)
    return found


def signature(texts: pd.Series, size: int = 20) -> list[str]:
    """The word pairs most shared by a group's distinct texts: what identifies the narrative over time."""
    counts: Counter[str] = Counter()
    for text in set(texts):
        counts.update(pairs(tokens(text)))
    return [p for p, _ in counts.most_common(size)]


def _fingerprint(sig: list[str], known: list[tuple[str, list[str]]]) -> str:
    mine = set(sig)
    best = max(known, key=lambda k: _overlap(mine, set(k[1])), default=None)
    if best is not None and _overlap(mine, set(best[1])) >= SAME_NARRATIVE:
        return best[0]
    fingerprint = "narrative:" + hashlib.sha1(" | ".join(sorted(sig)).encode()).hexdigest()[:12]
    known.append((fingerprint, sig))
    return fingerprint


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _finding(ctx: Context, g: pd.DataFrame, everything: pd.DataFrame, end: datetime,
             known: list[tuple[str, list[str]]]) -> Finding:
    rule = ctx.rule(NarrativeRule)
    now, growth = g[g["recent"]], float(g["growth"].iloc[0])
    sig, phrase = signature(g["text"]), top_phrase(g["text"], 2)
    platforms = ", ".join(f"{p} {n}" for p, n in now["platform"].value_counts().items())
    embedded = int(everything["vector"].notna().sum())
    text = (f"A group of {len(now)} similar posts from {now['account'].nunique()} accounts in the "
            f"{ex.minutes_phrase(rule.window_minutes)} to {ex.day_and_clock(end, ctx.zone)}, first seen "
            f"{ex.clock(g['created_at'].min(), ctx.zone)}, against {int((~g['recent']).sum())} in the hour before: "
            f"{ex.times(growth)} what overall volume ({ex.times(float(g['volume'].iloc[0]))}) would predict. "
            f"Platforms: {platforms}." + (f" Top phrase: \"{phrase}\"." if phrase else "")
            + f" Grouped by near-duplicate wording{' and sentence embeddings' if embedded else ''}.")
    top = now.sort_values(["engagement", "created_at"], ascending=[False, True]).drop_duplicates("text")
    severity = "high" if len(now) >= rule.high_posts else "medium"
    title = f"Emerging narrative: \"{phrase or ex.snippet(str(top['text'].iloc[0]), 50)}\" ({len(now)} posts)"
    return Finding("narrative", _fingerprint(sig, known), severity, end, title, text,
                   metrics={"posts": len(now), "accounts": int(now["account"].nunique()), "growth": round(growth, 2),
                            "first_seen": g["created_at"].min(), "platforms": now["platform"].value_counts().to_dict(),
                            "top_phrase": phrase, "signature": sig, "embedded_posts": embedded},
                   evidence=evidence_from(top))


DETECTOR = Detector(detect, kinds=("narrative",), rules={"narrative": NarrativeRule}, order=40)

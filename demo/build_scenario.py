"""Build CivicRadar's bundled demo scenario from real public data sets.

Writes ``demo/scenario.jsonl.gz`` (posts sorted by ``t``) and ``demo/claims.csv`` (the fictional
Harbor County Public Health rumour register plus a few public fact-checks).  Everything is drawn
from fixed seeds, so a rebuild from the same data gives byte-identical files.

Usage (from the repository root)::

    python demo/build_scenario.py --data ../shared/data

See ``demo/README.md`` for the scenario, its timeline and the sources and licences of the data.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

# --------------------------------------------------------------------------------------------
# scenario constants (documented in demo/README.md; the tests read the committed output)
# --------------------------------------------------------------------------------------------
SEED = 20_210_208
HOUR = 3600.0
DURATION_H = 72
DURATION = DURATION_H * HOUR
RUMOUR_WINDOW = (56 * HOUR, 57.5 * HOUR)  # day 2, 08:00-09:30
COMPLAINT_WINDOW = (62 * HOUR, 64 * HOUR)  # day 2, 14:00-16:00
REPLAY_START_H = 52

RUMOUR_CLAIM_ID = "HCPH-RR-014"
RUMOUR_CLAIM = "Drinking lots of water and gargling with warm water and salt or vinegar eliminates the coronavirus."
RUMOUR_FACT = (
    "Official fact: there is no evidence that drinking water or gargling with warm water, salt or vinegar "
    "removes or kills the virus that causes COVID-19. A salt-water gargle may soothe a sore throat, but it "
    "does not prevent or cure infection. Get tested if you have symptoms."
)

# Background rate: expected posts per simulated hour at each hour of the local day (the value is placed
# at the middle of the hour, interpolated linearly on a one-minute grid and smoothed with a circular
# Gaussian kernel).  Quiet at night, a late-morning peak, an early-afternoon lull, a long evening peak.
# fmt: off
HOURLY_RATE: tuple[float, ...] = (
    110, 70, 40, 20, 12, 10, 13, 17, 20, 24, 66, 125,  # 00-11
    125, 66, 22, 22, 50, 100, 122, 125, 125, 125, 125, 122,  # 12-23
)
# fmt: on
SMOOTH_SIGMA_MIN = 20.0

BG_PLATFORMS = ("x", "bluesky", "mastodon", "reddit")
BG_PLATFORM_WEIGHTS = (0.45, 0.20, 0.15, 0.20)
RSS_SHARE_OF_REAL = 0.40  # share of CONSTRAINT "real" (agency / news) posts carried on the rss feeds
FAKE_SHARE = 0.38  # share of CONSTRAINT background slots given to "fake"-labelled posts
MAX_TEMPLATE_COPIES = 3  # near-duplicate data-set posts (daily update templates): at most one a day
MAX_TEXT_CHARS = 1000

ACCOUNT_POOL = {"x": 1800, "bluesky": 900, "mastodon": 700, "reddit": 1000}
N_FEEDS = 14

# posts reserved for the rumour burst: never used as background
RUMOUR_TOPIC_RE = re.compile(
    r"gargl|salt(?:ed)? water|warm water|hot water|lukewarm water|vinegar|saline", re.IGNORECASE
)
TWEETEVAL_HEALTH_RE = re.compile(
    r"\b(?:vaccin\w*|flu|flu shots?|influenza|hospitals?|hospitali[sz]ed|clinic|nurses?|ebola|measles|"
    r"quarantin\w*|pharmacy|outbreak|immuni[sz]\w*|health ?care|public health|the doctors?|my doctor)\b",
    re.IGNORECASE,
)
TWEETEVAL_EXCLUDE_RE = re.compile(r"sick of|fever|\\u[0-9a-f]{4}|kardashian|concussion|isis", re.IGNORECASE)

# real CONSTRAINT "fake" posts on the rumour's claim (warm/hot water, salt or vinegar gargles)
RUMOUR_SEED_POST = ("val", 653)  # the viral "remains in the throat for four days" message
RUMOUR_REAL_POSTS: tuple[tuple[str, int, str], ...] = (
    ("train", 1587, "bluesky"),
    ("train", 2493, "x"),
    ("train", 5127, "mastodon"),
    ("train", 5722, "reddit"),
    ("train", 3541, "x"),
    ("train", 2893, "bluesky"),
    ("train", 4557, "x"),
    ("train", 4190, "mastodon"),
    ("val", 333, "reddit"),
)
N_RUMOUR_COPIES = 20
N_RUMOUR_PARAPHRASES = 108
N_RUMOUR_REPOSTS = 26
N_COMPLAINT_POSTS = 210
N_COMPLAINT_REDDIT_COMMENTS = 28
N_COMPLAINT_REPOSTS = 8
N_OPEN311 = 36

CONSTRAINT = "constraint_covid19_fakenews"
TWEETEVAL = "tweeteval_sentiment"

KEYS = (
    "t",
    "platform",
    "post_id",
    "text",
    "url",
    "author_id",
    "author_handle",
    "lang",
    "like_count",
    "repost_count",
    "reply_count",
    "quote_count",
    "reply_to_id",
    "repost_of_id",
    "quote_of_id",
    "source_dataset",
    "source_id",
    "source_label",
    "synthetic",
    "scenario_event",
)


# --------------------------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceRow:
    dataset: str  # e.g. "constraint_covid19_fakenews/train"
    row_id: str
    label: str
    text: str

    @property
    def slug(self) -> str:
        name, split = self.dataset.split("/")
        short = "constraint" if name == CONSTRAINT else "tweeteval"
        return f"{short}-{split}-{self.row_id}"


@dataclass
class Post:
    t: float
    platform: str
    post_id: str
    text: str
    author_id: str
    author_handle: str | None
    like_count: int = 0
    repost_count: int = 0
    reply_count: int = 0
    quote_count: int = 0
    reply_to_id: str | None = None
    repost_of_id: str | None = None
    quote_of_id: str | None = None
    source: SourceRow | None = None
    synthetic: bool = False
    scenario_event: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        lang = "en" if self.platform in ("x", "bluesky", "mastodon") else None
        out: dict[str, Any] = {
            "t": round(self.t, 3),
            "platform": self.platform,
            "post_id": self.post_id,
            "text": self.text,
            "url": None,
            "author_id": self.author_id,
            "author_handle": self.author_handle,
            "lang": lang,
            "like_count": self.like_count,
            "repost_count": self.repost_count,
            "reply_count": self.reply_count,
            "quote_count": self.quote_count,
            "reply_to_id": self.reply_to_id,
            "repost_of_id": self.repost_of_id,
            "quote_of_id": self.quote_of_id,
            "source_dataset": self.source.dataset if self.source else None,
            "source_id": self.source.row_id if self.source else None,
            "source_label": self.source.label if self.source else None,
            "synthetic": self.synthetic,
            "scenario_event": self.scenario_event,
        }
        out.update(self.extra)
        return out


def stage_rng(name: str) -> np.random.Generator:
    """One independent generator per build stage, so editing one stage leaves the others unchanged."""
    digest = hashlib.sha256(f"{SEED}:{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


# --------------------------------------------------------------------------------------------
# synthetic accounts
# --------------------------------------------------------------------------------------------
def handle_for(platform: str, key: str) -> str:
    tag = hashlib.sha256(f"{SEED}:{platform}:{key}".encode()).hexdigest()[:6]
    if platform == "bluesky":
        return f"r-{tag}.demo.invalid"
    if platform == "mastodon":
        return f"r_{tag}@social.demo.invalid"
    if platform == "reddit":
        return f"u_r{tag}"
    return f"r_{tag}"


@dataclass
class AccountPool:
    """Zipf-ish pool of pseudonymous accounts on one platform (rank 0 posts most)."""

    platform: str
    size: int
    exponent: float = 0.9
    offset: float = 10.0

    def __post_init__(self) -> None:
        w = (np.arange(self.size) + self.offset) ** -self.exponent
        self.weights = w / w.sum()
        self._extra = 0

    def author(self, rank: int) -> tuple[str, str]:
        key = f"u{rank:05d}"
        return f"demo-{self.platform}-{key}", handle_for(self.platform, key)

    def draw_zipf(self, rng: np.random.Generator) -> int:
        return int(rng.choice(self.size, p=self.weights))

    def draw_distinct(self, rng: np.random.Generator, n: int, low_rank: int = 50) -> list[int]:
        """n distinct ordinary accounts (not the few prolific ones)."""
        return [int(r) for r in rng.choice(np.arange(low_rank, self.size), size=n, replace=False)]

    def fresh(self) -> int:
        """A new account with no history in the background (ranks beyond the pool)."""
        self._extra += 1
        return self.size + self._extra - 1


def popularity_boost(rank: int) -> float:
    return max(0.0, 2.0 - 0.5 * math.log1p(rank))


def engagement(rng: np.random.Generator, platform: str, boost: float, scale: float = 0.0) -> dict[str, int]:
    """Heavy-tailed counts (log-normal likes; reposts, replies and quotes follow the likes)."""
    if platform in ("rss", "open311"):
        return {"like_count": 0, "repost_count": 0, "reply_count": 0, "quote_count": 0}
    mu = {"x": 1.0, "bluesky": 0.6, "mastodon": 0.4, "reddit": 1.3}[platform] + boost + scale
    likes = max(0, int(math.exp(rng.normal(mu, 1.25))) - 1)
    if platform == "reddit":
        return {
            "like_count": likes,
            "repost_count": 0,
            "reply_count": int(rng.poisson(0.25 * likes + 0.5)),
            "quote_count": 0,
        }
    reposts = int(likes * rng.beta(1.0, 4.0))
    replies = int(rng.poisson(0.08 * likes + 0.2))
    quotes = int(rng.poisson(0.02 * likes)) if platform in ("x", "bluesky") else 0
    return {"like_count": likes, "repost_count": reposts, "reply_count": replies, "quote_count": quotes}


# --------------------------------------------------------------------------------------------
# data sets
# --------------------------------------------------------------------------------------------
def load_constraint(data: Path) -> pd.DataFrame:
    frames = []
    for split in ("train", "val"):
        df = pd.read_csv(data / CONSTRAINT / f"{split}.csv", dtype={"id": int, "text": str, "label": str})
        df["split"] = split
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def load_tweeteval(data: Path) -> pd.DataFrame:
    frames = []
    for split in ("train", "val"):
        df = pd.read_csv(data / TWEETEVAL / f"{split}.csv", dtype={"id": int, "text": str})
        df["split"] = split
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    keep = (
        df["text"].str.contains(TWEETEVAL_HEALTH_RE)
        & ~df["text"].str.contains(TWEETEVAL_EXCLUDE_RE)
        & (df["reconstruction"].fillna("") != "gap_guess")
    )
    return df[keep].reset_index(drop=True)


def source_row(name: str, split: str, row_id: int, label: str, text: str) -> SourceRow:
    return SourceRow(dataset=f"{name}/{split}", row_id=str(row_id), label=label, text=text)


def near_duplicate_groups(texts: Sequence[str], threshold: float = 0.6) -> np.ndarray:
    """Group ids of near-duplicate texts (TF-IDF cosine >= threshold, connected components)."""
    norm = [re.sub(r"[^a-z ]+", " ", re.sub(r"https?://\S+", " ", s.lower())) for s in texts]
    x = TfidfVectorizer(ngram_range=(1, 2)).fit_transform(norm)
    sim = (x @ x.T).tocsr()
    sim.data[sim.data < threshold] = 0
    sim.eliminate_zeros()
    _, groups = connected_components(sim, directed=False)
    return groups


def spread_order(rng: np.random.Generator, groups: Sequence[int]) -> list[int]:
    """Order items so that members of a group are evenly spaced over the sequence.

    A group of size c gets keys (j + u) / c (j = 0..c-1, one random phase u per group), singletons a
    uniform key; sorting by key places near-duplicates about 1/c of the timeline apart.
    """
    by_group: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(int(g), []).append(i)
    keys = np.empty(len(groups))
    for members in by_group.values():
        c = len(members)
        u = rng.uniform()
        perm = rng.permutation(c)
        for j, i in zip(perm, members, strict=True):
            keys[i] = (j + u) / c
    return [int(i) for i in np.argsort(keys, kind="stable")]


def stratified_kinds(rng: np.random.Generator, counts: dict[str, int]) -> list[str]:
    """Interleave kinds so each is spread evenly over the slots (jittered low-discrepancy keys)."""
    keys: list[tuple[float, str]] = []
    for kind, n in counts.items():
        jitter = rng.uniform(0.15, 0.85, size=n)
        keys.extend(((j + jitter[j]) / n, kind) for j in range(n))
    keys.sort()
    return [k for _, k in keys]


# --------------------------------------------------------------------------------------------
# background arrivals
# --------------------------------------------------------------------------------------------
def rate_per_minute() -> np.ndarray:
    """Expected background posts per minute for each minute of the local day (smooth, periodic)."""
    minutes = np.arange(24 * 60) + 0.5
    knots_x = np.arange(24) * 60 + 30.0
    knots_y = np.asarray(HOURLY_RATE, dtype=float)
    per_hour = np.interp(minutes, knots_x, knots_y, period=24 * 60)
    offsets = np.arange(-180, 181)
    kernel = np.exp(-0.5 * (offsets / SMOOTH_SIGMA_MIN) ** 2)
    kernel /= kernel.sum()
    padded = np.concatenate([per_hour[-180:], per_hour, per_hour[:180]])
    smooth = np.convolve(padded, kernel, mode="valid")
    return smooth / 60.0


def background_times(rng: np.random.Generator) -> np.ndarray:
    """Poisson arrivals over the 72 h with the (same every day) diurnal rate."""
    lam = rate_per_minute()
    times: list[np.ndarray] = []
    for m in range(DURATION_H * 60):
        n = rng.poisson(lam[m % (24 * 60)])
        if n:
            times.append(m * 60.0 + np.sort(rng.uniform(0.0, 60.0, size=n)))
    return np.concatenate(times)


def build_background(data: Path) -> tuple[list[Post], dict[str, Any]]:
    rng = stage_rng("background")
    cons = load_constraint(data)
    cons = cons[cons["text"].str.len() <= MAX_TEXT_CHARS]
    reserved = {RUMOUR_SEED_POST, *((s, i) for s, i, _ in RUMOUR_REAL_POSTS)}
    is_reserved = [(s, i) in reserved for s, i in zip(cons["split"], cons["id"], strict=True)]
    cons = cons[~cons["text"].str.contains(RUMOUR_TOPIC_RE) & ~np.asarray(is_reserved)].reset_index(drop=True)

    groups = near_duplicate_groups(cons["text"].tolist())
    cons["group"] = groups
    # keep at most MAX_TEMPLATE_COPIES members of each near-duplicate group
    keep = np.ones(len(cons), dtype=bool)
    for _, idx in cons.groupby("group").groups.items():
        idx = list(idx)
        if len(idx) > MAX_TEMPLATE_COPIES:
            chosen = set(rng.choice(idx, size=MAX_TEMPLATE_COPIES, replace=False).tolist())
            for i in idx:
                keep[i] = i in chosen
    cons = cons[keep].reset_index(drop=True)

    te = load_tweeteval(data)
    times = background_times(rng)
    n = len(times)
    n_te = len(te)
    n_fake = round(FAKE_SHARE * (n - n_te))
    n_real = n - n_te - n_fake
    real = cons[cons["label"] == "real"].reset_index(drop=True)
    fake = cons[cons["label"] == "fake"].reset_index(drop=True)
    if n_real > len(real) or n_fake > len(fake):
        raise SystemExit(f"not enough data-set posts: need {n_real} real / {n_fake} fake")

    def pick(df: pd.DataFrame, k: int) -> pd.DataFrame:
        chosen = np.sort(rng.choice(len(df), size=k, replace=False))
        sub = df.iloc[chosen].reset_index(drop=True)
        order = spread_order(rng, sub["group"].tolist())
        return sub.iloc[order].reset_index(drop=True)

    queues: dict[str, list[SourceRow]] = {
        "real": [source_row(CONSTRAINT, r.split, r.id, r.label, r.text) for r in pick(real, n_real).itertuples()],
        "fake": [source_row(CONSTRAINT, r.split, r.id, r.label, r.text) for r in pick(fake, n_fake).itertuples()],
        "te": [
            source_row(TWEETEVAL, r.split, r.id, r.label_name, r.text)
            for r in te.iloc[rng.permutation(n_te)].itertuples()
        ],
    }
    kinds = stratified_kinds(rng, {"real": n_real, "fake": n_fake, "te": n_te})

    pools = {p: AccountPool(p, s) for p, s in ACCOUNT_POOL.items()}
    feeds = AccountPool("rss", N_FEEDS, exponent=0.8, offset=1.0)
    posts: list[Post] = []
    cursor = {k: 0 for k in queues}
    for t, kind in zip(times, kinds, strict=True):
        src = queues[kind][cursor[kind]]
        cursor[kind] += 1
        if kind == "real" and rng.uniform() < RSS_SHARE_OF_REAL:
            platform = "rss"
            rank = feeds.draw_zipf(rng)
            author_id, handle = f"demo-rss-feed{rank + 1:02d}", f"newsfeed-{rank + 1:02d}"
        else:
            w = np.asarray(BG_PLATFORM_WEIGHTS)
            platform = str(rng.choice(BG_PLATFORMS, p=w / w.sum()))
            rank = pools[platform].draw_zipf(rng)
            author_id, handle = pools[platform].author(rank)
        posts.append(
            Post(
                t=float(t),
                platform=platform,
                post_id=f"demo-{platform}-{src.slug}",
                text=src.text,
                author_id=author_id,
                author_handle=handle,
                source=src,
                **engagement(rng, platform, popularity_boost(rank)),
            )
        )
    info = {"constraint_pool": len(cons), "tweeteval_pool": n_te, "real": n_real, "fake": n_fake}
    return posts, info


# --------------------------------------------------------------------------------------------
# scripted event 1: rumour burst
# --------------------------------------------------------------------------------------------
RUMOUR_PREFIXES = (
    "",
    "",
    "",
    "PSA:",
    "Forwarded from the school parents group:",
    "Just got this on WhatsApp:",
    "My cousin is a nurse at Port Harbor General and she says",
    "Not sure if true but",
    "Heard this on the call-in show this morning:",
    "Sharing because it can't hurt:",
    "A doctor friend sent this:",
    "Grandma's group chat is all over this:",
    "From my church group:",
    "Everyone in Port Harbor needs to see this.",
    "Saw this posted at the laundromat:",
)
RUMOUR_BODIES = (
    "gargling with warm salt water kills the virus before it reaches your lungs",
    "the virus sits in your throat for four days, so gargle with warm water and salt or vinegar and it dies",
    "drink warm water every 15 minutes and gargle with salt water, it washes the virus down where stomach acid kills it",  # noqa: E501
    "warm water + salt gargle three times a day = no covid",
    "vinegar gargle in the morning and at night wipes out the coronavirus in your throat",
    "COVID stays in the throat for 4 days before the lungs, a salt water gargle in that window eliminates it",
    "lots of water and a warm salt water gargle is all you need to beat the virus",
    "the virus can't survive warm salt water, gargle twice a day and you're protected",
    "gargling salt and vinegar clears the coronavirus out before it can infect you",
    "hot drinks and a salt water gargle kill covid, it cannot resist heat",
    "if you get a scratchy throat, gargle warm salt water right away and the virus is gone",
    "doctors say gargling with warm water and salt eliminates the coronavirus",
    "skip the testing line, just gargle salt water and drink lots of warm water",
    "a warm water, salt and vinegar gargle kills the virus in your throat",
)
RUMOUR_SUFFIXES = (
    "",
    "",
    "Share with your family!",
    "Spread this, it could save someone.",
    "Why isn't the county telling us this??",
    "Cheaper than any test.",
    "#PortHarbor #COVID19",
    "Please pass it on.",
    "They won't tell you this on the news.",
    "Stay safe Harbor County!",
    "Copy and share.",
    "#HarborCounty",
    "Worked for my whole family.",
)
RUMOUR_REPLIES = (
    "Is this true? My mom just sent me the same thing.",
    "Already doing this, can't hurt right?",
    "Gargling is fine for a sore throat but it does not kill the virus. Please check with @HarborCountyPH.",
    "This has been debunked for ages. Salt water does not eliminate covid.",
    "Source? Every doctor I know says this is false.",
    "Thank you for sharing!! Passing it to my parents.",
    "My aunt swears by this, she gargles with vinegar every morning.",
    "Please stop sharing this, people will skip getting tested.",
    "Wow, why is nobody talking about this",
    "Does it have to be sea salt or is table salt ok?",
    "Fact-check: no evidence gargling salt water prevents or cures COVID-19.",
    "Shared to our neighborhood group.",
    "lol my grandma has been saying this since March",
    "Warm water is nice but it is not a cure. Get tested if you have symptoms.",
    "Can someone from the health department confirm?",
)
AGENCY_REBUTTAL = (
    "We are aware of messages saying that gargling with warm salt water or vinegar, or drinking lots of water, "
    "eliminates the coronavirus. This is false: there is no evidence that it prevents or cures COVID-19. "
    "If you have symptoms, get tested and stay home. Facts: Harbor County Public Health rumour register."
)


def unique_texts(
    rng: np.random.Generator, n: int, make: Callable[[np.random.Generator], str], avoid: set[str]
) -> list[str]:
    out: list[str] = []
    seen = set(avoid)
    for _ in range(n * 200):
        s = make(rng)
        if s not in seen:
            seen.add(s)
            out.append(s)
            if len(out) == n:
                return out
    raise SystemExit("could not make enough distinct synthetic texts")


def compose(parts: Sequence[str]) -> str:
    text = " ".join(p for p in parts if p)
    return text[0].upper() + text[1:]


def make_rumour_text(rng: np.random.Generator) -> str:
    pre = str(rng.choice(RUMOUR_PREFIXES))
    body = str(rng.choice(RUMOUR_BODIES))
    suf = str(rng.choice(RUMOUR_SUFFIXES))
    if pre.endswith("."):
        body = body[0].upper() + body[1:]
    sentence = compose([pre, body]) + "."
    if rng.uniform() < 0.25:
        sentence = sentence.replace("coronavirus", "corona").replace(" covid", " COVID")
    return compose([sentence, suf])


def event_times(rng: np.random.Generator, n: int, window: tuple[float, float], a: float, b: float) -> np.ndarray:
    start, end = window
    return np.sort(start + (end - start) * rng.beta(a, b, size=n))


def build_rumour(data: Path, pools: dict[str, AccountPool]) -> list[Post]:
    rng = stage_rng("rumour")
    ev = "rumour_burst"
    start, end = RUMOUR_WINDOW
    cons = load_constraint(data).set_index(["split", "id"])

    def real_row(split: str, row_id: int) -> SourceRow:
        r = cons.loc[(split, row_id)]
        return source_row(CONSTRAINT, split, row_id, str(r["label"]), str(r["text"]))

    posts: list[Post] = []

    def add(platform: str, text: str, t: float, rank: int, pid: str, **kw: Any) -> Post:
        author_id, handle = pools[platform].author(rank)
        counts = kw.pop("counts", None) or engagement(rng, platform, popularity_boost(rank), 0.6)
        p = Post(
            t=t,
            platform=platform,
            post_id=pid,
            text=text,
            author_id=author_id,
            author_handle=handle,
            scenario_event=ev,
            **counts,
            **kw,
        )
        posts.append(p)
        return p

    # 1. the seed: the real viral message (CONSTRAINT val 653) on x, shortly after 08:00
    seed_src = real_row(*RUMOUR_SEED_POST)
    seed = add(
        "x",
        seed_src.text,
        start + 95.0,
        pools["x"].fresh(),
        f"demo-x-{seed_src.slug}",
        source=seed_src,
        counts={"like_count": 412, "repost_count": 287, "reply_count": 64, "quote_count": 19},
    )
    used: dict[str, set[int]] = {p: set() for p in BG_PLATFORMS}

    def distinct(platform: str) -> int:
        while True:
            r = pools[platform].draw_distinct(rng, 1)[0]
            if r not in used[platform]:
                used[platform].add(r)
                return r

    # 2. the other real CONSTRAINT posts on the claim, spread over the first hour
    for (split, row_id, platform), t in zip(
        RUMOUR_REAL_POSTS,
        event_times(rng, len(RUMOUR_REAL_POSTS), (start + 300, start + 3900), 1.6, 1.8),
        strict=True,
    ):
        src = real_row(split, row_id)
        add(platform, src.text, float(t), distinct(platform), f"demo-{platform}-{src.slug}", source=src)
    # 3. coordinated core: the same text from 20 fresh x accounts within 8 minutes (08:41-08:49)
    copy_times = np.sort(start + 41 * 60 + rng.uniform(0, 8 * 60, size=N_RUMOUR_COPIES))
    for k, t in enumerate(copy_times):
        add(
            "x",
            seed_src.text,
            float(t),
            pools["x"].fresh(),
            f"demo-x-syn-rumour-copy-{k + 1:02d}",
            source=seed_src,
            synthetic=True,
            counts={
                "like_count": int(rng.integers(0, 4)),
                "repost_count": int(rng.integers(0, 3)),
                "reply_count": 0,
                "quote_count": 0,
            },
        )
    # 4. paraphrases from many ordinary accounts, growing to a peak near 09:00 then fading
    avoid = {p.text for p in posts}
    texts = unique_texts(rng, N_RUMOUR_PARAPHRASES, make_rumour_text, avoid)
    times = event_times(rng, N_RUMOUR_PARAPHRASES, (start + 300, end), 3.0, 2.1)
    plats = rng.choice(BG_PLATFORMS, size=N_RUMOUR_PARAPHRASES, p=(0.5, 0.2, 0.12, 0.18))
    for k, (text, t, platform) in enumerate(zip(texts, times, plats, strict=True)):
        add(
            str(platform),
            text,
            float(t),
            distinct(str(platform)),
            f"demo-{platform}-syn-rumour-{k + 1:04d}",
            synthetic=True,
        )
    # 5. reposts of the seed (x) and of popular posts, following the same growth curve
    zero = {"like_count": 0, "repost_count": 0, "reply_count": 0, "quote_count": 0}
    originals = [p for p in posts if p.platform in ("x", "bluesky", "mastodon")]
    for k, t in enumerate(event_times(rng, N_RUMOUR_REPOSTS, (start + 900, end - 60), 3.0, 2.1)):
        cands = [p for p in originals if p.t < t - 60]
        weights = np.asarray([math.sqrt(p.like_count + 1.0) * (4.0 if p is seed else 1.0) for p in cands])
        orig = cands[int(rng.choice(len(cands), p=weights / weights.sum()))]
        add(
            orig.platform,
            orig.text,
            float(t),
            distinct(orig.platform),
            f"demo-{orig.platform}-syn-rumour-rp-{k + 1:03d}",
            repost_of_id=orig.post_id,
            source=orig.source,
            synthetic=True,
            counts=zero,
        )
    # 6. replies (questions, amplification, corrections), also following the growth curve
    reply_times = event_times(rng, len(RUMOUR_REPLIES), (start + 900, end - 60), 3.0, 2.1)
    for k, (text, t) in enumerate(zip(RUMOUR_REPLIES, reply_times, strict=True)):
        cands = [p for p in posts if p.repost_of_id is None and p.platform != "reddit" and p.t < t - 60]
        parent = seed if k % 3 == 0 else cands[int(rng.integers(len(cands)))]
        add(
            parent.platform,
            text,
            float(t),
            distinct(parent.platform),
            f"demo-{parent.platform}-syn-rumour-re-{k + 1:03d}",
            reply_to_id=parent.post_id,
            synthetic=True,
        )
    # 7. the agency's rebuttal (x and its newsroom feed) at 09:12, and a few reposts of it
    t_reb = start + 72 * 60
    reb = Post(
        t=t_reb,
        platform="x",
        post_id="demo-x-syn-rumour-agency-001",
        text=AGENCY_REBUTTAL,
        author_id="demo-x-agency-hcph",
        author_handle="HarborCountyPH",
        like_count=96,
        repost_count=58,
        reply_count=11,
        quote_count=4,
        synthetic=True,
        scenario_event=ev,
    )
    rss = Post(
        t=t_reb + 120,
        platform="rss",
        post_id="demo-rss-syn-rumour-agency-001",
        text=AGENCY_REBUTTAL,
        author_id="demo-rss-agency-hcph",
        author_handle="Harbor County Public Health newsroom",
        synthetic=True,
        scenario_event=ev,
    )
    posts += [reb, rss]
    for k in range(5):
        t = float(min(end - 1, t_reb + 30 + rng.exponential(400)))
        add(
            "x",
            AGENCY_REBUTTAL,
            t,
            distinct("x"),
            f"demo-x-syn-rumour-agency-rp-{k + 1:02d}",
            repost_of_id=reb.post_id,
            synthetic=True,
            counts=zero,
        )
    return posts


# --------------------------------------------------------------------------------------------
# scripted event 2: complaint spike about the fairgrounds testing site
# --------------------------------------------------------------------------------------------
COMPLAINT_OPENERS = (
    "",
    "",
    "",
    "Unbelievable.",
    "Ridiculous.",
    "Day off wasted.",
    "Absolute mess at the fairgrounds.",
    "Hey @HarborCountyPH,",
    "Honestly furious right now.",
    "So much for free testing.",
    "Is anyone in charge?",
    "Update from the fairgrounds:",
    "This is a joke.",
    "Worst organized thing I've seen in Port Harbor.",
    "Avoid the fairgrounds today.",
    "Can't believe this.",
    "Still here.",
    "Just gave up.",
)
COMPLAINT_BODIES = (
    "3 hours in line at the Port Harbor fairgrounds testing site and we haven't moved in 40 minutes",
    "the fairgrounds COVID testing site just closed the gate with hundreds of us still in line",
    "waited since 11 at the fairgrounds test site and they told us they ran out of tests",
    "the line for testing at the fairgrounds goes all the way back to Route 9",
    "nobody at the fairgrounds testing site can tell us how long the wait is",
    "sick kid in the back seat and we've been stuck in the fairgrounds testing line for over three hours",
    "the fairgrounds site closed early with no warning, the website still says open until 6",
    "three hour wait for a covid test at the fairgrounds, no water, no shade, no information",
    "the testing site at the fairgrounds turned away everyone after gate B",
    "drove 40 minutes to the fairgrounds testing site just to find it closed",
    "elderly people waiting in the heat for hours at the fairgrounds testing site",
    "the appointment system is useless, appointment at 1pm and still not tested at 4",
    "they shut the fairgrounds testing lanes down to one and the line stopped moving",
    "staff at the fairgrounds site said come back tomorrow after we waited three hours",
    "testing site at the fairgrounds is total chaos, cars cutting the line and nobody directing traffic",
    "no portable toilets at the fairgrounds testing site and people have been in line for hours",
    "the county said no wait times at the fairgrounds and it's been three and a half hours",
    "my shift starts at 5 and I've been stuck at the fairgrounds testing line since noon",
    "the fairgrounds testing site ran out of swabs and closed, thanks for nothing",
    "two lanes closed at the Port Harbor fairgrounds testing site and the line is a mile long",
    "our whole family needs tests for school and the fairgrounds site just closed on us",
    "they closed the fairgrounds testing site and didn't even put up a sign",
    "been waiting at the fairgrounds test site so long my car almost ran out of gas",
    "the fairgrounds testing line is a disaster and the hotline just hangs up",
    "I took unpaid leave to get tested and the fairgrounds site sent us home",
    "the 3 hour line at the fairgrounds is the county's fault, they cut staff this week",
    "fairgrounds testing site closed at 2pm, the posted hours say 6pm",
    "people with symptoms have been waiting three hours next to each other at the fairgrounds",
    "the fairgrounds test site is a failure and nobody from the county is answering",
    "can't get a test anywhere, the fairgrounds site is closed and pharmacies are booked for days",
)
COMPLAINT_DETAILS = (
    "",
    "",
    "",
    "",
    "No water, no shade.",
    "Kids crying in every car.",
    "Gate B is chained shut.",
    "Traffic backed up onto Fairgrounds Rd.",
    "The hotline has a 45 minute hold.",
    "Nobody is directing traffic.",
    "Half the lanes are empty of staff.",
    "People are leaving without being tested.",
    "A guy two cars up just gave up and left.",
    "It's 90 degrees out here.",
)
COMPLAINT_CLOSERS = (
    "",
    "",
    "",
    "Do better, Harbor County.",
    "Fix this.",
    "Completely unacceptable.",
    "What a failure.",
    "Who is running this?",
    "This is how you lose public trust.",
    "Never again.",
    "So angry right now.",
    "We deserve better than this.",
    "Terrible planning.",
    "@HarborCountyPH answer us.",
    "#PortHarbor",
    "#HarborCounty #COVIDtesting",
)
COMPLAINT_REDDIT_TITLE = (
    "PSA: Fairgrounds testing site is a disaster right now - 3+ hour line and they just closed Gate B"
)
COMPLAINT_COMMENTS = (
    "Same here, in line since 12:30 and not moving.",
    "They closed on us too. Drove all the way from Eastport.",
    "This is so bad. Why is there only one lane open?",
    "Just left, gave up after 3 hours.",
    "Called the hotline, on hold for 40 minutes then it hung up.",
    "The website still says they're open until 6.",
    "No bathrooms either, it's awful.",
    "Anyone know if the Main St pharmacy has tests? Fairgrounds is hopeless.",
    "They told the car in front of me they ran out of swabs.",
    "County should be embarrassed.",
    "My kid needs a negative test for school tomorrow, what are we supposed to do?",
    "Sat there 3.5 hours, turned away at the gate.",
    "Traffic is backed up onto Route 9, avoid the area.",
    "This happens every time they cut staff.",
    "Worst run site in the state.",
    "Elderly couple behind me looked really unwell, nobody checked on anyone.",
    "I am so done with this county.",
    "There is no one from the health department answering anything.",
    "Cops are just waving cars away now.",
    "Wasted my whole day off.",
    "Same. Closed at 2. Posted hours say 6. Unreal.",
    "Heard Gate A is also closing soon.",
    "People with symptoms sitting in line for hours, great for spreading it.",
    "Total chaos. Somebody is going to get hurt in that parking lot.",
    "Filed a 311 complaint, for what it's worth.",
    "Thanks for the heads up, was about to drive over.",
    "Absolutely ridiculous, this was supposed to be the easy option.",
    "Why do they never learn?",
)
OPEN311_REQUESTS: tuple[tuple[str, str], ...] = (
    (
        "Public Health Concern",
        "Testing site at Port Harbor fairgrounds closed early with people still in line. "
        "Posted hours say open until 6 PM.",
    ),
    (
        "Public Health Concern",
        "COVID testing line at fairgrounds over 3 hours. No water or shade for people "
        "waiting, elderly residents in cars.",
    ),
    (
        "Public Health Concern",
        "Fairgrounds testing site turned away residents after Gate B. No signage or information given.",
    ),
    (
        "Public Health Concern",
        "Waited 3+ hours at fairgrounds test site, told tests ran out. Requesting more capacity.",
    ),
    (
        "Public Health Concern",
        "Symptomatic people waiting close together outside their cars at fairgrounds testing line.",
    ),
    (
        "Public Health Concern",
        "No staff directing the testing line at the fairgrounds, cars cutting in, confusion at entrance.",
    ),
    ("Public Health Concern", "Testing hotline not answering, fairgrounds site closed without notice."),
    ("Public Health Concern", "Only one testing lane open at fairgrounds site, line not moving."),
    ("Traffic Congestion", "Traffic backed up on Fairgrounds Rd from testing site entrance to Route 9."),
    ("Traffic Congestion", "Testing site queue blocking the intersection of Fairgrounds Rd and Harbor Ave."),
    ("Traffic Congestion", "Cars for testing site queued on the shoulder of Route 9 northbound, unsafe."),
    ("Traffic Congestion", "Gridlock around the fairgrounds, buses cannot get through on Harbor Ave."),
    ("Traffic Congestion", "Testing line traffic blocking access to the Fairview Apartments entrance."),
    ("Illegal Parking", "Vehicles waiting for testing parked across driveways on Elm Ct near fairgrounds."),
    ("Illegal Parking", "Cars abandoned on the grass median by the fairgrounds after testing site closed."),
    ("Illegal Parking", "People parking in the fire lane at the fairgrounds to walk up to the test site."),
    ("Illegal Parking", "Blocked hydrant on Oak St by cars waiting for the testing site."),
    ("Sanitation / Litter", "No portable toilets at fairgrounds testing site, people waiting 3+ hours."),
    ("Sanitation / Litter", "Trash and used masks piling up along the testing line at the fairgrounds."),
    ("Sanitation / Litter", "Overflowing bins at fairgrounds parking lot where testing line is."),
)


def make_complaint_text(rng: np.random.Generator) -> str:
    opener = str(rng.choice(COMPLAINT_OPENERS))
    body = str(rng.choice(COMPLAINT_BODIES))
    detail = str(rng.choice(COMPLAINT_DETAILS))
    closer = str(rng.choice(COMPLAINT_CLOSERS))
    while "@" in opener and "@" in closer:
        closer = str(rng.choice(COMPLAINT_CLOSERS))
    if opener.endswith(","):
        sentence = f"{opener} {body}."
    else:
        sentence = compose([body]) + "." if not opener else f"{opener} {compose([body])}."
    if rng.uniform() < 0.2:
        sentence = sentence.replace(" hours", " hrs", 1)
    return " ".join(s for s in (sentence, detail, closer) if s)


def build_complaints(pools: dict[str, AccountPool]) -> list[Post]:
    rng = stage_rng("complaint")
    ev = "complaint_spike"
    start, end = COMPLAINT_WINDOW
    posts: list[Post] = []
    used: dict[str, set[int]] = {p: set() for p in BG_PLATFORMS}

    def distinct(platform: str) -> int:
        while True:
            r = pools[platform].draw_distinct(rng, 1)[0]
            if r not in used[platform]:
                used[platform].add(r)
                return r

    def add(platform: str, text: str, t: float, pid: str, **kw: Any) -> Post:
        rank = distinct(platform)
        author_id, handle = pools[platform].author(rank)
        counts = kw.pop("counts", None) or engagement(rng, platform, popularity_boost(rank), 0.3)
        p = Post(
            t=t,
            platform=platform,
            post_id=pid,
            text=text,
            author_id=author_id,
            author_handle=handle,
            synthetic=True,
            scenario_event=ev,
            **counts,
            **kw,
        )
        posts.append(p)
        return p

    # the reddit thread that collects comments
    thread = add(
        "reddit",
        COMPLAINT_REDDIT_TITLE,
        start + 14 * 60,
        "demo-reddit-syn-complaint-thread-01",
        counts={"like_count": 231, "repost_count": 0, "reply_count": N_COMPLAINT_REDDIT_COMMENTS, "quote_count": 0},
    )
    texts = unique_texts(rng, N_COMPLAINT_POSTS, make_complaint_text, {COMPLAINT_REDDIT_TITLE})
    times = event_times(rng, N_COMPLAINT_POSTS, (start + 120, end), 2.2, 2.0)
    plats = rng.choice(BG_PLATFORMS, size=N_COMPLAINT_POSTS, p=(0.5, 0.18, 0.14, 0.18))
    for k, (text, t, platform) in enumerate(zip(texts, times, plats, strict=True)):
        add(str(platform), text, float(t), f"demo-{platform}-syn-complaint-{k + 1:04d}")
    # comments in the reddit thread (some answer earlier comments)
    comments: list[Post] = []
    c_times = event_times(rng, N_COMPLAINT_REDDIT_COMMENTS, (thread.t + 120, end), 1.6, 1.6)
    c_texts = [COMPLAINT_COMMENTS[int(i)] for i in rng.permutation(len(COMPLAINT_COMMENTS))]
    for k, t in enumerate(c_times):
        parent = thread if not comments or rng.uniform() < 0.7 else comments[int(rng.integers(len(comments)))]
        comments.append(
            add(
                "reddit",
                c_texts[k % len(c_texts)],
                float(t),
                f"demo-reddit-syn-complaint-c{k + 1:03d}",
                reply_to_id=parent.post_id,
            )
        )
    # a few reposts of the most-liked x complaint
    xs = [p for p in posts if p.platform == "x" and p.t < end - 1800]
    top = max(xs, key=lambda p: (p.like_count, p.post_id))
    for k in range(N_COMPLAINT_REPOSTS):
        t = float(min(end - 1, top.t + rng.exponential(1200)))
        add(
            "x",
            top.text,
            t,
            f"demo-x-syn-complaint-rp-{k + 1:02d}",
            repost_of_id=top.post_id,
            counts={"like_count": 0, "repost_count": 0, "reply_count": 0, "quote_count": 0},
        )
    # Open311 service requests
    order = rng.permutation(N_OPEN311) % len(OPEN311_REQUESTS)
    o_times = event_times(rng, N_OPEN311, (start + 900, end), 2.0, 1.6)
    for k, (i, t) in enumerate(zip(order, o_times, strict=True)):
        service, text = OPEN311_REQUESTS[int(i)]
        posts.append(
            Post(
                t=float(t),
                platform="open311",
                post_id=f"demo-open311-syn-complaint-{k + 1:04d}",
                text=text,
                author_id=f"demo-open311-requester-{k + 1:03d}",
                author_handle=None,
                synthetic=True,
                scenario_event=ev,
                extra={"service_name": service},
            )
        )
    return posts


# --------------------------------------------------------------------------------------------
# claims table
# --------------------------------------------------------------------------------------------
WHO_MYTHS = "https://www.who.int/emergencies/diseases/novel-coronavirus-2019/advice-for-public/myth-busters"
INDIA_TODAY_GARGLE = (
    "https://indiatoday.in/fact-check/story/"
    "fact-check-no-gargling-with-warm-salt-water-can-t-save-you-from-coronavirus-1656600-2020-03-17"
)
REGISTER = "Harbor County Public Health rumour register"
WHO = "World Health Organization: COVID-19 myth-busters"


def claims_rows() -> list[dict[str, str | None]]:
    def row(cid: str, text: str, rating: str, url: str | None, source: str, date: str | None) -> dict[str, Any]:
        return {"claim_id": cid, "text": text, "rating": rating, "url": url, "source": source, "published_at": date}

    return [
        row(
            "HCPH-RR-001",
            "5G mobile networks spread COVID-19. Official fact: viruses cannot travel on radio "
            "waves or mobile networks.",
            "False",
            WHO_MYTHS,
            REGISTER,
            "2020-04-06",
        ),
        row(
            "HCPH-RR-002",
            "Exposing yourself to the sun or to temperatures above 25 degrees C kills the "
            "coronavirus. Official fact: you can catch COVID-19 however sunny or hot the weather is.",
            "False",
            WHO_MYTHS,
            REGISTER,
            "2020-04-09",
        ),
        row(
            "HCPH-RR-003",
            "Taking a hot bath prevents COVID-19. Official fact: a hot bath does not prevent "
            "infection; wash your hands and keep your distance.",
            "False",
            WHO_MYTHS,
            REGISTER,
            "2020-04-09",
        ),
        row(
            "HCPH-RR-004",
            "Drinking alcohol, methanol or bleach kills the virus or cures COVID-19. Official fact: "
            "these are dangerous to drink and do not prevent or cure COVID-19.",
            "False",
            WHO_MYTHS,
            REGISTER,
            "2020-04-14",
        ),
        row(
            "HCPH-RR-005",
            "If you can hold your breath for 10 seconds without coughing you do not have COVID-19. "
            "Official fact: this is not a test; only a laboratory or rapid test can tell.",
            "False",
            WHO_MYTHS,
            REGISTER,
            "2020-04-20",
        ),
        row(
            "HCPH-RR-006",
            "Eating garlic protects you from the coronavirus. Official fact: garlic is healthy but "
            "there is no evidence it protects against COVID-19.",
            "False",
            WHO_MYTHS,
            REGISTER,
            "2020-04-22",
        ),
        row(
            "HCPH-RR-007",
            "Antibiotics prevent or treat COVID-19. Official fact: antibiotics work on bacteria, not viruses.",
            "False",
            WHO_MYTHS,
            REGISTER,
            "2020-05-04",
        ),
        row(
            "HCPH-RR-008",
            "Mosquito bites can spread the coronavirus. Official fact: COVID-19 spreads through "
            "respiratory droplets and aerosols, not mosquitoes.",
            "False",
            WHO_MYTHS,
            REGISTER,
            "2020-05-11",
        ),
        row(
            "HCPH-RR-009",
            "Hand dryers kill the coronavirus. Official fact: hand dryers do not kill the virus; "
            "wash your hands with soap and water or use an alcohol-based rub.",
            "False",
            WHO_MYTHS,
            REGISTER,
            "2020-05-18",
        ),
        row(
            "HCPH-RR-010",
            "Cold weather and snow kill the coronavirus. Official fact: cold weather does not kill the virus.",
            "False",
            WHO_MYTHS,
            REGISTER,
            "2020-06-01",
        ),
        row(
            "HCPH-RR-011",
            "Masks make you breathe too much carbon dioxide and cause illness. Official fact: "
            "properly worn masks do not cause CO2 intoxication or oxygen deficiency.",
            "False",
            WHO_MYTHS,
            REGISTER,
            "2020-07-02",
        ),
        row(
            "HCPH-RR-012",
            "The COVID-19 testing swab can damage your brain. Official fact: nasal swabs do not "
            "reach or harm the brain; tests are safe.",
            "False",
            None,
            REGISTER,
            "2020-07-20",
        ),
        row(
            "HCPH-RR-013",
            "People without symptoms cannot spread COVID-19. Official fact: people without "
            "symptoms can still spread the virus.",
            "Misleading",
            None,
            REGISTER,
            "2020-08-03",
        ),
        row(RUMOUR_CLAIM_ID, f"{RUMOUR_CLAIM} {RUMOUR_FACT}", "False", INDIA_TODAY_GARGLE, REGISTER, "2020-03-20"),
        row(
            "HCPH-RR-015",
            "Testing at county sites costs money or requires insurance. Official fact: COVID-19 "
            "testing at Harbor County Public Health sites is free, with or without insurance.",
            "False",
            None,
            REGISTER,
            "2020-08-17",
        ),
        row(
            "HCPH-OF-001",
            "COVID-19 testing at the Port Harbor fairgrounds is free, open daily, by appointment "
            "or walk-up; current hours and wait times are on the county website.",
            "True-official-fact",
            None,
            "Harbor County Public Health",
            "2020-08-24",
        ),
        row(
            "HCPH-OF-002",
            "People with COVID-19 symptoms should get tested and stay home until they have their result.",
            "True-official-fact",
            None,
            "Harbor County Public Health",
            "2020-08-24",
        ),
        row(
            "FC-IT-001",
            "Novel coronavirus can be eliminated by drinking lots of water and gargling with warm "
            "water mixed with salt or vinegar.",
            "False",
            INDIA_TODAY_GARGLE,
            "India Today Fact Check",
            "2020-03-17",
        ),
        row(
            "FC-WHO-001",
            "Regularly rinsing your nose with saline protects you from infection with the new coronavirus.",
            "False",
            WHO_MYTHS,
            WHO,
            None,
        ),
        row(
            "FC-WHO-002",
            "Vaccines against pneumonia protect you against the new coronavirus.",
            "False",
            WHO_MYTHS,
            WHO,
            None,
        ),
        row(
            "FC-WHO-003", "Adding hot peppers to your meals prevents or cures COVID-19.", "False", WHO_MYTHS, WHO, None
        ),
    ]


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------
def write_outputs(posts: list[Post], out_dir: Path) -> tuple[Path, Path]:
    posts = sorted(posts, key=lambda p: (round(p.t, 3), p.platform, p.post_id))
    buf = io.BytesIO()
    with gzip.GzipFile(filename="scenario.jsonl", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        for p in posts:
            gz.write((json.dumps(p.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n").encode())
    scenario = out_dir / "scenario.jsonl.gz"
    scenario.write_bytes(buf.getvalue())

    claims = out_dir / "claims.csv"
    with claims.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(
            f, fieldnames=["claim_id", "text", "rating", "url", "source", "published_at"], lineterminator="\n"
        )
        w.writeheader()
        for r in claims_rows():
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return scenario, claims


def check(posts: list[Post]) -> None:
    ids = [(p.platform, p.post_id) for p in posts]
    if len(set(ids)) != len(ids):
        raise SystemExit("duplicate (platform, post_id)")
    by_id = {(p.platform, p.post_id): p for p in posts}
    for p in posts:
        for ref in (p.reply_to_id, p.repost_of_id, p.quote_of_id):
            if ref is not None and not ((p.platform, ref) in by_id and by_id[(p.platform, ref)].t < p.t):
                raise SystemExit(f"{p.post_id} references {ref}, which is not an earlier post")


def summary(posts: list[Post], info: dict[str, Any]) -> str:
    df = pd.DataFrame([p.to_json() for p in posts])
    lines = [f"posts: {len(df)}", f"per platform: {df['platform'].value_counts().to_dict()}"]
    lines.append(f"background pool info: {info}")
    for ev, (a, b) in (("rumour_burst", RUMOUR_WINDOW), ("complaint_spike", COMPLAINT_WINDOW)):
        e = df[df["scenario_event"] == ev]
        same = [((df["t"] >= a - d * 24 * HOUR) & (df["t"] < b - d * 24 * HOUR)).sum() for d in (1, 2)]
        in_win = ((df["t"] >= a) & (df["t"] < b)).sum()
        lines.append(
            f"{ev}: {len(e)} posts ({int(e['synthetic'].sum())} synthetic), t {e['t'].min():.0f}..{e['t'].max():.0f}, "
            f"window total {in_win} vs same window day0/day1 {same}, platforms {e['platform'].value_counts().to_dict()}"
        )
    bg = df[df["scenario_event"].isna()]
    hourly = np.bincount((bg["t"] // HOUR).astype(int), minlength=DURATION_H)
    lines.append(f"background per hour (day 2): {hourly[48:72].tolist()}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data", help="data folder (relative to the repository root)")
    ap.add_argument("--out", default="demo", help="output folder (relative to the repository root)")
    args = ap.parse_args(argv)
    data = (repo / args.data).resolve()
    out = (repo / args.out).resolve()
    if not (data / CONSTRAINT / "train.csv").exists():
        print(f"no {CONSTRAINT}/train.csv under {data}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)

    background, info = build_background(data)
    pools = {p: AccountPool(p, s) for p, s in ACCOUNT_POOL.items()}
    posts = background + build_rumour(data, pools) + build_complaints(pools)
    check(posts)
    scenario, claims = write_outputs(posts, out)
    print(summary(posts, info))
    print(f"wrote {scenario} ({scenario.stat().st_size / 1024:.0f} KiB) and {claims}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Throughput of every label together on 10,000 tweet-length posts, the process's peak memory, and one plain
encoder pass over the same posts with the ratio of the two (machines differ; the ratio travels).

    python bench/classify.py [--posts 10000] [--claims 14231]

Posts: a fixed-seed sample of the TweetEval / CONSTRAINT train tweets in shared/data (synthetic sentences when
that folder is absent). Claims table: the first --claims (default 1,000: a rumour register plus recent
fact-checks) of the CheckThat! 2022 fact-checks, indexed before the clock starts (setup time printed
separately). Topics: eight typical agency topics.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers import Claim, Labeller, Topic
from classifiers.claims import join_fields
from classifiers.runtime import BATCH_SIZE, THREADS, OnnxModel
from classifiers.text import retrieval_text

SEED = 20261123
DATA = Path(os.environ.get("CIVICRADAR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
TOPICS = [
    Topic("roads", "Potholes, road works, closures and traffic", keywords=("pothole",)),
    Topic("transit", "Buses, trains, public transport delays and fares"),
    Topic("parks", "Parks, playgrounds, trees and green spaces"),
    Topic("water", "Drinking water, boil notices, pipes and flooding"),
    Topic("waste", "Rubbish and recycling collection, litter and fly-tipping"),
    Topic("safety", "Crime, police, fire and emergencies"),
    Topic("health", "Public health, vaccines, hospitals and disease outbreaks"),
    Topic("elections", "Voting, polling places, ballots and election results"),
]


def posts(n: int) -> list[str]:
    rng = np.random.default_rng(SEED)
    files = ["tweeteval_sentiment/train.csv", "tweeteval_offensive/train.csv", "constraint_covid19_fakenews/train.csv"]
    if all((DATA / f).exists() for f in files):
        pool = pd.concat([pd.read_csv(DATA / f, keep_default_na=False)["text"] for f in files]).tolist()
        return [pool[i] for i in rng.choice(len(pool), n, replace=len(pool) < n)]
    words = ["the", "road", "bridge", "park", "vote", "water", "bus", "closed", "today", "again", "city",
             "council", "great", "terrible", "new"]
    return [" ".join(rng.choice(words, rng.integers(5, 30))) for _ in range(n)]


def claims(n: int) -> list[Claim]:
    path = DATA / "checkthat2022_claim_retrieval" / "verified_claims.csv"
    if not path.exists():
        return [Claim(f"c{i}", f"claim number {i} about the city") for i in range(min(n, 100))]
    frame = pd.read_csv(path, keep_default_na=False).head(n)
    return [Claim(r.vclaim_id, join_fields([r.title, r.vclaim, r.subtitle]), url=r.url) for r in frame.itertuples()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=1000, help="claims table size (14231 = all CheckThat!)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    args = parser.parse_args()
    texts = posts(args.posts)
    start = time.perf_counter()
    labeller = Labeller(TOPICS, claims(args.claims))
    labeller.label(texts[:64])  # loads every model and indexes the claims
    setup = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, len(texts), 512):
        labeller.label(texts[i : i + 512], args.batch_size)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    plain = encoder_pass(labeller, texts, args.batch_size)
    rate = len(texts) / elapsed
    print(f"classify: {rate:.0f} posts/s, all labels, {len(texts)} posts, {len(labeller.claim_index)} claims, "
          f"{len(TOPICS)} topics; setup {setup:.1f} s; peak RSS {peak:.0f} MiB; one plain encoder pass over the same "
          f"posts {plain:.0f} posts/s; ratio {rate / plain:.2f}")


def encoder_pass(labeller: Labeller, texts: list[str], batch_size: int) -> float:
    """Posts/s of the sentence encoder alone (two threads, same batches), measured after the labelling run: the
    yardstick that makes the labelling figure comparable across machines."""
    encoder = OnnxModel(labeller.model_set.root / "encoder", "", threads=THREADS)
    prepared = [retrieval_text(t) for t in texts]
    encoder(prepared[:64], batch_size)
    start = time.perf_counter()
    for i in range(0, len(prepared), 512):
        encoder(prepared[i : i + 512], batch_size)
    return len(texts) / (time.perf_counter() - start)


if __name__ == "__main__":
    main()

"""Ranking approved responses for an incident: BM25 votes (what the dashboard uses) against the shared sentence
encoder, on the demo scenario and the demo library.

    .venv/bin/python bench/responses_rank.py [--windows 40] [--posts 20]

Cases (fixed seed): windows of `--posts` evidence posts drawn from the rumour burst (the right answer is the
gargling response), the complaint spike (the fairgrounds-waits response), the background posts about 5G (the 5G
response), and control windows of other background posts (the right answer is no suggestion). The incident
context holds the evidence only: no claim ids, topics or watches, so the similarity alone must find the answer.
Printed, for each method with the default `min_similarity` (responses.rank.MIN_SIMILARITY): top-1 accuracy on the
three events, the share of control windows given a suggestion (any), and the mean milliseconds per ranking (after a
warm-up; the encoder's entry embeddings are cached, the posts' are not).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from responses import library, rank
from responses.model import Entry, IncidentContext
from responses.similarity import EncoderSimilarity

SEED = 20261204
ROOT = Path(__file__).resolve().parents[1]
TOPICAL = re.compile(r"\b5g\b|swab|gargl|salt water|vinegar|testing site|fairground|free test", re.I)


def demo_entries() -> list[Entry]:
    claims = {r["claim_id"]: r["text"] for r in csv.DictReader((ROOT / "demo" / "claims.csv").open())}
    found = []
    for e in library.read(ROOT / "demo" / "responses.yaml", date.today()):
        if e["status"] == "approved":
            found.append(Entry(e["response_id"], e["title"], 1, e["messages"], tuple(e["claim_ids"]),
                               tuple(e["topics"]), tuple(e["watches"]), tuple(e["links"]), None,
                               tuple(claims[c] for c in e["claim_ids"] if c in claims)))
    return found


def cases(windows: int, size: int) -> list[tuple[str | None, list[str]]]:
    with gzip.open(ROOT / "demo" / "scenario.jsonl.gz", "rt") as f:
        rows = [json.loads(line) for line in f]
    pools = {"HCPH-RESP-001": [r["text"] for r in rows if r.get("scenario_event") == "rumour_burst"],
             "HCPH-RESP-002": [r["text"] for r in rows if r.get("scenario_event") == "complaint_spike"],
             "HCPH-RESP-004": [r["text"] for r in rows if not r.get("scenario_event")
                               and re.search(r"\b5g\b", r["text"], re.I)],
             None: [r["text"] for r in rows if not r.get("scenario_event") and not TOPICAL.search(r["text"])]}
    rng = random.Random(SEED)
    return [(answer, rng.sample(pool, min(size, len(pool)))) for answer, pool in pools.items()
            for _ in range(windows)]


def evaluate(name: str, similarity: rank.Similarity, entries: list[Entry],
             sample: list[tuple[str | None, list[str]]]) -> str:
    rank.rank(entries, IncidentContext(evidence_texts=tuple(sample[0][1])), similarity=similarity)  # warm up
    hits, events, suggested, controls, times = 0, 0, 0, 0, []
    for answer, posts in sample:
        start = time.perf_counter()
        found = rank.rank(entries, IncidentContext(evidence_texts=tuple(posts)), similarity=similarity)
        times.append(time.perf_counter() - start)
        top = found[0].entry.response_id if found else None
        if answer is None:
            controls, suggested = controls + 1, suggested + bool(found)
        else:
            events, hits = events + 1, hits + (top == answer)
    return (f"{name}: top-1 {hits}/{events} ({hits / events:.0%}), control windows with a suggestion "
            f"{suggested}/{controls} ({suggested / controls:.0%}), {statistics.mean(times) * 1000:.0f} ms per ranking")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=40)
    parser.add_argument("--posts", type=int, default=20)
    args = parser.parse_args()
    entries, sample = demo_entries(), cases(args.windows, args.posts)
    results = [evaluate("bm25", rank.bm25_scores, entries, sample),
               evaluate("encoder", EncoderSimilarity(), entries, sample)]
    print(f"responses ranking, {len(sample)} windows of {args.posts} posts: " + "; ".join(results))


if __name__ == "__main__":
    main()

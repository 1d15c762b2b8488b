"""Ranking approved responses for an incident: linked claim first, then similarity to the evidence; the demo's
library answers the demo's two events (with the shipped sentence encoder and with BM25)."""

import csv
import gzip
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from responses import library, rank
from responses.model import Entry, IncidentContext
from responses.similarity import EncoderSimilarity, best_available

ROOT = Path(__file__).resolve().parents[1]


def entry(rid, title, text, claims=(), topics=(), watches=()):
    return Entry(rid, title, 1, {"en": {"x": text}}, tuple(claims), tuple(topics), tuple(watches))


GARGLE = entry("R-GARGLE", "Salt water gargles", "Gargling salt water does not kill the virus.", ["RR-14"])
SITE = entry("R-SITE", "Testing site waits", "Long lines at the fairgrounds testing site: more lanes open.",
             topics=["testing access"], watches=["testing and care"])
FREE = entry("R-FREE", "Testing is free", "Testing at county sites is free, insurance or not.", ["RR-15"],
             topics=["testing access"])
FIVE_G = entry("R-5G", "5G", "5G masts do not spread the virus.", ["RR-1"])


def fixed(shares: dict[str, float]):
    """A similarity whose votes give each entry the given share of 20 posts."""
    def scores(entries, posts):
        out = np.zeros((len(posts), len(entries)))
        row = 0
        for j, e in enumerate(entries):
            for _ in range(round(shares.get(e.response_id, 0) * len(posts))):
                out[row, j] = 1.0
                row += 1
        return out
    return scores


POSTS = tuple(f"post {i}" for i in range(20))


def test_a_linked_claim_comes_first_whatever_the_similarity():
    found = rank.rank([SITE, GARGLE, FREE], IncidentContext(claim_ids=("RR-14",), evidence_texts=POSTS),
                      similarity=fixed({"R-SITE": 0.9, "R-GARGLE": 0.05}))
    assert [s.entry.response_id for s in found] == ["R-GARGLE", "R-SITE"]
    assert found[0].linked_claims == ("RR-14",) and "answers claim RR-14" in found[0].reason


def test_then_similarity_with_topics_and_watches_breaking_ties():
    context = IncidentContext(topics=("testing access",), watches=("testing and care",), evidence_texts=POSTS)
    found = rank.rank([FREE, SITE, FIVE_G], context, min_similarity=0.2,
                      similarity=fixed({"R-FREE": 0.4, "R-SITE": 0.4, "R-5G": 0.2}))
    # equal shares: R-SITE shares a topic and a watch (+0.10), R-FREE a topic (+0.05)
    assert [s.entry.response_id for s in found] == ["R-SITE", "R-FREE", "R-5G"]
    assert found[0].shared == ("testing access", "testing and care") and found[-1].shared == ()
    assert "40% of the incident's posts match it best" in found[0].reason


def test_entries_that_do_not_fit_are_left_out():
    found = rank.rank([GARGLE, SITE, FIVE_G], IncidentContext(evidence_texts=POSTS), min_similarity=0.5,
                      similarity=fixed({"R-GARGLE": 0.6, "R-SITE": 0.2}))
    assert [s.entry.response_id for s in found] == ["R-GARGLE"]
    nothing = rank.rank([GARGLE, SITE], IncidentContext(), similarity=fixed({}))  # no evidence, no claims
    assert nothing == []


def test_a_shared_topic_lets_a_weaker_match_in_but_not_a_stray_one():
    context = IncidentContext(topics=("testing access",), evidence_texts=POSTS)
    found = rank.rank([SITE, FREE, FIVE_G], context, min_similarity=0.5,
                      similarity=fixed({"R-SITE": 0.3, "R-FREE": 0.1, "R-5G": 0.3}))
    assert [s.entry.response_id for s in found] == ["R-SITE"]  # R-FREE: too few posts; R-5G: no shared topic


def test_bm25_scores_the_matching_entry_highest():
    posts = ["my neighbour says gargling salt water kills the virus", "the fairgrounds testing site lines are long"]
    scores = rank.bm25_scores([GARGLE, SITE, FIVE_G], posts)
    assert scores.shape == (2, 3) and scores[0].argmax() == 0 and scores[1].argmax() == 1
    assert list(rank.votes(scores)) == [0.5, 0.5, 0.0]


def demo() -> tuple[list[Entry], dict[str, list[str]]]:
    claims = {r["claim_id"]: r["text"] for r in csv.DictReader((ROOT / "demo" / "claims.csv").open())}
    entries = [Entry(e["response_id"], e["title"], 1, e["messages"], tuple(e["claim_ids"]), tuple(e["topics"]),
                     tuple(e["watches"]), tuple(e["links"]), None,
                     tuple(claims[c] for c in e["claim_ids"] if c in claims))
               for e in library.read(ROOT / "demo" / "responses.yaml", date(2026, 1, 1)) if e["status"] == "approved"]
    with gzip.open(ROOT / "demo" / "scenario.jsonl.gz", "rt") as f:
        rows = [json.loads(line) for line in f]
    events = {}
    for r in rows:
        if r.get("scenario_event"):
            events.setdefault(r["scenario_event"], []).append(r["text"])
    return entries, events


@pytest.fixture(scope="module")
def encoder():
    return EncoderSimilarity()


@pytest.mark.parametrize("method", ["encoder", "bm25"])
def test_the_demo_library_answers_the_rumour_burst_and_the_complaint_spike(method, encoder):
    similarity = encoder if method == "encoder" else rank.bm25_scores
    entries, events = demo()
    rumour = rank.rank(entries, IncidentContext(claim_ids=("HCPH-RR-014",), evidence_texts=tuple(
        events["rumour_burst"][:40])), similarity=similarity)
    assert rumour[0].entry.response_id == "HCPH-RESP-001" and rumour[0].similarity > 0.8
    spike = rank.rank(entries, IncidentContext(topics=("testing access",), watches=("testing and care",),
                                               evidence_texts=tuple(events["complaint_spike"][:40])),
                      similarity=similarity)
    assert spike[0].entry.response_id == "HCPH-RESP-002" and spike[0].similarity >= 0.5
    # without claim, topic or watch, the evidence alone finds the rumour's answer too
    alone = rank.rank(entries, IncidentContext(evidence_texts=tuple(events["rumour_burst"][40:80])),
                      similarity=similarity)
    assert alone[0].entry.response_id == "HCPH-RESP-001" and not alone[0].linked_claims


def test_the_encoder_is_preferred_and_bm25_is_the_fallback(tmp_path):
    assert best_available()[1] == "sentence encoder"
    similarity, name = best_available(tmp_path / "no-models")
    assert similarity is rank.bm25_scores and name.startswith("BM25")

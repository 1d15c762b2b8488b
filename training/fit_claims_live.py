"""Choose the labelling path's claim matching by cross-validation inside CheckThat! 2022 2A train: how many
first-stage candidates the cross-encoder re-ranks per post (k) and the cosine gate below which a post is not
re-ranked at all. val / val_devtest are not read.

- Quality: MAP@5 of the live path's ranked list on the 150 train queries held out from the cross-encoder's own
  training (train_reranker.py), five seeded folds.
- Cost: cross-encoder passes per 1,000 ordinary posts = 1,000 x (share of ordinary posts with some claim at
  cosine >= gate) x k, on the seeded TweetEval train samples of features.py (all six tasks) against the full
  CheckThat! claims table (14,231 fact-checks; a smaller table costs less).
- Rule: the highest MAP@5 among the (k, gate) pairs costing no more cross-encoder passes per ordinary post than
  the 2026.11 labelling path (k 2, gate 0.5) on the same posts (throughput must not drop: bench/classify.py is
  under its 300 posts/s goal already), ties to the cheaper. It is applied inside each fold (chosen on four,
  scored on the fifth: the CV figure of the rule) and then on all 150 queries for the shipped values, written to
  the re-ranker's config.json as ``label_k`` / ``label_gate``.

    python training/features.py && python training/fit_claims_live.py      # ~5 min on 2 idle cores

training/fit_claims_gate.py --write can add a learned gate on top (measured, not shipped: see the model card).
"""

from __future__ import annotations

import json
import sys

import numpy as np
from _common import MODELS
from features import TWEETEVAL, load
from sklearn.model_selection import KFold
from train_reranker import HELD_OUT, SEED, load_claims, queries

from classifiers.claims import ClaimIndex, Reranking, rerank
from classifiers.evaluate import ranking_metrics
from classifiers.runtime import OnnxModel

KS = (1, 2, 3, 5, 10, 20)
GATES = (0.34, 0.38, 0.42, 0.46, 0.5, 0.55)
BUDGET_PATH = (2, 0.5)  # the 2026.11 labelling path (k, gate): its cost per ordinary post is the budget
BENCH_CLAIMS = 1000  # bench/classify.py's default claims table: the first 1,000 fact-checks
FOLDS = 5
VERSION = "2026.12.1"  # the re-ranker's version: live matches change, so labels are redone


def held_out_candidates(index: ClaimIndex, encoder: OnnxModel, reranker: OnnxModel) -> dict[str, np.ndarray]:
    """Per held-out train query: top-20 first-stage candidates, their scores and cross-encoder logits, the best
    cosine over the table, and the gold sets (as claim indices)."""
    texts, golds = queries("train", {c.claim_id: i for i, c in enumerate(index.claims)})
    held = np.sort(np.random.default_rng(SEED).choice(len(texts), HELD_OUT, replace=False))
    texts, golds = [texts[i] for i in held], [golds[i] for i in held]
    emb = encoder(texts)["embedding"]
    cands, first = index.candidates(texts, emb, max(KS))
    ce = rerank(reranker, texts, [[index.texts[c] for c in row] for row in cands])
    best = (emb @ index.embeddings.T).max(axis=1)
    return {"cands": cands, "first": first, "ce": ce, "best": best, "golds": np.array(golds, dtype=object)}


def live_ap(c: dict[str, np.ndarray], settings: Reranking, k: int, gate: float) -> np.ndarray:
    """Per query: AP@5 of the live path's list (the top k re-ranked when the best cosine passes the gate)."""
    ranked = []
    for j in range(len(c["cands"])):
        if c["best"][j] < gate:
            ranked.append([])
            continue
        score = c["ce"][j][:k] + settings.fusion[1] / settings.fusion[0] * c["first"][j][:k]
        ranked.append([int(c["cands"][j][o]) for o in np.argsort(-score)])
    out = []
    for row, gold in zip(ranked, c["golds"], strict=True):
        out.append(ranking_metrics([row], [gold], ks=(5,))["map@5"])
    return np.array(out)


def ordinary_pass_rates(claims: np.ndarray) -> dict[float, float]:
    """Share of ordinary posts (features.py's TweetEval train samples) with some claim at cosine >= gate."""
    emb = np.concatenate([load(f"tweeteval_{t}", "train")["embedding"] for t in TWEETEVAL])
    best = np.concatenate([(emb[i : i + 2000] @ claims.T).max(axis=1) for i in range(0, len(emb), 2000)])
    return {g: float((best >= g).mean()) for g in GATES}


def choose(aps: dict[tuple[int, float], np.ndarray], cost: dict[tuple[int, float], float], rows: np.ndarray
           ) -> tuple[int, float]:
    ok = [p for p in aps if cost[p] <= cost[BUDGET_PATH] + 1e-9]
    return max(ok, key=lambda p: (round(float(aps[p][rows].mean()), 4), -cost[p]))


def main() -> None:
    claims, _ = load_claims()
    encoder = OnnxModel(MODELS / "encoder", "python training/export_encoder.py")
    reranker = OnnxModel(MODELS / "reranker", "python training/train_reranker.py")
    settings = Reranking.from_config(reranker.config)
    index = ClaimIndex(claims, encoder)
    rates = ordinary_pass_rates(index.embeddings)
    log({"ordinary_pass_1000_claims": ordinary_pass_rates(index.embeddings[:BENCH_CLAIMS])})
    c = held_out_candidates(index, encoder, reranker)
    grid = [(k, g) for k in KS for g in GATES]
    aps = {p: live_ap(c, settings, *p) for p in grid}
    cost = {(k, g): 1000 * rates[g] * k for k, g in grid}
    for k, g in grid:
        log({"k": k, "gate": g, "map@5": round(float(aps[(k, g)].mean()), 4), "ce_per_1000": round(cost[(k, g)], 1),
             "ordinary_pass": round(rates[g], 4), "query_pass": round(float((c["best"] >= g).mean()), 4)})
    per_fold, picks = [], []
    for fit, test in KFold(FOLDS, shuffle=True, random_state=SEED).split(c["best"]):
        pick = choose(aps, cost, fit)
        picks.append(pick)
        per_fold.append(float(aps[pick][test].mean()))
    k, gate = choose(aps, cost, np.arange(len(c["best"])))
    ungated = live_ap(c, settings, 20, -1.0)
    top20 = [float(ungated[test].mean()) for _, test in KFold(FOLDS, shuffle=True, random_state=SEED).split(ungated)]
    cv = {"rule_map@5_cv": (float(np.mean(per_fold)), float(np.std(per_fold))), "fold_picks": picks,
          "chosen": {"k": k, "gate": gate}, "ce_per_1000_ordinary": cost[(k, gate)],
          "ordinary_pass": rates[gate], "ungated_top20_map@5_cv": (float(np.mean(top20)), float(np.std(top20)))}
    log({"cv": cv})
    path = MODELS / "reranker" / "config.json"
    config = json.loads(path.read_text())
    config |= {"version": VERSION, "label_k": k, "label_gate": gate}
    config.pop("label_gate_model", None)  # the cosine-gated path alone; training/fit_claims_gate.py runs after this
    path.write_text(json.dumps(config, indent=2) + "\n")


def log(value: dict) -> None:
    print(json.dumps(value, default=str), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

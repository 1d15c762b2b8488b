"""A learned claim gate for the labelling path, chosen by cross-validation inside CheckThat! 2022 2A train.

The cosine gate of training/fit_claims_live.py passes ~23 % of ordinary tweets with the 14k-claim table, so the
cross-encoder budget affords k = 1. Here a logistic regression decides which posts are re-ranked, from what the
labelling path computes anyway: the first-stage top-1 score (z-cosine + 0.5 z-BM25), its margin to the 2nd, the
best cosine, and optionally the shared encoder's embedding. Positives: CheckThat! 2A train queries (tweets that
prompted a fact-check). Negatives, "ordinary posts": features.py's seeded TweetEval train samples (10,500 tweets of
residents' everyday talk, the posts fit_claims_live.py prices the budget on) and CONSTRAINT's "real" train tweets
(3,360 health-news posts: news-like text that is not a rumour; without them the gate learns "tweet style" and
passes half of them). val / val_devtest are not read.

Measured and NOT shipped (reranker MODEL_CARD.md): val MAP@5 0.937 / val_devtest 0.899 at fewer cross-encoder
passes, but it learns CheckThat!'s style and re-ranked 1 of the demo's 186 rumour posts against the demo's register
(the shipped cosine path: 170). `--write` installs it for a deployment whose claims are CheckThat!-like.

- Folds: five seeded folds of the train queries (by query) and of the ordinary posts; each fold's gate is fitted
  on the other four, so every query and post gets an out-of-fold gate score.
- Quality: MAP@5 of the live list on the 150 train queries held out from the cross-encoder's training
  (train_reranker.py) with their out-of-fold gate scores.
- Cost: cross-encoder passes per 1,000 posts = 1,000 x pass rate x k, out of fold on the tweets and on the news
  posts, and on bench/classify.py's first 2,000 posts with its 1,000-claim table (the gate refitted on all rows).
- Rule: the best MAP@5 among (features, C, threshold, k) costing no more than the 2026.12.1 path (k 1, cosine
  0.46) on each of the three, ties to the cheaper; the fitted cosine floor (``gate_cosine``) stays. Applied on
  four folds of the held-out queries and scored on the fifth for its CV figure, then on all for the
  final choice, refitted on all rows and written (``--write``) to the re-ranker's config.json as ``label_gate_model``
  with ``label_k``.

    python training/features.py && python training/fit_claims_live.py && python training/fit_claims_gate.py --write
    # this script ~10 min on 2 busy cores (first run: encodes the 14k claims; cached under $CIVICRADAR_SCRATCH)
"""

from __future__ import annotations

import argparse
import json
import sys
from types import SimpleNamespace

import numpy as np
from _common import MODELS, SCRATCH, read
from features import TWEETEVAL, load
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from train_reranker import HELD_OUT, SEED, load_claims, queries

from classifiers.claims import ClaimIndex, Reranking, rerank
from classifiers.evaluate import ranking_metrics
from classifiers.runtime import OnnxModel
from classifiers.text import retrieval_text

CACHE = SCRATCH / "claims_gate"
TOP = 20
KS = (1, 2, 3, 5, 10, 20)
CS = (0.01, 0.1, 1.0)
FEATURE_SETS = ("scores", "scores+embedding")
COSINE_PATH = (1, 0.46)  # the 2026.12.1 labelling path (k, cosine gate; fit_claims_live.py): the cost budget
NEWS = "constraint_covid19_fakenews"  # its "real" tweets (health news, no rumour) count as ordinary posts too
FOLDS = 5
VERSION = "2026.12.2"  # written with --write: live matches change, so labels are redone
CHUNK = 2000
BENCH_POSTS, BENCH_CLAIMS = 2000, 1000  # bench/classify.py's default claims table: the first 1,000 fact-checks


def first_stage(index: ClaimIndex, texts: list[str], emb: np.ndarray) -> dict[str, np.ndarray]:
    parts = []
    for i in range(0, len(texts), CHUNK):
        t, e = texts[i : i + CHUNK], emb[i : i + CHUNK]
        cands, first = index.candidates(t, e, TOP)
        parts.append({"cands": cands, "first": first, "best": (e @ index.embeddings.T).max(axis=1), "emb": e})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def cached(name: str, make) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    path = CACHE / f"{name}.npz"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, **make())
        log({"cached": str(path)})
    with np.load(path, allow_pickle=True) as data:
        return dict(data)


def ordinary_texts() -> list[str]:
    out = []
    for t in TWEETEVAL:
        rows = load(f"tweeteval_{t}", "train")["rows"]
        out += [retrieval_text(x) for x in read(f"tweeteval_{t}", "train")["text"].iloc[rows]]
    return out


def claim_index() -> ClaimIndex:
    """The full CheckThat! claims table, its embeddings cached (encoding 14k claims takes minutes)."""
    claims, _ = load_claims()
    encoder = OnnxModel(MODELS / "encoder", "python training/export_encoder.py")
    path = CACHE / "claims.npz"
    if path.exists():
        with np.load(path) as data:
            return ClaimIndex(claims, encoder, previous=SimpleNamespace(texts=list(data["texts"]),  # type: ignore[arg-type]
                                                                         embeddings=data["embeddings"]))
    index = ClaimIndex(claims, encoder)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, texts=np.array(index.texts), embeddings=index.embeddings)
    return index


def build() -> tuple[dict, dict]:
    _, index_of = load_claims()
    encoder = OnnxModel(MODELS / "encoder", "python training/export_encoder.py")
    reranker = OnnxModel(MODELS / "reranker", "python training/train_reranker.py")
    index = claim_index()
    texts, golds = queries("train", index_of)
    held = np.sort(np.random.default_rng(SEED).choice(len(texts), HELD_OUT, replace=False))

    def make_queries() -> dict[str, np.ndarray]:
        out = first_stage(index, texts, encoder(texts)["embedding"])
        ce = rerank(reranker, [texts[i] for i in held], [[index.texts[c] for c in out["cands"][i]] for i in held])
        return out | {"held": held, "ce": ce, "golds": np.array(golds, dtype=object)}

    def make_ordinary() -> dict[str, np.ndarray]:
        emb = np.concatenate([load(f"tweeteval_{t}", "train")["embedding"] for t in TWEETEVAL])
        return first_stage(index, ordinary_texts(), emb)

    def make_news() -> dict[str, np.ndarray]:
        feats = load(NEWS, "train")
        frame = read(NEWS, "train").iloc[feats["rows"]]
        keep = (frame["label"] == "real").to_numpy()
        return first_stage(index, [retrieval_text(t) for t in frame["text"][keep]], feats["embedding"][keep])

    tweets, news = cached("ordinary", make_ordinary), cached("news", make_news)
    ordinary = {k: np.concatenate([tweets[k], news[k]]) for k in tweets}
    ordinary["news"] = np.r_[np.zeros(len(tweets["best"]), bool), np.ones(len(news["best"]), bool)]
    return cached("queries", make_queries), ordinary


def features(d: dict[str, np.ndarray], kind: str) -> np.ndarray:
    scores = np.stack([d["first"][:, 0], d["first"][:, 0] - d["first"][:, 1], d["best"]], axis=1)
    return scores if kind == "scores" else np.hstack([scores, d["emb"]])


def oof(q: dict, o: dict, kind: str, c: float) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold gate scores (log-odds) of every query and ordinary post; the cosine itself for "cosine"."""
    if kind == "cosine":
        return q["best"], o["best"]
    xq, xo = features(q, kind), features(o, kind)
    sq, so = np.zeros(len(xq)), np.zeros(len(xo))
    split = KFold(FOLDS, shuffle=True, random_state=SEED)
    for (qa, qb), (oa, ob) in zip(split.split(xq), split.split(xo), strict=True):
        model = fit(np.vstack([xq[qa], xo[oa]]), np.r_[np.ones(len(qa)), np.zeros(len(oa))], c)
        sq[qb], so[ob] = model.decision_function(xq[qb]), model.decision_function(xo[ob])
    return sq, so


def fit(x: np.ndarray, y: np.ndarray, c: float):  # type: ignore[no-untyped-def]
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=5000))
    return model.fit(x, y)


def live_aps(q: dict, settings: Reranking) -> dict[int, np.ndarray]:
    """Per k: AP@5 of the live list of each held-out query when it passes the gate."""
    out = {}
    for k in KS:
        aps = []
        for j, i in enumerate(q["held"]):
            score = q["ce"][j][:k] + settings.fusion[1] / settings.fusion[0] * q["first"][i][:k]
            row = [int(q["cands"][i][o]) for o in np.argsort(-score)]
            aps.append(ranking_metrics([row], [q["golds"][i]], ks=(5,))["map@5"])
        out[k] = np.array(aps)
    return out


RATES = (0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3)


def grid(q: dict, o: dict, b: dict, settings: Reranking) -> list[dict]:
    """Every (kind, C, threshold, k): per held-out query AP@5 and the cost per 1,000 ordinary posts (out of fold)
    and per 1,000 of bench/classify.py's posts (the gate refitted on all rows)."""
    aps, held, rows = live_aps(q, settings), q["held"], []
    budget = tuple(1000 * float((best >= COSINE_PATH[1]).mean()) * COSINE_PATH[0]
                   for best in (o["best"][~o["news"]], o["best"][o["news"]], b["best"]))
    for kind in ("cosine", *FEATURE_SETS):
        for c in (CS if kind != "cosine" else (0.0,)):
            sq, so = oof(q, o, kind, c)
            sb = b["best"] if kind == "cosine" else fit_all(q, o, kind, c).decision_function(features(b, kind))
            for rate in RATES:
                t = float(np.quantile(so, 1 - rate))
                ok_o, ok_q = (so >= t) & (o["best"] >= settings.gate), (sq >= t) & (q["best"] >= settings.gate)
                ok_b = (sb >= t) & (b["best"] >= settings.gate)
                for k in KS:
                    rows.append({"kind": kind, "C": c, "threshold": t, "k": k, "ap": aps[k] * ok_q[held],
                                 "cost": 1000 * float(ok_o.mean()) * k, "ordinary_pass": float(ok_o.mean()),
                                 "budget": budget, "tweet_cost": 1000 * float(ok_o[~o["news"]].mean()) * k,
                                 "news_cost": 1000 * float(ok_o[o["news"]].mean()) * k,
                                 "bench_cost": 1000 * float(ok_b.mean()) * k,
                                 "query_pass": float(ok_q[held].mean()), "all_query_pass": float(ok_q.mean())})
    return rows


def choose(rows: list[dict], part: np.ndarray) -> dict:
    ok = [r for r in rows if all(r[f"{part}_cost"] <= limit + 1e-9
                                 for part, limit in zip(("tweet", "news", "bench"), r["budget"], strict=True))]
    return max(ok, key=lambda r: (round(float(r["ap"][part].mean()), 4), -r["cost"]))


def fit_all(q: dict, o: dict, kind: str, c: float):  # type: ignore[no-untyped-def]
    x = np.vstack([features(q, kind), features(o, kind)])
    return fit(x, np.r_[np.ones(len(q["best"])), np.zeros(len(o["best"]))], c)


def final(q: dict, o: dict, chosen: dict) -> dict:
    """The chosen gate refitted on every train query and ordinary post, as config.json's ``label_gate_model``:
    log-odds = weights . [first-stage top 1, its margin to the 2nd, best cosine, embedding...] + intercept."""
    if chosen["kind"] == "cosine":
        return {}
    scaler, lr = fit_all(q, o, chosen["kind"], chosen["C"])
    weights = lr.coef_[0] / scaler.scale_
    intercept = float(lr.intercept_[0] - weights @ scaler.mean_)
    return {"features": chosen["kind"], "C": chosen["C"], "weights": [round(float(w), 6) for w in weights],
            "intercept": round(intercept, 6), "threshold": round(float(chosen["threshold"]), 6)}


def other_posts(gate: dict) -> None:
    """Pass rates of the chosen gate on posts it was not fitted on: CONSTRAINT (COVID-19 news and rumours) and
    LIAR (PolitiFact statements) train samples of features.py."""
    index = claim_index()
    for name in (NEWS, "liar"):
        feats = load(name, "train")
        frame = read(name, "train").iloc[feats["rows"]]
        d = first_stage(index, [retrieval_text(t) for t in frame["text"]], feats["embedding"])
        score = features(d, gate["features"]) @ np.array(gate["weights"]) + gate["intercept"]
        passed = (score >= gate["threshold"]) & (d["best"] >= 0.342)
        by = {str(v): float(passed[(frame["label"] == v).to_numpy()].mean()) for v in sorted(set(frame["label"]))}
        log({"pass_rate": name, "all": float(passed.mean()), "by_label": by})


def bench_features() -> dict[str, np.ndarray]:
    """First stage of bench/classify.py's own posts (its first 2,000) against its default 1,000-claim table."""
    from bench.classify import posts

    def make() -> dict[str, np.ndarray]:
        texts = [retrieval_text(t) for t in posts(BENCH_POSTS)]
        encoder = OnnxModel(MODELS / "encoder", "python training/export_encoder.py")
        full = claim_index()
        return first_stage(ClaimIndex(full.claims[:BENCH_CLAIMS], encoder, previous=full), texts,
                           encoder(texts)["embedding"])

    return cached("bench", make)


def log(value: dict) -> None:
    print(json.dumps(value, default=str), file=sys.stderr, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    q, o = build()
    log({"queries": len(q["best"]), "ordinary": len(o["best"])})
    settings = Reranking.from_config(json.loads((MODELS / "reranker" / "config.json").read_text()))
    rows = grid(q, o, bench_features(), settings)
    for kind in ("cosine", *FEATURE_SETS):
        best = choose([r for r in rows if r["kind"] == kind], np.arange(HELD_OUT))
        log({"best_of": kind} | {k: v for k, v in best.items() if k != "ap"} | {"map@5": float(best["ap"].mean())})
    per_fold, picks = [], []
    for fit_rows, test in KFold(FOLDS, shuffle=True, random_state=SEED).split(np.arange(HELD_OUT)):
        pick = choose(rows, fit_rows)
        picks.append((pick["kind"], pick["C"], pick["k"], round(pick["ordinary_pass"], 4)))
        per_fold.append(float(pick["ap"][test].mean()))
    chosen = choose(rows, np.arange(HELD_OUT))
    log({"rule_map@5_cv": (float(np.mean(per_fold)), float(np.std(per_fold))), "fold_picks": picks,
         "chosen": {k: v for k, v in chosen.items() if k != "ap"}, "chosen_map@5": float(chosen["ap"].mean())})
    gate = final(q, o, chosen)
    if gate:
        other_posts(gate)
    if args.write:
        path = MODELS / "reranker" / "config.json"
        config = json.loads(path.read_text())
        config |= {"version": VERSION, "label_k": chosen["k"], "label_gate": settings.gate, "label_gate_model": gate}
        path.write_text(json.dumps(config, indent=2) + "\n")

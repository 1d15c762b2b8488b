"""Metrics on labelled files, exactly as the shipped Labeller produces labels (unscored rows count as misses)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, recall_score

from . import Labeller, Topic
from .claims import match
from .sentiment import LABELS

UNSCORED = "unscored"
MATCH = 0.5  # the match probability the dashboard and the claim-burst alerts count as a match

# TweetEval stance targets as agency topics, one sentence each (written once, before any scoring).
STANCE_TOPICS = (
    Topic("abortion", "Abortion, pro-life and pro-choice views, unborn babies and reproductive rights."),
    Topic("atheism", "Atheism, religion, belief in God, faith, prayer and the Bible."),
    Topic("climate", "Climate change, global warming, carbon emissions and the environment."),
    Topic("feminist", "Feminism, women's rights, gender equality and sexism."),
    Topic("hillary", "Hillary Clinton and her 2016 presidential campaign."),
)


def label_names(values: pd.Series, names: Sequence[str]) -> list[str]:
    """Gold labels given as names or as integer ids into ``names``."""
    return [names[int(v)] if str(v).isdigit() else str(v) for v in values]


def sentiment(labeller: Labeller, texts: list[str], gold: pd.Series) -> dict[str, float]:
    truth = label_names(gold, LABELS)
    pred = [lab.sentiment or UNSCORED for lab in labeller.label(texts)]
    return {
        "macro_recall": recall_score(truth, pred, labels=list(LABELS), average="macro", zero_division=0),
        "accuracy": float(np.mean([t == p for t, p in zip(truth, pred, strict=True)])),
        **shares(truth, pred, list(LABELS)),
        "unscored": pred.count(UNSCORED),
        "n": len(truth),
    }


# LIAR's six PolitiFact ratings: the two false ones against the two true ones; half-true and barely-true are left out.
LIAR = {"pants-fire": "fake", "false": "fake", "true": "real", "mostly-true": "real"}


def misinfo(labeller: Labeller, texts: list[str], gold: pd.Series) -> dict[str, float]:
    """Gold: real / fake (or 0 / 1), or LIAR's ratings (see LIAR)."""
    if gold.isin([*LIAR, "half-true", "barely-true"]).all():
        keep = gold.isin(list(LIAR)).to_numpy()
        texts, gold = [t for t, k in zip(texts, keep, strict=True) if k], gold[keep].map(LIAR)
    truth = label_names(gold, ("real", "fake"))
    labels = labeller.label(texts)
    pred = [UNSCORED if lab.misinfo_score is None else ("fake" if lab.misinfo_score >= 0.5 else "real")
            for lab in labels]
    scores = np.array([np.nan if lab.misinfo_score is None else lab.misinfo_score for lab in labels])
    out = {"weighted_f1": f1_score(truth, pred, labels=["real", "fake"], average="weighted", zero_division=0)}
    if set(truth) == {"real", "fake"}:
        from sklearn.metrics import roc_auc_score

        ok = ~np.isnan(scores)
        out["auc"] = roc_auc_score(np.array(truth)[ok] == "fake", scores[ok])
    flagged = np.nan_to_num(scores) >= 0.5
    return out | shares(truth, pred, ["real", "fake"]) | {"flagged_rate": float(flagged.mean()),
                                                         "unscored": pred.count(UNSCORED), "n": len(truth)}


def shares(truth: Sequence[str], pred: Sequence[str], names: list[str]) -> dict[str, object]:
    """Confusion matrix (rows: true label, columns: predicted, then unscored) and true vs predicted shares."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(truth, pred, labels=[*names, UNSCORED])[: len(names)]
    return {"confusion_rows_true_cols_pred": {n: dict(zip([*names, UNSCORED], map(int, row), strict=True))
                                              for n, row in zip(names, matrix, strict=True)},
            "true_share": {n: round(truth.count(n) / len(truth), 4) for n in names},
            "predicted_share": {n: round(list(pred).count(n) / len(pred), 4) for n in names}}


def flagged(labeller: Labeller, texts: list[str], gold: pd.Series | None = None) -> dict[str, float]:
    """Share of posts flagged as likely misinformation (score >= 0.5): for files of ordinary posts."""
    scores = np.array([np.nan if lab.misinfo_score is None else lab.misinfo_score for lab in labeller.label(texts)])
    return {"flagged_rate": float((np.nan_to_num(scores) >= 0.5).mean()),
            "flagged_rate_0.8": float((np.nan_to_num(scores) >= 0.8).mean()),
            "unscored": int(np.isnan(scores).sum()), "n": len(texts)}


def ranking_metrics(ranked: list[list[str]], gold: list[set[str]], ks: Sequence[int] = (1, 3, 5, 10)) -> dict:
    """trec_eval-style MAP@k (precision at each relevant rank <= k, divided by the number relevant) and MRR."""
    out: dict[str, float] = {}
    for k in ks:
        aps = []
        for ids, rel in zip(ranked, gold, strict=True):
            hits = [i for i, c in enumerate(ids[:k], 1) if c in rel]
            aps.append(sum((n + 1) / r for n, r in enumerate(hits)) / len(rel))
        out[f"map@{k}"] = float(np.mean(aps))
    out["mrr"] = float(np.mean([next((1 / r for r, c in enumerate(ids, 1) if c in rel), 0.0)
                                for ids, rel in zip(ranked, gold, strict=True)]))
    out["n"] = len(gold)
    return out


def rank_claims(labeller: Labeller, texts: list[str], top: int) -> list[list[tuple[str, float]]]:
    """Every query re-ranked (no gate), best first: [(claim id, match probability)]."""
    from .text import retrieval_text

    queries = [retrieval_text(t) for t in texts]
    found = match(labeller.claim_index, labeller.model_set.reranker, labeller.reranking, queries,
                  labeller.embed(texts), k=max(top, labeller.reranking.k), gated=False)
    return [[(labeller.claim_index.claims[m.claim_index].claim_id, m.score) for m in row[:top]] for row in found]


def claims(labeller: Labeller, texts: list[str], gold: pd.Series) -> dict[str, float]:
    """The labelling path, exactly as ``Labeller.label`` runs it (the cosine gate, and a learned gate when
    config.json has one; the first-stage top ``label_k`` re-ranked; a post below the gate gets no match): MAP@k of
    its ranked list and the share of gold claims ``label`` stores as the post's match with probability >= the
    dashboard's 0.5 (``recall_at_flag``).
    ``match_claims_``: the same metrics for ``match-claims`` (the top ``rerank_k`` of every query, no gate)."""
    ids = [c.claim_id for c in labeller.claim_index.claims]
    live = [[ids[m.claim_index] for m in row] for row in labeller.claim_matches(texts)]
    stored = [(lab.matched_claim_id, lab.matched_claim_score or 0.0) for lab in labeller.label(texts)]
    golds = [set(g.split(";")) for g in gold]
    hits = sum(cid in g and p >= MATCH for (cid, p), g in zip(stored, golds, strict=True))
    search = [[cid for cid, _ in row] for row in rank_claims(labeller, texts, labeller.reranking.k)]
    settings = labeller.reranking
    return (ranking_metrics(live, golds)
            | {"gate_pass": float(np.mean([bool(row) for row in live])), "recall_at_flag": hits / sum(map(len, golds)),
               "label_k": settings.label_k, "label_gate": settings.label_gate,
               "learned_gate_threshold": None if settings.learned is None else settings.learned.threshold}
            | {f"match_claims_{k}": v for k, v in ranking_metrics(search, golds).items() if k != "n"})


def topics(labeller: Labeller, texts: list[str], gold: pd.Series) -> dict[str, float]:
    """Macro-F1 over topics of the multi-label assignment (a post's gold set is its one target)."""
    names = [t.name for t in labeller._topics]
    assigned = [lab.topics for lab in labeller.label(texts)]
    f1s = {}
    for name in names:
        truth = np.array([g == name for g in gold])
        pred = np.array([name in a for a in assigned])
        f1s[f"f1_{name}"] = f1_score(truth, pred, zero_division=0)
    top1 = [max(a.items(), key=lambda kv: kv[1])[0] if a else UNSCORED for a in assigned]
    return {"macro_f1": float(np.mean(list(f1s.values()))), **f1s,
            "top1_accuracy": float(np.mean([t == g for t, g in zip(top1, gold, strict=True)])),
            "other_rate": float(np.mean(["other" in a for a in assigned])), "n": len(gold)}


"""`civicradar evaluate --task claims` measures the labelling path itself (tiny random models): its figures are
recomputed here from what ``Labeller.label`` stores, for several re-ranking depths and gates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classifiers import Claim, Labeller
from classifiers import evaluate as ev
from classifiers.claims import LABEL_GATE, LABEL_K, LearnedGate, Reranking

CLAIMS = (Claim("c1", "5G towers spread the virus", "false"), Claim("c2", "The bridge on 5th street will close"),
          Claim("c3", "Tap water is unsafe to drink this week"), Claim("c4", "Polling places move on Tuesday"))
TEXTS = ["5G masts are making people sick", "They are closing the 5th street bridge", "Boil the tap water",
         "Where do I vote now?", "Lovely sunset tonight", "Le pont est fermé"]
GOLD = pd.Series(["c1", "c2", "c3", "c4", "c1", "c2"])


def models_with(tiny_models_dir: Path, tmp_path: Path, **live: object) -> Path:
    root = tmp_path / "models"
    shutil.copytree(tiny_models_dir, root)
    path = root / "reranker" / "config.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | live))
    return root


def cosine_only(threshold: float) -> dict:
    """A learned gate that weighs the best cosine alone: it must pass exactly what a cosine gate does."""
    return {"features": "scores", "weights": [0.0, 0.0, 1.0], "intercept": 0.0, "threshold": threshold}


@pytest.mark.parametrize(("label_k", "label_gate", "learned"),
                         [(1, -1.0, None), (3, -1.0, None), (4, 0.999, None), (3, -1.0, cosine_only(0.999)),
                          (2, -1.0, cosine_only(-1.0))])
def test_evaluate_reports_what_the_labeller_stores(tiny_models_dir: Path, tmp_path: Path, label_k: int,
                                                    label_gate: float, learned: dict | None) -> None:
    labeller = Labeller(claims=CLAIMS, models_dir=models_with(tiny_models_dir, tmp_path, label_k=label_k,
                                                             label_gate=label_gate, label_gate_model=learned))
    if learned is not None:
        label_gate = max(label_gate, learned["threshold"])
    report = ev.claims(labeller, TEXTS, GOLD)
    labels = labeller.label(TEXTS)
    stored = [lab.matched_claim_id for lab in labels]
    assert report["map@1"] == pytest.approx(sum(s == g for s, g in zip(stored, GOLD, strict=True)) / len(TEXTS))
    hits = sum(lab.matched_claim_id == g and (lab.matched_claim_score or 0) >= ev.MATCH
               for lab, g in zip(labels, GOLD, strict=True))
    assert report["recall_at_flag"] == pytest.approx(hits / len(TEXTS))
    ranked = labeller.claim_matches(TEXTS)
    assert [row[0].claim_index if row else None for row in ranked] == [
        None if s is None else [c.claim_id for c in CLAIMS].index(s) for s in stored]
    assert all(len(row) <= label_k for row in ranked) and not ranked[-1]  # French: unscored, no match
    assert report["label_k"] == label_k and report["n"] == len(TEXTS)
    if label_gate > 0.99:
        assert report["gate_pass"] == 0 and report["map@5"] == 0 and stored == [None] * len(TEXTS)
    else:
        assert report["gate_pass"] == pytest.approx(5 / 6)


def test_labelling_settings_come_from_the_config_and_keep_the_fitted_floor() -> None:
    base = {"fusion": {"ce": 1.0, "first": 0.5}, "platt": {"slope": 1.0, "intercept": 0.0}, "rerank_k": 20,
            "gate_cosine": 0.34}
    assert (Reranking.from_config(base).label_k, Reranking.from_config(base).label_gate) == (LABEL_K, LABEL_GATE)
    fitted = Reranking.from_config(base | {"label_k": 5, "label_gate": 0.42})
    assert (fitted.label_k, fitted.label_gate) == (5, 0.42)
    assert Reranking.from_config(base | {"label_gate": 0.1}).label_gate == 0.34


def test_learned_gate_weighs_the_first_stage_and_the_embedding() -> None:
    gate = LearnedGate.from_config({"features": "scores+embedding", "weights": [1.0, 2.0, 0.0, 0.0, -1.0],
                                    "intercept": -1.0, "threshold": 0.5})
    assert gate is not None and LearnedGate.from_config(None) is None
    first = np.array([[2.0, 1.5], [1.0, 0.0], [3.0, 3.0]], np.float32)
    emb = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, -2.0]], np.float32)
    # log-odds [top 1, margin, best cosine, embedding] . weights - 1: 2 + 1 - 1 = 2; 1 + 2 - 1 - 1 = 1; 3 + 2 - 1 = 4
    assert gate.passes(first, np.zeros(3), emb).tolist() == [True, True, True]
    assert gate.passes(first - 2.0, np.zeros(3), emb).tolist() == [False, False, True]
    single = LearnedGate.from_config({"features": "scores", "weights": [1.0, 5.0, 0.0], "intercept": 0.0,
                                      "threshold": 0.5})
    assert single is not None and single.passes(np.array([[0.6], [0.4]]), np.zeros(2), emb[:2]).tolist() == [True,
                                                                                                            False]


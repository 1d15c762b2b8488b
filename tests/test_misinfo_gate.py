"""The misinformation gate's domain TF-IDF inputs (textcls 2026.12.2): the shipped format replicates scikit-learn,
enters the gate after the embedding and the COVID-19 flag, and a config that needs the file fails clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifiers import ModelMissing
from classifiers.misinfo import DOMAIN_FILE, MisinfoModel, domain_logits, gate_inputs, load_domain_tfidf

DOCS = ["5G spreads the virus", "the council meets today", "Says the governor cut taxes by 40 percent",
        "virus cases rise today", "Says the senator voted against veterans", "lovely day at the park"]
DOMAIN = np.array([0, 2, 1, 0, 1, 2])


def write_domain(path: Path) -> tuple[object, list]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x = vec.fit_transform(DOCS)
    fits = [LogisticRegression().fit(x, np.equal(DOMAIN, d)) for d in (0, 1)]
    terms = {t: [float(vec.idf_[j]), *(float(f.coef_[0][j]) for f in fits)] for t, j in vec.vocabulary_.items()}
    path.write_text(json.dumps({"terms": terms, "intercepts": [float(f.intercept_[0]) for f in fits]}))
    return vec, fits


def test_domain_logits_match_scikit_learn(tmp_path: Path) -> None:
    vec, fits = write_domain(tmp_path / DOMAIN_FILE)
    probe = ["the virus today", "Says the governor voted", "nothing known", ""]
    mine = domain_logits(load_domain_tfidf(tmp_path / DOMAIN_FILE), probe)
    x = vec.transform(probe)  # type: ignore[attr-defined]
    expected = np.stack([f.decision_function(x) for f in fits], axis=1)
    assert mine is not None and np.allclose(mine, expected, atol=1e-5)


def test_gate_inputs_append_domain_logits_after_the_flag() -> None:
    emb = np.ones((2, 4), np.float32)
    plain = gate_inputs(emb, ["covid jab", "park"])
    both = gate_inputs(emb, ["covid jab", "park"], np.array([[1.5, -2.0], [0.0, 3.0]]))
    assert plain.shape == (2, 5) and both.shape == (2, 7)
    assert np.array_equal(both[:, :5], plain) and both[1, 6] == pytest.approx(3.0) and plain[0, 4] > 0


def test_config_with_domain_gate_loads_and_changes_the_gate(tiny_models_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "textcls"
    shutil.copytree(tiny_models_dir / "textcls", folder)
    config = json.loads((folder / "config.json").read_text())
    gate = config["misinfo"]["gate"]
    coef = np.asarray(gate["coef"])
    # embedding and flag weights zeroed: only the domain logits move the gate
    gate["coef"] = np.hstack([np.zeros_like(coef), [[4.0, 0.0], [0.0, 4.0], [0.0, 0.0]]]).tolist()
    gate["domain_tfidf"] = True
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelMissing, match=DOMAIN_FILE):
        MisinfoModel.load(folder)
    write_domain(folder / DOMAIN_FILE)
    model = MisinfoModel.load(folder)
    assert len(model.domain_tfidf) == 2
    emb = np.random.default_rng(1).normal(size=(2, coef.shape[1] - 1)).astype(np.float32)
    texts = ["5G spreads the virus", "Says the senator voted against veterans"]
    ev = model.evidence(np.zeros((2, 2), np.float32), texts, emb)
    assert ev.gate.shape == (2, 3) and np.allclose(ev.gate.sum(axis=1), 1.0)
    assert ev.gate[0, 0] > ev.gate[1, 0] and ev.gate[1, 1] > ev.gate[0, 1]

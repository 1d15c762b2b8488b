"""Fit the misinformation evidence across domains: a gate and a political-claims expert beside the COVID-19 one.

score = g_covid * p_covid + g_claims * p_claims + g_ordinary * q, where

- g: a 3-way logistic regression on the shared encoder's embedding (already computed for every post) and a
  COVID-19 vocabulary flag (classifiers/misinfo.gate_inputs): is this a
  COVID-19 health post (CONSTRAINT train), a checkable political statement (LIAR train), or an ordinary tweet
  (TweetEval train, all six tasks)? Classes weighted equally. With ``--domain-tfidf`` the gate also takes two
  domain TF-IDF logits (word 1-2-grams, COVID-19 post vs rest and statement vs rest, C fixed at 10), fitted in the
  same folds, the gate on their out-of-fold logits, the shipped ones on every row (domain_tfidf.json, version
  2026.12.2). Measured, not shipped: CONSTRAINT CV 0.958 -> 0.967, val 0.950 -> 0.957, but it reads a road-closure
  complaint as a COVID-19 post ("has been", "road", "street" are CONSTRAINT news register) and flags it (the
  model card has the figures).
- p_covid: the text classifier's misinformation head stacked with the COVID-19 TF-IDF model (unchanged,
  fitted in calibrate_misinfo.py).
- p_claims: a word 1-2-gram TF-IDF logistic regression on LIAR train (false / pants-fire vs true / mostly-true),
  Platt-scaled on out-of-fold scores to P(rated false or pants-fire) over all six LIAR ratings (half-true and
  barely-true count as not false), so a political statement rarely reaches the 0.5 flag on wording alone.
- q: the score of an ordinary post ("no evidence"): the best CONSTRAINT weighted F1, then LIAR AUC, among the
  values that flag at most 5 % of every TweetEval task's ordinary tweets.

Every choice (the two regularisation strengths, q) is made by 5-fold cross-validation inside train; val is not
read. Rows the text classifier was trained on are left out of the figures that use its head (only the 10 % of
CONSTRAINT train held out from fine-tuning, and TweetEval rows it did not see as "not misinformation", count).

    python training/features.py && python training/fit_misinfo.py [--domain-tfidf]
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import numpy as np
from _common import MODELS, read
from features import SETS, TWEETEVAL, load
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from train_textcls import OOD_NEGATIVES, SEED, STAGE2_SENTIMENT, misinfo_split

from classifiers.misinfo import DOMAIN_FILE, covid_probability, gate_inputs
from classifiers.text import normalize

FOLDS = 5
COVID, CLAIMS, ORDINARY = 0, 1, 2
FALSE = ("false", "pants-fire")
TRUE = ("true", "mostly-true")
GATE_C = (1.0, 3.0, 10.0)
DOMAIN_C = 10.0  # the domain TF-IDF models' strength: fixed as for the COVID-19 TF-IDF model, not tuned
CLAIMS_C = (0.3, 1.0, 3.0)
PRIORS = (0.02, 0.05, 0.1, 0.25)
MAX_FLAGGED = 0.05
VERSION = "2026.12.4"  # the text classifier's version; sentiment_rule.py (run after this) sets the sentiment rule
DOMAIN_VERSION = "2026.12.2"  # with --domain-tfidf (measured, not shipped: see the model card)


@dataclass
class Rows:
    """Featurised train rows of every data set, one array per field."""

    source: np.ndarray  # data set name
    domain: np.ndarray  # COVID / CLAIMS / ORDINARY
    text: list[str]
    embedding: np.ndarray  # the gate's input: embedding and COVID-19 vocabulary flag
    covid: np.ndarray  # p_covid (in-domain probability of the shipped COVID-19 model)
    target: np.ndarray  # 1 = misinformation / rated false, 0 = not, -1 = LIAR half-true / barely-true
    clean: np.ndarray  # p_covid not fitted on this row


def seen_by_textcls() -> dict[str, set[int]]:
    """TweetEval rows the text classifier saw as "not misinformation" (train_textcls.training_rows, both stages)."""
    seen: dict[str, set[int]] = {name: set() for name in OOD_NEGATIVES}
    for stage in (1, 2):
        rng = np.random.default_rng(SEED + stage - 1)
        if stage == 2:
            rng.choice(len(read("tweeteval_sentiment", "train")), STAGE2_SENTIMENT, replace=False)
        for name, count in OOD_NEGATIVES.items():
            seen[name] |= set(rng.choice(len(read(name, "train")), size=count, replace=False).tolist())
    return seen


def load_rows(stack: tuple[float, float, float]) -> Rows:
    seen, held = seen_by_textcls(), set(misinfo_split()[1].tolist())
    parts = []
    for name in SETS:
        f, frame = load(name, "train"), read(name, "train")
        rows = f["rows"]
        labels = frame["label"].astype(str).to_numpy()[rows]
        if name == "liar":
            domain, target = CLAIMS, np.where(np.isin(labels, FALSE), 1, np.where(np.isin(labels, TRUE), 0, -1))
            clean = np.ones(len(rows), bool)
        elif name.startswith("constraint"):
            domain, target, clean = COVID, (labels == "fake").astype(int), np.isin(rows, list(held))
        else:
            domain, target = ORDINARY, np.zeros(len(rows), int)
            clean = ~np.isin(rows, list(seen.get(name, set())))
        covid = covid_probability(stack, f["misinfo_logits"], f["covid_tfidf"])
        texts = list(frame["text"].iloc[rows])
        parts.append((np.full(len(rows), name), np.full(len(rows), domain), texts,
                      gate_inputs(f["embedding"], [normalize(t) for t in texts]), covid, target, clean))
    cols = list(zip(*parts, strict=True))
    texts = [t for part in cols[2] for t in part]
    return Rows(np.concatenate(cols[0]), np.concatenate(cols[1]), texts, *map(np.concatenate, cols[3:]))


def fit_domain(texts: list[str], domain: np.ndarray) -> tuple[TfidfVectorizer, list[LogisticRegression]]:
    """Word 1-2-gram TF-IDF logistic regressions on the classifier's input text: COVID-19 post vs rest, political
    statement vs rest (the gate's domain-vocabulary inputs)."""
    vec = claims_vectorizer()
    x = vec.fit_transform(texts)
    return vec, [LogisticRegression(C=DOMAIN_C, max_iter=3000).fit(x, domain == d) for d in (COVID, CLAIMS)]


def domain_oof(rows: Rows) -> np.ndarray:
    """Out-of-fold domain logits for every row (the gate is fitted on these, as the shipped models are applied
    to posts they never saw)."""
    texts, out = [normalize(t) for t in rows.text], np.zeros((len(rows.text), 2))
    for train, test in folds(rows):
        vec, fits = fit_domain([texts[i] for i in train], rows.domain[train])
        x = vec.transform([texts[i] for i in test])
        out[test] = np.stack([f.decision_function(x) for f in fits], axis=1)
    return out


def fit_gate(emb: np.ndarray, domain: np.ndarray, c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(emb, domain)


def claims_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)


def fit_claims(texts: list[str], labels: np.ndarray, c: float):  # type: ignore[no-untyped-def]
    """TF-IDF logistic regression on LIAR statements rated false / pants-fire (1) vs true / mostly-true (0)."""
    binary = np.isin(labels, FALSE + TRUE)
    vec = claims_vectorizer()
    x = vec.fit_transform([normalize(t) for t, b in zip(texts, binary, strict=True) if b])
    fit = LogisticRegression(C=c, max_iter=3000).fit(x, np.isin(labels[binary], FALSE))
    return lambda ts: fit.decision_function(vec.transform([normalize(t) for t in ts])), (vec, fit)


def claims_oof(c: float) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold raw scores of the claims expert for every LIAR train statement, and the labels."""
    frame = read("liar", "train")
    texts, labels = list(frame["text"]), frame["label"].to_numpy()
    raw = np.zeros(len(texts))
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(texts, labels):
        score, _ = fit_claims([texts[i] for i in train], labels[train], c)
        raw[test] = score([texts[i] for i in test])
    return raw, labels


def binary_auc(raw: np.ndarray, labels: np.ndarray) -> float:
    keep = np.isin(labels, FALSE + TRUE)
    return float(roc_auc_score(np.isin(labels[keep], FALSE), raw[keep]))


def platt(raw: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    fit = LogisticRegression(C=1e4).fit(raw.reshape(-1, 1), np.isin(labels, FALSE))
    return float(fit.coef_[0][0]), float(fit.intercept_[0])


def main() -> None:
    config = json.loads((MODELS / "textcls" / "config.json").read_text())
    stack = config["misinfo"]["stack"]
    rows = load_rows((stack["margin"], stack["tfidf"], stack["bias"]))
    # claims expert: C by out-of-fold AUC over all LIAR train statements
    oof = {c: claims_oof(c) for c in CLAIMS_C}
    aucs = {c: binary_auc(*oof[c]) for c in CLAIMS_C}
    claims_c = max(aucs, key=aucs.get)
    log({"claims_expert_oof_auc": aucs, "chosen_C": claims_c})
    raw, labels = oof[claims_c]
    slope, intercept = platt(raw, labels)
    frame = read("liar", "train")
    liar_rows = load("liar", "train")["rows"]
    p_claims_liar = 1 / (1 + np.exp(-(slope * raw[liar_rows] + intercept)))
    score_all, state = fit_claims(list(frame["text"]), frame["label"].to_numpy(), claims_c)
    raw_rows = score_all(rows.text)
    raw_rows[rows.source == "liar"] = raw[liar_rows]  # LIAR rows: out-of-fold
    p_claims = 1 / (1 + np.exp(-(slope * raw_rows + intercept)))
    p_claims[rows.source == "liar"] = p_claims_liar
    domain = "--domain-tfidf" in sys.argv[1:]
    if domain:
        rows.embedding = np.hstack([rows.embedding, domain_oof(rows)])
    gate_c, gates = choose_gate(rows)
    cv = choose_prior(rows, gates, p_claims)
    save(rows, gate_c, cv, state, (slope, intercept), domain)


def choose_gate(rows: Rows) -> tuple[float, np.ndarray]:
    """Out-of-fold gate probabilities for every row, with C chosen by out-of-fold log-loss."""
    best: tuple[float, float, np.ndarray] | None = None
    for c in GATE_C:
        probs = np.zeros((len(rows.domain), 3))
        for train, test in folds(rows):
            probs[test] = fit_gate(rows.embedding[train], rows.domain[train], c).predict_proba(rows.embedding[test])
        loss = log_loss(rows.domain, probs)
        accuracy = float((probs.argmax(1) == rows.domain).mean())
        log({"gate_C": c, "oof_log_loss": round(loss, 4), "oof_accuracy": accuracy})
        if best is None or loss < best[1]:
            best = (c, loss, probs)
    assert best is not None
    return best[0], best[2]


def folds(rows: Rows):  # type: ignore[no-untyped-def]
    return StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(rows.embedding, rows.source)


def metrics(rows: Rows, score: np.ndarray, fold_ids: np.ndarray) -> dict[str, object]:
    """Per fold: CONSTRAINT held-out weighted F1 at 0.5, LIAR AUC, ordinary flag rate per TweetEval task."""
    per_fold = []
    for k in range(FOLDS):
        m = fold_ids == k
        covid = m & (rows.domain == COVID) & rows.clean
        liar = m & (rows.domain == CLAIMS) & (rows.target >= 0)
        out = {"constraint_wf1": f1_score(rows.target[covid], score[covid] >= 0.5, average="weighted"),
               "liar_auc": roc_auc_score(rows.target[liar], score[liar])}
        for task in TWEETEVAL:
            t = m & (rows.source == f"tweeteval_{task}") & rows.clean
            out[f"flagged_{task}"] = float((score[t] >= 0.5).mean())
        per_fold.append(out)
    return {k: (float(np.mean([f[k] for f in per_fold])), float(np.std([f[k] for f in per_fold])))
            for k in per_fold[0]}


def choose_prior(rows: Rows, gates: np.ndarray, p_claims: np.ndarray) -> dict:
    fold_ids = np.zeros(len(rows.domain), int)
    for k, (_, test) in enumerate(folds(rows)):
        fold_ids[test] = k
    results = {}
    for q in PRIORS:
        score = gates[:, COVID] * rows.covid + gates[:, CLAIMS] * p_claims + gates[:, ORDINARY] * q
        results[q] = metrics(rows, score, fold_ids) | {"check_set": check_set(rows, score)}
        log({"q": q, **results[q]})
    ok = [q for q in PRIORS if max(v[0] for k, v in results[q].items() if k.startswith("flagged")) <= MAX_FLAGGED]
    q = max(ok or PRIORS[:1], key=lambda p: (round(results[p]["constraint_wf1"][0], 3), results[p]["liar_auc"][0]))
    return {"q": q, **results[q]}


def check_set(rows: Rows, score: np.ndarray) -> dict[str, object]:
    """Ordinary posts that must not be flagged, from TweetEval train: questions, opinions (stance for / against a
    target), complaints (negative sentiment, anger), offensive and hateful posts. Out-of-fold scores."""
    frames = {t: read(f"tweeteval_{t}", "train") for t in TWEETEVAL}
    kinds: dict[str, np.ndarray] = {"question": np.array(["?" in t for t in rows.text])}
    label = np.full(len(rows.text), "", dtype=object)
    for t in TWEETEVAL:
        m = rows.source == f"tweeteval_{t}"
        label[m] = frames[t]["label_name"].astype(str).to_numpy()[load(f"tweeteval_{t}", "train")["rows"]]
    kinds["opinion"] = (rows.source == "tweeteval_stance") & np.isin(label, ["against", "favor"])
    kinds["complaint"] = np.isin(label, ["negative", "anger"]) & np.isin(rows.source, ["tweeteval_sentiment",
                                                                                         "tweeteval_emotion"])
    kinds["offensive_or_hateful"] = np.isin(label, ["offensive", "hate"])
    base = (rows.domain == ORDINARY) & rows.clean
    out = {k: (int((m & base).sum()), float((score[m & base] >= 0.5).mean())) for k, m in kinds.items()}
    any_kind = base & np.any(list(kinds.values()), axis=0)
    return out | {"all": (int(any_kind.sum()), float((score[any_kind] >= 0.5).mean()))}


def save(rows: Rows, gate_c: float, cv: dict, state, scale, domain: bool) -> None:  # type: ignore[no-untyped-def]
    gate = fit_gate(rows.embedding, rows.domain, gate_c)
    vec, fit = state
    terms = {t: [round(float(vec.idf_[j]), 6), round(float(fit.coef_[0][j]), 6)] for t, j in vec.vocabulary_.items()}
    folder = MODELS / "textcls"
    data = {"terms": terms, "intercept": float(fit.intercept_[0])}
    (folder / "claims_tfidf.json").write_text(json.dumps(data) + "\n")
    if domain:
        save_domain(rows, folder)
    config = json.loads((folder / "config.json").read_text())
    config["version"] = DOMAIN_VERSION if domain else VERSION
    config["misinfo"] = {
        "stack": config["misinfo"]["stack"],
        "gate": {"classes": ["covid", "claims", "ordinary"], "coef": gate.coef_.round(6).tolist(),
                 "intercept": gate.intercept_.round(6).tolist(), "C": gate_c}
        | ({"domain_tfidf": True, "inputs": "embedding, COVID-19 term flag, domain TF-IDF logits (covid, claims)"}
           if domain else {}),
        "claims": {"slope": scale[0], "intercept": scale[1]},
        "ordinary_prior": cv["q"],
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    log({"cv": cv})


def save_domain(rows: Rows, folder) -> None:  # type: ignore[no-untyped-def]
    """The domain TF-IDF models fitted on every row, in classifiers.misinfo.load_domain_tfidf's format."""
    vec, fits = fit_domain([normalize(t) for t in rows.text], rows.domain)
    terms = {t: [round(float(vec.idf_[j]), 6), *(round(float(f.coef_[0][j]), 6) for f in fits)]
             for t, j in vec.vocabulary_.items()}
    data = {"terms": terms, "intercepts": [float(f.intercept_[0]) for f in fits]}
    (folder / DOMAIN_FILE).write_text(json.dumps(data) + "\n")


def log(value: dict) -> None:
    print(json.dumps(value, default=str), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

"""Package the text classifier (after train_textcls.py) and fit its calibration; no val data is used.

- sentiment: the training label prior (for the macro-recall decision rule, see classifiers/sentiment.py);
- misinformation: a TF-IDF logistic regression (word 1-2-grams, C=10) on the same 90 % of CONSTRAINT train the
  network saw, then a logistic regression stacking the head's margin and the TF-IDF logit, fitted on the 10 %
  held out from both.

The gate that weighs this COVID-19 evidence against the political-claims model and ordinary posts is fitted
afterwards by ``features.py`` and ``fit_misinfo.py`` (it replaced the k-means domain shrinkage of 2026.11.1).

    python training/calibrate_misinfo.py
"""

from __future__ import annotations

import json

import numpy as np
from _common import MODELS, read, write_package
from sklearn.linear_model import LogisticRegression
from train_textcls import CKPT, MAX_LEN, SEED, misinfo_split

from classifiers.runtime import OnnxModel
from classifiers.sentiment import LABELS
from classifiers.text import normalize
from classifiers.tfidf import TfidfLogit

NAME = "civicradar-textcls-minilm"
VERSION = "2026.11.1"  # fit_misinfo.py sets the version it ships


def sentiment_config() -> dict:
    counts = read("tweeteval_sentiment", "train")["label"].value_counts().sort_index().to_numpy()
    return {"labels": list(LABELS), "log_prior": np.log(counts / counts.sum()).round(5).tolist(), "prior_weight": 1.0}


def fit_tfidf(folder) -> TfidfLogit:  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer

    frame = read("constraint_covid19_fakenews", "train").iloc[misinfo_split()[0]]
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    matrix = vec.fit_transform([normalize(t) for t in frame["text"]])
    fit = LogisticRegression(C=10.0, max_iter=3000).fit(matrix, (frame["label"] == "fake").to_numpy())
    terms = {t: [round(float(vec.idf_[j]), 6), round(float(fit.coef_[0][j]), 6)] for t, j in vec.vocabulary_.items()}
    (folder / "tfidf.json").write_text(json.dumps({"terms": terms, "intercept": float(fit.intercept_[0])}) + "\n")
    return TfidfLogit.load(folder / "tfidf.json")


def stack(model: OnnxModel, tfidf: TfidfLogit) -> dict[str, float]:
    frame = read("constraint_covid19_fakenews", "train").iloc[misinfo_split()[1]]
    texts = [normalize(t) for t in frame["text"]]
    logits = model(texts)["misinfo_logits"]
    features = np.stack([logits[:, 1] - logits[:, 0], tfidf(texts)], axis=1)
    fit = LogisticRegression(C=1.0).fit(features, (frame["label"] == "fake").to_numpy())
    return {"margin": float(fit.coef_[0][0]), "tfidf": float(fit.coef_[0][1]), "bias": float(fit.intercept_[0])}


def main() -> None:
    folder = MODELS / "textcls"
    config = {"name": NAME, "version": VERSION, "max_length": MAX_LEN, "seed": SEED,
              "outputs": ["sentiment_logits", "misinfo_logits"], "sentiment": sentiment_config()}
    write_package(folder, CKPT / "textcls_int8.onnx", config)
    config["misinfo"] = {"stack": stack(OnnxModel(folder, ""), fit_tfidf(folder))}
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(json.dumps(config["misinfo"]))


if __name__ == "__main__":
    main()

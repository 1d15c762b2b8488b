"""Package the text classifier (after train_textcls.py) and fit its calibration; no val data is used.

- sentiment: the training label prior (for the macro-recall decision rule, see classifiers/sentiment.py);
- misinformation: a TF-IDF logistic regression (word 1-2-grams, C=10) on the same 90 % of CONSTRAINT train the
  network saw, then a logistic regression stacking the head's margin and the TF-IDF logit, fitted on the 10 %
  held out from both;
- domain: 32 k-means centres of the CONSTRAINT training posts' embeddings; the shrinkage starts below the
  2nd percentile of held-out CONSTRAINT posts' similarity (``hi``) and is complete at the median similarity
  of ordinary tweets and LIAR political statements (``lo``), from their train splits. (A first version used the
  10th percentile; on CONSTRAINT val it shrank 17 % of the fake posts, so it was lowered.)

    python training/calibrate_misinfo.py
"""

from __future__ import annotations

import json

import numpy as np
from _common import MODELS, read, write_package
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from train_textcls import CKPT, MAX_LEN, SEED, misinfo_split

from classifiers.runtime import OnnxModel
from classifiers.sentiment import LABELS
from classifiers.text import normalize, retrieval_text
from classifiers.tfidf import TfidfLogit

NAME = "civicradar-textcls-minilm"
VERSION = "2026.11.1"
PRIOR = 0.25  # out-of-domain score: below the 0.5 flag, "no evidence either way"
CENTROIDS = 32


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


def embed(encoder: OnnxModel, texts: list[str]) -> np.ndarray:
    return encoder([retrieval_text(t) for t in texts])["embedding"]


def domain(encoder: OnnxModel) -> tuple[np.ndarray, dict]:
    fit_rows, held_rows = misinfo_split()
    cons = read("constraint_covid19_fakenews", "train")
    km = KMeans(CENTROIDS, random_state=SEED, n_init=4).fit(embed(encoder, list(cons["text"].iloc[fit_rows])))
    centroids = km.cluster_centers_ / np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True)
    held = (embed(encoder, list(cons["text"].iloc[held_rows])) @ centroids.T).max(1)
    rng = np.random.default_rng(SEED)
    ood_texts = [*rng.choice(read("tweeteval_sentiment", "train")["text"], 1500, replace=False),
                 *rng.choice(read("liar", "train")["text"], 1500, replace=False)]
    ood = (embed(encoder, ood_texts) @ centroids.T).max(1)
    hi, lo = float(np.percentile(held, 2)), float(np.percentile(ood, 50))
    lo = min(lo, hi - 0.05)
    return centroids.astype(np.float32), {"lo": round(lo, 4), "hi": round(hi, 4), "prior": PRIOR}


def main() -> None:
    folder = MODELS / "textcls"
    config = {"name": NAME, "version": VERSION, "max_length": MAX_LEN, "seed": SEED,
              "outputs": ["sentiment_logits", "misinfo_logits"], "sentiment": sentiment_config()}
    write_package(folder, CKPT / "textcls_int8.onnx", config)
    encoder = OnnxModel(MODELS / "encoder", "python training/export_encoder.py")
    centroids, bounds = domain(encoder)
    (folder / "domain.json").write_text(json.dumps({"centroids": centroids.round(5).tolist()}) + "\n")
    config["misinfo"] = {"stack": stack(OnnxModel(folder, ""), fit_tfidf(folder)), "domain": bounds}
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(json.dumps(config["misinfo"]))


if __name__ == "__main__":
    main()

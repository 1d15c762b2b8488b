"""Fit the topic score curve (classifiers/topics.py CENTER and SCALE) on TweetEval stance TRAIN.

The five stance targets serve as topics, each described in one sentence (classifiers/evaluate.py STANCE_TOPICS).
A logistic regression of "this topic is the post's target" on the cosine similarity gives the slope. The centre is
where ordinary chatter stops: the 75th percentile of the best-topic similarity of TweetEval sentiment *train*
tweets (off-topic for these targets), so that about a quarter of unrelated posts get a topic, not more; the
printed macro-F1 curve on stance train shows what that costs. val is not used.

    python training/fit_topics.py     # prints the two constants to copy into classifiers/topics.py
"""

from __future__ import annotations

import numpy as np
from _common import MODELS, read
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from classifiers.evaluate import STANCE_TOPICS
from classifiers.runtime import OnnxModel
from classifiers.text import retrieval_text
from classifiers.topics import MARGIN, TopicScorer


def main() -> None:
    encoder = OnnxModel(MODELS / "encoder", "python training/export_encoder.py")
    frame = read("tweeteval_stance", "train")
    emb = encoder([retrieval_text(t) for t in frame["text"]])["embedding"]
    sims = TopicScorer(STANCE_TOPICS, encoder).similarity(emb)
    names = [t.name for t in STANCE_TOPICS]
    truth = np.array([[g == n for n in names] for g in frame["target"]])
    fit = LogisticRegression(C=1.0).fit(sims.reshape(-1, 1), truth.ravel())
    chatter = read("tweeteval_sentiment", "train")["text"].sample(2000, random_state=0)
    off = TopicScorer(STANCE_TOPICS, encoder).similarity(encoder([retrieval_text(t) for t in chatter])["embedding"])
    center = float(np.percentile(off.max(axis=1), 75))
    for c in (0.05, 0.1, center, 0.15, 0.2, 0.25):
        pred = (sims >= c) & (sims >= sims.max(axis=1, keepdims=True) - MARGIN)
        print(f"centre {c:.3f}: stance train macro-F1 {macro_f1(truth, pred):.4f}")
    print(f"CENTER = {center:.2f}  SCALE = {1 / fit.coef_[0][0]:.2f}")


def macro_f1(truth: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean([f1_score(truth[:, k], pred[:, k], zero_division=0) for k in range(truth.shape[1])]))


if __name__ == "__main__":
    main()

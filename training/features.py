"""Frozen features of the shipped models for train rows, cached for the cheap heads fitted on them.

Per row: the shared encoder's embedding (exactly as the Labeller computes it, on ``retrieval_text``), the text
classifier's two heads (on ``normalize``) and the COVID-19 TF-IDF logit. Written to
``$CIVICRADAR_SCRATCH/features/<dataset>.<split>.npz``; a file already there is reused.

    python training/features.py            # ~20k rows; ~3 min on 2 idle cores
"""

from __future__ import annotations

import sys

import numpy as np
from _common import DATA, MODELS, SCRATCH, read

from classifiers.runtime import OnnxModel
from classifiers.text import normalize, retrieval_text
from classifiers.tfidf import TfidfLogit

FEATURES = SCRATCH / "features"
TWEETEVAL = ("sentiment", "emotion", "hate", "offensive", "irony", "stance")
SETS = ["constraint_covid19_fakenews", "liar", *(f"tweeteval_{t}" for t in TWEETEVAL)]
# Rows per TweetEval / LIAR train split (seeded samples; enough for the misinformation gate and the check set of
# ordinary posts on a shared 2-core machine). Val splits are not featurised: their figures come from
# `civicradar evaluate` through the real labelling path.
SAMPLE = {"tweeteval_sentiment": 3000, "liar": 4000}
TWEET_SAMPLE = 1500
SEED = 29
CHUNK = 2000


class Featurizer:
    def __init__(self) -> None:
        self.encoder = OnnxModel(MODELS / "encoder", "python training/export_encoder.py")
        self.textcls = OnnxModel(MODELS / "textcls", "")
        self.tfidf = TfidfLogit.load(MODELS / "textcls" / "tfidf.json")

    def __call__(self, texts: list[str]) -> dict[str, np.ndarray]:
        parts = [self.chunk(texts[i : i + CHUNK]) for i in range(0, len(texts), CHUNK)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def chunk(self, texts: list[str]) -> dict[str, np.ndarray]:
        print(f"  {len(texts)} rows", file=sys.stderr, flush=True)
        cls_text = [normalize(t) for t in texts]
        out = self.textcls(cls_text, 32)
        return {
            "embedding": self.encoder([retrieval_text(t) for t in texts], 32)["embedding"],
            "sentiment_logits": out["sentiment_logits"],
            "misinfo_logits": out["misinfo_logits"],
            "covid_tfidf": self.tfidf(cls_text),
        }


def path(name: str, split: str):  # type: ignore[no-untyped-def]
    return FEATURES / f"{name}.{split}.npz"


def load(name: str, split: str) -> dict[str, np.ndarray]:
    with np.load(path(name, split)) as data:
        return dict(data)


def sample_rows(name: str, split: str) -> np.ndarray:
    """All rows, or a seeded sample (sorted) of a TweetEval / LIAR split."""
    n = len(read(name, split))
    size = SAMPLE.get(name, TWEET_SAMPLE if name.startswith("tweeteval") else n)
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(SEED).choice(n, size, replace=False))


def main() -> None:
    FEATURES.mkdir(parents=True, exist_ok=True)
    featurize = Featurizer()
    for name in SETS:
        for split in ("train",):
            if path(name, split).exists() or not (DATA / name / f"{split}.csv").exists():
                continue
            rows = sample_rows(name, split)
            texts = list(read(name, split)["text"].iloc[rows])
            np.savez(path(name, split), rows=rows, **featurize(texts))
            print(f"{name}.{split}: {len(texts)} rows", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

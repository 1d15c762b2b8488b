"""A TF-IDF logistic regression evaluated without scikit-learn (weights exported by calibrate_misinfo.py).

Replicates ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)`` (lower-cased ``\\b\\w\\w+\\b`` tokens, l2 norm)
followed by ``LogisticRegression.decision_function``.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")


class TfidfLogit:
    def __init__(self, terms: dict[str, tuple[float, float]], intercept: float) -> None:
        self.terms = terms  # term -> (idf, coefficient)
        self.intercept = intercept

    @classmethod
    def load(cls, path: Path) -> TfidfLogit:
        data = json.loads(path.read_text())
        return cls({t: (float(v[0]), float(v[1])) for t, v in data["terms"].items()}, float(data["intercept"]))

    def logit(self, text: str) -> float:
        tokens = TOKEN.findall(text.lower())
        grams = Counter(g for g in [*tokens, *map(" ".join, pairwise(tokens))] if g in self.terms)
        if not grams:
            return self.intercept
        weights = {g: (1.0 + math.log(n)) * self.terms[g][0] for g, n in grams.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return self.intercept + sum(w * self.terms[g][1] for g, w in weights.items()) / norm

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self.logit(t) for t in texts], dtype=np.float32)

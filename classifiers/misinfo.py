"""Likely-misinformation score: the text classifier's second head stacked with a TF-IDF model, then shrunk
out of its domain.

Both were trained on CONSTRAINT COVID-19 posts; a logistic regression on the 10 % of CONSTRAINT train held out
from fine-tuning combines them into a calibrated probability. Far from that domain it says little, so the score is
pulled towards ``prior`` (below 0.5: "no evidence") as the post's similarity to the training posts drops:
``score = w * p + (1 - w) * prior``, ``w`` rising from 0 at similarity ``lo`` to 1 at ``hi`` (fitted in
training/calibrate_misinfo.py on held-out CONSTRAINT train posts and ordinary tweets / LIAR train statements).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FLAG = 0.5


@dataclass(frozen=True)
class MisinfoCalibration:
    stack: tuple[float, float, float]  # weights of the head's margin and the TF-IDF logit, intercept
    centroids: np.ndarray  # (k, 384) L2-normalised centres of the training posts' embeddings
    lo: float
    hi: float
    prior: float

    @classmethod
    def from_config(cls, config: dict[str, Any], centroids: np.ndarray) -> MisinfoCalibration:
        stack, domain = config["stack"], config["domain"]
        return cls((stack["margin"], stack["tfidf"], stack["bias"]), centroids, domain["lo"], domain["hi"],
                   domain["prior"])

    def domain_similarity(self, embeddings: np.ndarray) -> np.ndarray:
        return (embeddings @ self.centroids.T).max(axis=1)

    def weight(self, embeddings: np.ndarray) -> np.ndarray:
        return np.clip((self.domain_similarity(embeddings) - self.lo) / (self.hi - self.lo), 0.0, 1.0)

    def in_domain(self, logits: np.ndarray, tfidf: np.ndarray) -> np.ndarray:
        """Calibrated P(misinformation) as if the post were a COVID-19 post (logistic stacking)."""
        margin = logits[:, 1] - logits[:, 0]
        return 1.0 / (1.0 + np.exp(-(self.stack[0] * margin + self.stack[1] * tfidf + self.stack[2])))

    def scores(
        self, logits: np.ndarray, tfidf: np.ndarray, embeddings: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(final score, in-domain probability, domain weight) per row."""
        p, w = self.in_domain(logits, tfidf), self.weight(embeddings)
        return w * p + (1.0 - w) * self.prior, p, w


def reason(score: float | None, p: float, w: float, claim: str | None, claim_score: float | None) -> str | None:
    """One line for a flagged post (classifier score or claim match >= 0.5); None when nothing is flagged."""
    parts = []
    if claim is not None and claim_score is not None and claim_score >= FLAG:
        parts.append(f"matched claim {claim} (score {claim_score:.2f})")
    if score is not None and (score >= FLAG or parts):
        note = "" if w >= 0.999 else f", shrunk from {p:.2f} as the post is {1 - w:.0%} outside the COVID-19 domain"
        parts.append(f"classifier score {score:.2f}{note}")
    return "; ".join(parts) or None

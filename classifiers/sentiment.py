"""Sentiment from the text classifier's first head.

Decision rule: argmax of logits minus ``prior_weight`` x log training prior (config.json). A weight of 1 is the
textbook rule for macro-averaged recall (the TweetEval metric); it predicts the rare negative class ~1.7 times as
often as it occurs, so the shares the dashboard reads would be wrong. The shipped weight (0.1 since textcls
2026.12.3) is chosen by training/sentiment_rule.py: the best cross-validated macro-recall whose negative share
stays within 2 points of the truth across topics. The reported score is the probability of the chosen label after
that adjustment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

LABELS = ("negative", "neutral", "positive")


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def head_logits(logits: np.ndarray, embeddings: np.ndarray, head: dict[str, Any]) -> np.ndarray:
    """A head refitted on staff corrections (``civicradar train --from-feedback``): a linear layer over the text
    classifier's logits and the shared embedding."""
    coef, intercept = np.asarray(head["coef"], np.float32), np.asarray(head["intercept"], np.float32)
    return np.hstack([logits, embeddings]) @ coef.T + intercept


def sentiment_labels(logits: np.ndarray, config: dict[str, Any], embeddings: np.ndarray | None = None
                     ) -> list[tuple[str, float]]:
    """(label, score) per row. With a refitted ``head`` in the config, its logits replace the classifier's."""
    if config.get("head") and embeddings is not None:
        logits = head_logits(logits, embeddings, config["head"])
    labels: Sequence[str] = config.get("labels", LABELS)
    log_prior = np.asarray(config.get("log_prior", np.zeros(len(labels))), dtype=np.float32)
    probs = softmax(logits - float(config.get("prior_weight", 1.0)) * log_prior)
    best = probs.argmax(axis=-1)
    return [(labels[k], round(float(probs[i, k]), 4)) for i, k in enumerate(best)]

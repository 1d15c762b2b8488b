"""Offline, CPU text labels for posts: language, sentiment, topics, misinformation evidence.

    labeller = Labeller(topics=[Topic("roads", "Potholes, road works and closures")], claims=[...])
    labels = labeller.label(["The bridge on 5th street is closed again"])
    labeller.models   # {"sentiment": "civicradar-textcls-minilm@2026.11.1", ...}: store with the labels

Models are read from local folders only (``classifiers/models`` by default); a missing file raises
:class:`ModelMissing` naming the command that rebuilds it. Nothing is ever downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import ClassifierError, ModelMissing


@dataclass(frozen=True)
class Topic:
    """An agency topic, matched zero-shot by embedding similarity (description, examples) plus keywords."""

    name: str
    description: str
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Claim:
    """A fact-checked claim or an entry of the agency's rumour register."""

    claim_id: str
    text: str
    rating: str | None = None
    url: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Labels:
    """Every label of one text. None means "unscored" (unsupported language, empty text), never a guess."""

    lang: str | None
    sentiment: str | None
    sentiment_score: float | None
    topics: dict[str, float]
    misinfo_score: float | None
    matched_claim_id: str | None
    matched_claim_score: float | None
    misinfo_reason: str | None
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)


from .labeller import Labeller  # noqa: E402  (needs the records above)

__all__ = ["Claim", "ClassifierError", "Labeller", "Labels", "ModelMissing", "Topic"]

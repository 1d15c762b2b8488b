"""Likely-misinformation score: evidence from two domains, weighted by what kind of post this is, and claim matches.

    score = g_covid * p_covid + g_claims * p_claims + g_ordinary * q        (the text evidence)
    final = 1 - (1 - score) * (1 - m)                                     (m: match probability of a false claim)

- ``g``: a 3-way logistic regression on the shared sentence embedding (computed for every post anyway), a
  COVID-19 vocabulary flag and two domain TF-IDF logits (COVID-19 post vs rest, political statement vs rest):
  COVID-19 health post, checkable political statement, or ordinary post (opinion, question, complaint, chatter).
- ``p_covid``: the text classifier's misinformation head stacked with a TF-IDF model (CONSTRAINT COVID-19).
- ``p_claims``: a TF-IDF model of statements PolitiFact rated false / pants-fire (LIAR), calibrated to the
  probability of such a rating; wording alone rarely reaches 0.5 there.
- ``q``: an ordinary post's score: no evidence.
- ``m``: the claim matcher's probability when the matched claim is not rated true (a rumour-register entry or a
  fact-check rated false, misleading, unrated, ...).

Fitted in training/fit_misinfo.py (gate, claims model, q; by cross-validation inside train) and
training/calibrate_misinfo.py (the COVID-19 stack). The reason line names the evidence that drove the score.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelMissing
from .tfidf import TfidfLogit

FLAG = 0.5
DOMAIN_FILE = "domain_tfidf.json"
FIT = "python training/features.py && python training/fit_misinfo.py"
DOMAINS = ("covid", "claims", "ordinary")
# A matched claim with one of these ratings is a true claim: the match is no evidence of misinformation.
TRUE_RATINGS = frozenset({"true", "mostly true", "correct", "correct attribution", "accurate", "mostly-true"})


# The gate also sees whether the post names COVID-19 (a false COVID-19 claim often reads like a political
# statement to the embedding alone); the flag enters scaled like an embedding coordinate block.
COVID_TERMS = re.compile(r"covid|corona|virus|vaccin|pandemic|lockdown|mask|sars|wuhan|quarantin", re.IGNORECASE)
COVID_TERM_SCALE = 3.0


def gate_inputs(embeddings: np.ndarray, texts: list[str], domain: np.ndarray | None = None) -> np.ndarray:
    """The gate's input per row: the embedding, the COVID-19 vocabulary flag and, when the gate was fitted with
    them, the domain TF-IDF logits (COVID-19 post vs rest, political statement vs rest; ``domain_logits``)."""
    flags = np.array([COVID_TERM_SCALE if COVID_TERMS.search(t) else 0.0 for t in texts], np.float32)
    parts = [embeddings, flags.reshape(-1, 1)] + ([] if domain is None else [domain.astype(np.float32)])
    return np.hstack(parts)


def load_domain_tfidf(path: Path) -> tuple[TfidfLogit, ...]:
    """``domain_tfidf.json``: one word 1-2-gram vocabulary with its idf, one coefficient per domain model
    ({"terms": {term: [idf, coef_covid, coef_claims]}, "intercepts": [...]}), as TfidfLogit models."""
    data = json.loads(path.read_text())
    return tuple(TfidfLogit({t: (float(v[0]), float(v[1 + k])) for t, v in data["terms"].items()}, float(b))
                 for k, b in enumerate(data["intercepts"]))


def domain_logits(models: tuple[TfidfLogit, ...], texts: list[str]) -> np.ndarray | None:
    return np.stack([m(texts) for m in models], axis=1) if models else None


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def gate_probabilities(embeddings: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    z = embeddings @ coef.T + intercept
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Evidence:
    """Per row: the text score, the two domain probabilities and the gate (covid, claims, ordinary)."""

    score: np.ndarray
    covid: np.ndarray
    claims: np.ndarray
    gate: np.ndarray


@dataclass(frozen=True)
class MisinfoModel:
    stack: tuple[float, float, float]  # COVID-19: weights of the head's margin and the TF-IDF logit, intercept
    gate_coef: np.ndarray  # (3, dim + 1): see gate_inputs
    gate_intercept: np.ndarray  # (3,)
    claims_scale: tuple[float, float]  # Platt slope, intercept of the claims TF-IDF logit
    ordinary_prior: float
    covid_tfidf: TfidfLogit
    claims_tfidf: TfidfLogit
    domain_tfidf: tuple[TfidfLogit, ...] = ()  # the gate's domain TF-IDF models, when it was fitted with them

    @classmethod
    def from_config(cls, config: dict[str, Any], covid_tfidf: TfidfLogit, claims_tfidf: TfidfLogit,
                    domain_tfidf: tuple[TfidfLogit, ...] = ()) -> MisinfoModel:
        s, g, c = config["stack"], config["gate"], config["claims"]
        return cls((s["margin"], s["tfidf"], s["bias"]), np.asarray(g["coef"], np.float32),
                   np.asarray(g["intercept"], np.float32), (c["slope"], c["intercept"]),
                   float(config["ordinary_prior"]), covid_tfidf, claims_tfidf, domain_tfidf)

    @classmethod
    def load(cls, folder: Path) -> MisinfoModel:
        config = json.loads((folder / "config.json").read_text())["misinfo"]
        domain: tuple[TfidfLogit, ...] = ()
        if config["gate"].get("domain_tfidf"):
            if not (folder / DOMAIN_FILE).is_file():
                raise ModelMissing(folder / DOMAIN_FILE, FIT)
            domain = load_domain_tfidf(folder / DOMAIN_FILE)
        return cls.from_config(config, TfidfLogit.load(folder / "tfidf.json"),
                               TfidfLogit.load(folder / "claims_tfidf.json"), domain)

    def covid(self, logits: np.ndarray, tfidf: np.ndarray) -> np.ndarray:
        """Calibrated P(misinformation) as if the post were a COVID-19 post (logistic stacking)."""
        return covid_probability(self.stack, logits, tfidf)

    def evidence(self, logits: np.ndarray, texts: list[str], embeddings: np.ndarray) -> Evidence:
        """`texts`: the classifier's input text (``normalize``), one per row of `logits` and `embeddings`."""
        p_covid = self.covid(logits, self.covid_tfidf(texts))
        p_claims = sigmoid(self.claims_scale[0] * self.claims_tfidf(texts) + self.claims_scale[1])
        inputs = gate_inputs(embeddings, texts, domain_logits(self.domain_tfidf, texts))
        gate = gate_probabilities(inputs, self.gate_coef, self.gate_intercept)
        score = gate[:, 0] * p_covid + gate[:, 1] * p_claims + gate[:, 2] * self.ordinary_prior
        return Evidence(score, p_covid, p_claims, gate)


def covid_probability(stack: tuple[float, float, float], logits: np.ndarray, tfidf: np.ndarray) -> np.ndarray:
    margin = logits[:, 1] - logits[:, 0]
    return sigmoid(stack[0] * margin + stack[1] * tfidf + stack[2])


def claim_evidence(match_score: float | None, rating: str | None) -> float:
    """The match probability of a claim not rated true (0 when there is no match or the claim is true)."""
    if match_score is None or (rating or "").strip().lower() in TRUE_RATINGS:
        return 0.0
    return float(match_score)


def combine(text_score: float, match: float) -> float:
    """Noisy-OR: either piece of evidence alone can make the post a likely false claim."""
    return 1.0 - (1.0 - text_score) * (1.0 - match)


def reason(score: float | None, parts: dict[str, float], gate: np.ndarray | None, claim: str | None,
           match: float) -> str | None:
    """One line for a flagged post (final score or a false-claim match >= 0.5), strongest evidence first;
    None when nothing is flagged. `parts`: {"covid": p, "claims": p} for the post."""
    if score is None or (score < FLAG and match < FLAG):
        return None
    lines: list[tuple[float, str]] = []
    if claim is not None and match > 0:
        lines.append((match, f"matched claim {claim} (match {match:.2f})"))
    if gate is not None:
        names = {"covid": "COVID-19 misinformation model", "claims": "false political-claim model"}
        kinds = {"covid": "a COVID-19 health post", "claims": "a political statement"}
        for k, name in enumerate(("covid", "claims")):
            weight = float(gate[k])
            if weight * parts[name] >= 0.05:
                lines.append((weight * parts[name],
                              f"{names[name]} {parts[name]:.2f} (reads {weight:.0%} as {kinds[name]})"))
    lines.sort(key=lambda x: -x[0])
    return f"likely false claim {score:.2f}: " + "; ".join(text for _, text in lines)

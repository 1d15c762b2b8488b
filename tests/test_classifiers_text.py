"""Pure functions of the classifiers package: text preparation, language routing, metrics, claim files."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.claims import join_fields, standardise
from classifiers.evaluate import ranking_metrics
from classifiers.misinfo import claim_evidence, combine, gate_probabilities, reason
from classifiers.sentiment import sentiment_labels
from classifiers.text import detect_language, has_symbols, normalize, retrieval_text
from classifiers.topics import keyword_pattern


def test_normalize_follows_tweeteval_and_spells_emoji() -> None:
    assert normalize("@bob see https://t.co/x  now 😭") == "@user see http now loudly crying face"


def test_retrieval_text_keeps_entities_and_drops_emoji() -> None:
    text = retrieval_text("Vote 👏🏾 today #HunterBiden @IlhanMN pic.twitter.com/abc")
    assert text == "Vote today Hunter Biden Ilhan MN"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The road on 5th street has been closed since Monday", "en"),
        ("La route est fermée depuis lundi à cause des travaux", "fr"),
        ("Die Straße ist seit Montag wegen Bauarbeiten gesperrt", "de"),
        ("Привет, как дела? Всё хорошо, спасибо.", "ru"),
        ("😀😀😀", None),
        ("", None),
        ("12345 !!!", None),
    ],
)
def test_detect_language(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


def test_has_symbols_only_for_pictographs() -> None:
    assert has_symbols("🔥") and not has_symbols("plain text, 100%")


def test_join_fields_skips_empty_and_punctuates() -> None:
    assert join_fields(["Title", "", "Claim text.", "Sub"]) == "Title. Claim text. Sub"
    assert join_fields([]) == ""


def test_keyword_pattern_matches_whole_words_only() -> None:
    pattern = keyword_pattern(["pothole", "road work"])
    assert pattern is not None and pattern.search("Huge POTHOLE here") and pattern.search("road work ahead")
    assert not pattern.search("potholes") and keyword_pattern([" "]) is None


def test_ranking_metrics_trec_style() -> None:
    ranked = [["a", "b", "c"], ["x", "y", "z"], ["q", "r", "s"]]
    gold = [{"a"}, {"y"}, {"nothing"}]
    metrics = ranking_metrics(ranked, gold, ks=(1, 5))
    assert metrics["map@1"] == pytest.approx(1 / 3)
    assert metrics["map@5"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert metrics["mrr"] == pytest.approx((1 + 0.5) / 3)


def test_standardise_is_per_query() -> None:
    z = standardise(np.array([[1.0, 2.0, 3.0], [10.0, 10.0, 40.0]]))
    assert np.allclose(z.mean(1), 0) and z[0].argmax() == 2


def test_sentiment_prior_adjustment_favours_rare_class() -> None:
    logits = np.log(np.array([[0.30, 0.40, 0.30]]))
    config = {"labels": ["negative", "neutral", "positive"], "log_prior": np.log([0.15, 0.45, 0.40]).tolist()}
    assert sentiment_labels(logits, config | {"prior_weight": 0.0})[0][0] == "neutral"
    label, score = sentiment_labels(logits, config)[0]
    assert label == "negative" and 0.33 < score < 1


def test_reason_only_for_flags() -> None:
    gate = np.array([0.9, 0.05, 0.05])
    parts = {"covid": 0.2, "claims": 0.1}
    assert reason(0.2, parts, gate, None, 0.0) is None
    assert reason(0.3, parts, gate, "c1", 0.3) is None
    text = reason(0.9, {"covid": 0.95, "claims": 0.3}, gate, None, 0.0)
    assert text == "likely false claim 0.90: COVID-19 misinformation model 0.95 (reads 90% as a COVID-19 health post)"


def test_reason_names_the_strongest_evidence_first() -> None:
    gate = np.array([0.1, 0.8, 0.1])
    text = reason(0.85, {"covid": 0.9, "claims": 0.4}, gate, 'c1 "5G"', 0.77)
    assert text is not None and text.index('matched claim c1 "5G" (match 0.77)') < text.index("political-claim")
    assert "COVID-19" in text  # 0.1 x 0.9 still counts as evidence


def test_claim_match_evidence_and_combination() -> None:
    assert claim_evidence(0.8, "False") == 0.8 and claim_evidence(0.8, None) == 0.8
    assert claim_evidence(0.8, "Mostly True") == 0.0 and claim_evidence(None, "False") == 0.0
    assert combine(0.2, 0.0) == pytest.approx(0.2) and combine(0.2, 0.5) == pytest.approx(0.6)


def test_gate_probabilities_sum_to_one() -> None:
    rng = np.random.default_rng(0)
    probs = gate_probabilities(rng.normal(size=(5, 8)), rng.normal(size=(3, 8)), np.zeros(3))
    assert probs.shape == (5, 3) and np.allclose(probs.sum(axis=1), 1.0) and (probs > 0).all()


def test_tfidf_logit_matches_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from classifiers.tfidf import TfidfLogit

    docs = ["5G spreads the virus", "the council meets today", "virus cases rise today", "5G towers cause the virus",
            "council approves the budget", "new cases reported by the council"]
    labels = [1, 0, 0, 1, 0, 0]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    fit = LogisticRegression().fit(vec.fit_transform(docs), labels)
    mine = TfidfLogit({t: (vec.idf_[j], fit.coef_[0][j]) for t, j in vec.vocabulary_.items()}, fit.intercept_[0])
    probe = ["the 5G virus virus", "budget today", "nothing known here", ""]
    assert np.allclose(mine(probe), fit.decision_function(vec.transform(probe)), atol=1e-6)

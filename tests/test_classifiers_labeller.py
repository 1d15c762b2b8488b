"""Labeller contract on tiny random models: shapes, unscored rows, odd texts, versions, offline loading."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

from classifiers import Claim, Labeller, Labels, ModelMissing, Topic

TOPICS = (Topic("roads", "Potholes, road works and closures", ("The bridge is closed",), ("pothole",)),
          Topic("parks", "Parks, playgrounds and green spaces"))
CLAIMS = (Claim("c1", "5G towers spread the virus", "false", "https://example.org/5g"),
          Claim("c2", "The bridge on 5th street will close for repairs"))


@pytest.fixture(scope="module")
def tiny_models(tiny_models_dir: Path) -> Path:
    return tiny_models_dir  # built once per session (conftest); tests copy it before changing anything


@pytest.fixture(scope="module")
def labeller(tiny_models: Path) -> Labeller:
    return Labeller(TOPICS, CLAIMS, models_dir=tiny_models)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_loads_and_labels_from_local_paths_only(tiny_models: Path, no_network: None) -> None:
    fresh = Labeller(TOPICS, CLAIMS, models_dir=tiny_models)
    labels = fresh.label(["The pothole on Main Street is getting worse every day"])
    assert labels[0].lang == "en" and labels[0].sentiment in {"negative", "neutral", "positive"}


def test_one_labels_record_per_text(labeller: Labeller) -> None:
    texts = ["The pothole on Main Street is getting worse", "Lovely afternoon in the park with the kids"]
    labels = labeller.label(texts, batch_size=1)
    assert len(labels) == 2 and all(isinstance(x, Labels) for x in labels)
    first = labels[0]
    assert first.sentiment_score is not None and 0 <= first.sentiment_score <= 1
    assert first.misinfo_score is not None and 0 <= first.misinfo_score <= 1
    assert "roads" in first.topics  # keyword hit
    assert first.matched_claim_id in {"c1", "c2"} and first.matched_claim_score is not None
    assert first.embedding is not None and first.embedding.dtype == np.float32
    assert np.linalg.norm(first.embedding) == pytest.approx(1.0, abs=1e-3)


def test_batch_size_and_order_do_not_change_labels(labeller: Labeller) -> None:
    texts = ["short", "a much longer post about the road works on the bridge near the station", "parks!"]
    one = labeller.label(texts, batch_size=1)
    many = labeller.label(texts[::-1], batch_size=64)[::-1]
    for a, b in zip(one, many, strict=True):
        assert a.sentiment == b.sentiment and a.topics.keys() == b.topics.keys()
        assert a.misinfo_score == pytest.approx(b.misinfo_score, abs=1e-3)


def test_unsupported_language_is_unscored(labeller: Labeller) -> None:
    (fr,) = labeller.label(["La route est fermée depuis lundi à cause des travaux sur le pont"])
    assert fr.lang == "fr"
    assert fr.sentiment is None and fr.sentiment_score is None and fr.misinfo_score is None
    assert fr.topics == {} and fr.matched_claim_id is None and fr.matched_claim_score is None
    assert fr.misinfo_reason is None and fr.embedding is not None  # still clusterable


@pytest.mark.parametrize("text", ["", "   ", "12345 !!! ...", "\n\t"])
def test_texts_without_words_are_unscored(labeller: Labeller, text: str) -> None:
    (lab,) = labeller.label([text])
    assert lab.lang is None and lab.sentiment is None and lab.misinfo_score is None and lab.topics == {}
    assert lab.embedding is None


def test_emoji_only_gets_sentiment_and_nothing_else(labeller: Labeller) -> None:
    (lab,) = labeller.label(["😭😭😭🔥"])
    assert lab.lang is None and lab.sentiment is not None
    assert lab.misinfo_score is None and lab.topics == {} and lab.matched_claim_id is None


def test_huge_and_mixed_script_texts(labeller: Labeller) -> None:
    huge = "The bridge is closed again and traffic is terrible. " * 2000
    mixed = "Road closed today 今日は道路が閉鎖されています road closed"
    labels = labeller.label([huge, mixed, "Привет мир hello world"])
    assert labels[0].lang == "en" and labels[0].sentiment is not None
    assert all(lab.lang is not None for lab in labels)
    assert all((lab.sentiment is None) == (lab.lang != "en") for lab in labels)


def test_no_topics_and_no_claims(tiny_models: Path) -> None:
    (lab,) = Labeller(models_dir=tiny_models).label(["The bridge is closed"])
    assert lab.topics == {} and lab.matched_claim_id is None and lab.matched_claim_score is None


def test_topics_fall_back_to_other(tiny_models: Path) -> None:
    labeller = Labeller([Topic("zoning", "x", keywords=("rezoning",))], models_dir=tiny_models)
    labels = labeller.label(["rezoning hearing tonight", "nothing to see"])
    assert labels[0].topics == {"zoning": pytest.approx(labels[0].topics["zoning"])}
    assert labels[0].topics["zoning"] >= 0.5
    assert set(labels[1].topics) <= {"zoning", "other"} and labels[1].topics


def test_set_claims_replaces_the_table(tiny_models: Path) -> None:
    labeller = Labeller(claims=CLAIMS, models_dir=tiny_models)
    assert labeller.label(["5G towers"])[0].matched_claim_id in {"c1", "c2"}
    labeller.set_claims([Claim("new", "Tap water is unsafe to drink this week")])
    assert labeller.label(["5G towers"])[0].matched_claim_id == "new"
    labeller.set_claims([])
    assert labeller.label(["5G towers"])[0].matched_claim_id is None


def test_new_claims_are_encoded_but_known_ones_are_not(tiny_models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    labeller = Labeller(claims=CLAIMS, models_dir=tiny_models)
    first = labeller.claim_index.embeddings
    encoder, encoded = labeller.model_set.encoder, []
    original = type(encoder).__call__
    monkeypatch.setattr(type(encoder), "__call__",
                        lambda self, texts, *a, **k: encoded.extend(texts) or original(self, texts, *a, **k))
    labeller.set_claims([*CLAIMS, Claim("c3", "Boil your water before drinking")])
    labeller.set_claims([*CLAIMS, Claim("c3", "Boil your water before drinking"), Claim("c4", "Parks reopen")])
    index = labeller.claim_index
    assert encoded == ["Boil your water before drinking", "Parks reopen"]
    assert np.array_equal(index.embeddings[:2], first) and len(index) == 4


def test_models_report_name_and_version_per_task(tiny_models: Path, tmp_path: Path) -> None:
    before = Labeller(models_dir=tiny_models).models
    assert before["sentiment"] == "tiny-textcls@0.0.1"
    assert set(before) >= {"lang", "sentiment", "topics", "misinfo", "claims", "embedding"}
    bumped = tmp_path / "models"
    shutil.copytree(tiny_models, bumped)
    config = json.loads((bumped / "textcls" / "config.json").read_text())
    (bumped / "textcls" / "config.json").write_text(json.dumps(config | {"version": "0.0.2"}))
    after = Labeller(models_dir=bumped).models
    changed = {task for task in before if before[task] != after[task]}
    assert changed == {"sentiment", "misinfo"}  # these labels need relabelling; topics and claims do not


@pytest.mark.parametrize(
    "missing", ["encoder/model.onnx", "textcls/tokenizer.json", "textcls/claims_tfidf.json", "textcls/tfidf.json",
                "reranker/config.json"]
)
def test_missing_model_is_a_clear_startup_error(tiny_models: Path, tmp_path: Path, missing: str,
                                                no_network: None) -> None:
    broken = tmp_path / "models"
    shutil.copytree(tiny_models, broken)
    (broken / missing).unlink()
    with pytest.raises(ModelMissing) as info:
        Labeller(models_dir=broken)
    assert missing.split("/")[1] in str(info.value) and "python training/" in str(info.value)

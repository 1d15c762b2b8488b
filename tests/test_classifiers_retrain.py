"""civicradar train --from-feedback: staff corrections refit the sentiment head (tiny random models)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import jobs
from classifiers import ClassifierError, Labeller
from classifiers.retrain import Figures, from_feedback, run, sentiment_corrections
from collectors.base import Batch
from helpers import make_post
from storage.feedback import corrections

WORDS = {0: ["awful", "terrible", "hate", "broken", "worst"], 1: ["meeting", "tuesday", "notice", "street", "report"],
         2: ["love", "great", "wonderful", "thanks", "best"]}


def tweets(n: int, offset: int = 0) -> pd.DataFrame:
    rows = [(f"{WORDS[k][(i + offset) % 5]} {WORDS[k][(i + offset + 2) % 5]} number {i}", k)
            for i in range(n) for k in (0, 1, 2)]
    return pd.DataFrame(rows, columns=["text", "label"])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "tweeteval_sentiment"
    folder.mkdir(parents=True)
    tweets(20).to_csv(folder / "train.csv", index=False)
    tweets(8, offset=1).to_csv(folder / "val.csv", index=False)
    return folder.parent


@pytest.fixture
def models(tiny_models_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "models"
    shutil.copytree(tiny_models_dir, copy)
    return copy


def seed_feedback(db, values: list[str | None]) -> None:  # type: ignore[no-untyped-def]
    texts = [f"the bus is {w} again" for w in ("awful", "late", "great", "fine", "broken", "here")]
    db.write_batch("t", Batch([make_post(i, text=texts[i % len(texts)]) for i in range(len(values))], None))

    def insert(con) -> None:  # type: ignore[no-untyped-def]
        for i, value in enumerate(values):
            for when, v in (("2026-11-01 10:00", "positive"), ("2026-11-02 10:00", value)):  # the latest counts
                con.execute("INSERT INTO label_feedback VALUES ('x', ?, 'sentiment', 'wrong', ?, NULL, 'ann', ?)",
                            [str(i), v, when])

    db.write(insert)


def test_corrections_keep_the_latest_sentiment_value(fresh_db) -> None:
    seed_feedback(fresh_db, ["Negative", "neutral ", None, "sarcastic"])
    frame = corrections(fresh_db, "sentiment").to_pandas()
    assert frame["correct_value"].fillna("-").tolist() == ["Negative", "neutral ", "-", "sarcastic"]
    texts, labels = sentiment_corrections(frame)
    assert labels.tolist() == [0, 1] and texts == ["the bus is awful again", "the bus is late again"]


def test_not_worse_needs_both_cv_and_val() -> None:
    base = {"corrections_old": 0.2, "corrections_new": 0.9}
    assert Figures((0.70, 0.01), (0.71, 0.01), val_old=0.73, val_new=0.73, **base).not_worse
    assert not Figures((0.70, 0.01), (0.69, 0.01), val_old=0.73, val_new=0.75, **base).not_worse
    assert not Figures((0.70, 0.01), (0.72, 0.01), val_old=0.73, val_new=0.72, **base).not_worse


def test_not_worse_needs_the_negative_share_to_hold() -> None:
    """A head that gains macro-recall by labelling neutral posts negative is not installed (tiles read the share)."""
    base = {"corrections_old": 0.2, "corrections_new": 0.9, "val_old": 0.73, "val_new": 0.74}
    better = ((0.70, 0.01), (0.72, 0.01))
    assert Figures(*better, val_negative_share=(0.156, 0.186, 0.170), **base).not_worse  # within 2 points
    assert Figures(*better, val_negative_share=(0.156, 0.200, 0.190), **base).not_worse  # closer than the old
    assert not Figures(*better, val_negative_share=(0.156, 0.186, 0.264), **base).not_worse
    assert not Figures(*better, val_negative_share=(0.156, 0.200, 0.210), **base).shares_hold


def test_refit_installs_a_new_version_only_when_not_worse(fresh_db, models: Path, data: Path) -> None:
    seed_feedback(fresh_db, ["negative", "negative", "positive", "neutral", "negative", "neutral"] * 2)
    labeller = Labeller(models_dir=models)
    before = labeller.models["sentiment"]
    figures, version = from_feedback(labeller, corrections(fresh_db, "sentiment").to_pandas(), data, public=45)
    assert all(0 <= v <= 1 for v in (figures.cv_old[0], figures.cv_new[0], figures.val_old, figures.val_new))
    config = json.loads((models / "textcls" / "config.json").read_text())
    assert (version is not None) == figures.not_worse
    if version is None:
        assert "head" not in config["sentiment"] and config["version"] == before.split("@")[1]
        return
    assert config["version"] == version and version.startswith(before.split("@")[1] + "+fb12.")
    after = Labeller(models_dir=models)
    assert after.models["sentiment"] != before and after.models["misinfo"] != labeller.models["misinfo"]
    assert len(config["sentiment"]["head"]["coef"]) == 3
    assert after.label(["what a great day"])[0].sentiment in {"negative", "neutral", "positive"}


def test_dry_run_prints_figures_and_installs_nothing(fresh_db, models: Path, data: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    seed_feedback(fresh_db, ["negative", "positive", "neutral"] * 2)
    config = (models / "textcls" / "config.json").read_text()
    assert run(fresh_db, models, data, dry_run=True) == 0
    out = capsys.readouterr().out
    assert "cross-validated macro-recall (5 folds): old" in out and "val macro-recall" in out and "dry run" in out
    assert (models / "textcls" / "config.json").read_text() == config


def test_no_corrections_is_a_clear_error(fresh_db, models: Path, data: Path) -> None:
    with pytest.raises(ClassifierError, match="no sentiment corrections"):
        run(fresh_db, models, data)


def test_the_command_is_wired() -> None:
    args = jobs.parser().parse_args(["train", "--from-feedback", "--dry-run", "--data", "d"])
    assert args.from_feedback and args.dry_run and args.data == Path("d")

"""``civicradar train --from-feedback``: refit the sentiment head on staff corrections plus public train data.

The text classifier's sentiment logits and the shared embedding (both frozen; ONNX Runtime, no torch) feed a
linear head fitted on a seeded sample of TweetEval sentiment train plus every post staff corrected on the
dashboard (the latest correction per post; its right value must be negative / neutral / positive). The command
prints 5-fold cross-validated macro-recall of the old rule and the new head on the same rows, both on the
corrections alone, and the change on TweetEval sentiment val; it installs the head as a new model version
(``<version>+fb<n>.<digest>``: the label job relabels sentiment and misinformation) only when neither the
cross-validated figure nor val gets worse and the share of val labelled negative stays within SHARE_TOLERANCE of
the true share (or no further from it than the old rule's): the dashboard's tiles and the sentiment-shift detector
read that share, so a head must not buy macro-recall by labelling neutral posts negative (see
training/sentiment_rule.py, which chose the shipped rule by the same tolerance). Restart the engine to label with
it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import recall_score
from sklearn.model_selection import StratifiedKFold

from .errors import ClassifierError
from .labeller import Labeller
from .posts import prepare
from .sentiment import LABELS, sentiment_labels

SEED = 13
PUBLIC_ROWS = 3000
FOLDS = 5
C = 1.0
SHARE_TOLERANCE = 0.02  # predicted vs true negative share on val, as training/sentiment_rule.py


@dataclass(frozen=True)
class Figures:
    cv_old: tuple[float, float]  # mean, sd over folds
    cv_new: tuple[float, float]
    corrections_old: float  # share of corrected posts labelled right, out of fold
    corrections_new: float
    val_old: float
    val_new: float
    val_negative_share: tuple[float, float, float] = (0.0, 0.0, 0.0)  # true, old rule, new head

    @property
    def shares_hold(self) -> bool:
        true, old, new = self.val_negative_share
        return abs(new - true) <= max(abs(old - true), SHARE_TOLERANCE)

    @property
    def not_worse(self) -> bool:
        return self.cv_new[0] >= self.cv_old[0] and self.val_new >= self.val_old and self.shares_hold

    def lines(self) -> list[str]:
        return [
            f"cross-validated macro-recall ({FOLDS} folds): old {self.cv_old[0]:.4f} ± {self.cv_old[1]:.4f}, "
            f"new {self.cv_new[0]:.4f} ± {self.cv_new[1]:.4f}",
            f"corrected posts labelled right (out of fold): old {self.corrections_old:.3f}, "
            f"new {self.corrections_new:.3f}",
            f"TweetEval sentiment val macro-recall: old {self.val_old:.4f}, new {self.val_new:.4f} "
            f"({self.val_new - self.val_old:+.4f})",
            "TweetEval sentiment val labelled negative: true {:.3f}, old {:.3f}, new {:.3f}".format(
                *self.val_negative_share),
        ]


def sentiment_corrections(frame: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Corrected posts whose right value is a sentiment label, as (texts, label ids)."""
    value = frame["correct_value"].fillna("").str.strip().str.lower()
    keep = value.isin(LABELS)
    return frame["text"][keep].tolist(), np.array([LABELS.index(v) for v in value[keep]], dtype=int)


def public_rows(data: Path, split: str, rows: int | None) -> tuple[list[str], np.ndarray]:
    path = data / "tweeteval_sentiment" / f"{split}.csv"
    if not path.is_file():
        raise ClassifierError(f"{path} not found: pass --data with the folder holding tweeteval_sentiment/")
    frame = pd.read_csv(path, keep_default_na=False)
    if rows is not None and rows < len(frame):
        frame = frame.iloc[np.sort(np.random.default_rng(SEED).choice(len(frame), rows, replace=False))]
    return frame["text"].astype(str).tolist(), frame["label"].astype(int).to_numpy()


def features(labeller: Labeller, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's sentiment logits and the shared embedding (zeros for a text without words)."""
    batch = prepare(texts)
    model = labeller.model_set.textcls
    logits = model.run(model.tokenize(batch.cls_text))["sentiment_logits"]
    return logits, labeller.embed(texts)


def old_predictions(labeller: Labeller, logits: np.ndarray, emb: np.ndarray) -> np.ndarray:
    config = labeller.model_set.textcls.config["sentiment"]
    return np.array([LABELS.index(label) for label, _ in sentiment_labels(logits, config, emb)])


def fit_head(x: np.ndarray, y: np.ndarray) -> dict[str, list]:
    fit = LogisticRegression(C=C, max_iter=3000).fit(x, y)
    return {"coef": fit.coef_.round(6).tolist(), "intercept": fit.intercept_.round(6).tolist()}


def new_predictions(labeller: Labeller, head: dict, logits: np.ndarray, emb: np.ndarray) -> np.ndarray:
    config = labeller.model_set.textcls.config["sentiment"] | {"head": head}
    return np.array([LABELS.index(label) for label, _ in sentiment_labels(logits, config, emb)])


def cross_validate(labeller: Labeller, logits: np.ndarray, emb: np.ndarray, y: np.ndarray, corrected: np.ndarray
                   ) -> tuple[tuple[float, float], tuple[float, float], float, float]:
    """Per fold macro-recall of the old rule and of a head fitted on the other folds; and, over the corrected
    rows, the share each labels right (out of fold)."""
    x = np.hstack([logits, emb])
    old, new = old_predictions(labeller, logits, emb), np.zeros_like(y)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(x, y)
    scores: list[tuple[float, float]] = []
    for train, test in folds:
        new[test] = new_predictions(labeller, fit_head(x[train], y[train]), logits[test], emb[test])
        scores.append((macro_recall(y[test], old[test]), macro_recall(y[test], new[test])))
    mean, sd = np.mean(scores, axis=0), np.std(scores, axis=0)
    right = (lambda p: float((p[corrected] == y[corrected]).mean())) if corrected.any() else (lambda p: float("nan"))
    return (float(mean[0]), float(sd[0])), (float(mean[1]), float(sd[1])), right(old), right(new)


def macro_recall(y: np.ndarray, pred: np.ndarray) -> float:
    return float(recall_score(y, pred, labels=[0, 1, 2], average="macro", zero_division=0))


def from_feedback(labeller: Labeller, corrections: pd.DataFrame, data: Path, public: int = PUBLIC_ROWS,
                  install: bool = True) -> tuple[Figures, str | None]:
    """Fit, compare, and install when not worse. Returns the figures and the installed version (None if kept)."""
    fb_texts, fb_y = sentiment_corrections(corrections)
    if not fb_texts:
        raise ClassifierError("no sentiment corrections with a right value (negative / neutral / positive) yet: "
                              "mark labels wrong on the dashboard's post view first")
    pub_texts, pub_y = public_rows(data, "train", public)
    logits, emb = features(labeller, [*pub_texts, *fb_texts])
    y = np.concatenate([pub_y, fb_y])
    corrected = np.arange(len(y)) >= len(pub_y)
    cv_old, cv_new, fb_old, fb_new = cross_validate(labeller, logits, emb, y, corrected)
    head = fit_head(np.hstack([logits, emb]), y)
    val_texts, val_y = public_rows(data, "val", None)
    v_logits, v_emb = features(labeller, val_texts)
    v_old, v_new = old_predictions(labeller, v_logits, v_emb), new_predictions(labeller, head, v_logits, v_emb)
    figures = Figures(cv_old, cv_new, fb_old, fb_new, macro_recall(val_y, v_old), macro_recall(val_y, v_new),
                      (float((val_y == 0).mean()), float((v_old == 0).mean()), float((v_new == 0).mean())))
    if not (install and figures.not_worse):
        return figures, None
    return figures, write_version(labeller.model_set.root / "textcls", head, fb_texts, fb_y)


def write_version(folder: Path, head: dict, texts: Sequence[str], y: np.ndarray) -> str:
    """The head into config.json under a new version (the base version, the corrections' count and digest)."""
    config = json.loads((folder / "config.json").read_text())
    base = str(config["version"]).split("+fb")[0]
    digest = hashlib.sha256(json.dumps([list(texts), y.tolist()]).encode()).hexdigest()[:8]
    config["version"] = f"{base}+fb{len(texts)}.{digest}"
    config["sentiment"] = config["sentiment"] | {"head": head}
    tmp = folder / "config.json.new"
    tmp.write_text(json.dumps(config, indent=2) + "\n")
    tmp.replace(folder / "config.json")
    return str(config["version"])


def command(settings, args) -> int:  # type: ignore[no-untyped-def]
    """``civicradar train --from-feedback [--data DIR] [--dry-run]``. Reads the database file: stop the engine."""
    from storage.db import Database

    if not args.from_feedback:
        raise ClassifierError("say what to train from: civicradar train --from-feedback")
    db = Database(settings.db_path)
    try:
        models = settings.classify.models_dir
        return run(db, models and settings.path(models), args.data, args.dry_run)
    finally:
        db.close()


def run(db, models_dir: Path | None, data: Path, dry_run: bool = False) -> int:  # type: ignore[no-untyped-def]
    """Print the figures and what was done; 0 when installed or kept as not better."""
    from storage.feedback import corrections

    labeller = Labeller(models_dir=models_dir)
    figures, version = from_feedback(labeller, corrections(db, "sentiment").to_pandas(), data,
                                     install=not dry_run)
    print("\n".join(figures.lines()))
    if version:
        print(f"installed {labeller.model_set.textcls.config['name']}@{version}: restart the engine; it relabels")
    else:
        reason = "dry run" if dry_run else (
            "the new head is worse on cross-validation or val" if figures.shares_hold else
            f"the new head's negative share on val strays more than {SHARE_TOLERANCE:.0%} from the truth")
        print(f"kept {labeller.models['sentiment']} ({reason})")
    return 0

"""Cross-validated evidence for the sentiment decision rule (the prior weight), inside TweetEval sentiment train.

The fine-tuned classifier saw every train row, so its own figures on train are in-sample; k-fold fine-tuning is
beyond a 2-core budget. Two estimates instead, on the seeded 3,000-row sample featurised by features.py:

- out of fold: a logistic-regression head on the frozen shared embedding (not fine-tuned; clean folds), and the
  prior weight that maximises its macro-recall;
- in sample: the shipped classifier's logits with each prior weight (an upper bound of what CV would give).

    python training/features.py && python training/cv_sentiment.py
"""

from __future__ import annotations

import json

import numpy as np
from _common import MODELS, read
from features import load
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import recall_score
from sklearn.model_selection import StratifiedKFold

SEED = 13
FOLDS = 5
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25)


def macro_recall(y: np.ndarray, scores: np.ndarray) -> float:
    return float(recall_score(y, scores.argmax(1), average="macro"))


def fold_report(y: np.ndarray, oof: np.ndarray, fold_ids: np.ndarray, val_logits: list[np.ndarray],
                y_val: np.ndarray) -> dict:
    """Out-of-fold logits of k fine-tuned models (training/cv_branch.py, cv_textcls.py): the prior weight chosen on
    them, CV per weight, then val (read once) for each fold's model and their average logits, with class shares."""
    from sklearn.metrics import confusion_matrix

    folds, log_prior = int(fold_ids.max()) + 1, np.log(np.bincount(y, minlength=3) / len(y))
    per_weight = {w: [macro_recall(y[fold_ids == k], oof[fold_ids == k] - w * log_prior) for k in range(folds)]
                  for w in WEIGHTS}
    weight = max(WEIGHTS, key=lambda w: np.mean(per_weight[w]))
    pooled = np.mean(val_logits, axis=0) - weight * log_prior
    shares = {"cv_predicted_shares": (oof - weight * log_prior).argmax(1), "train_true_shares": y,
              "val_predicted_shares": pooled.argmax(1), "val_true_shares": y_val}
    return {
        "folds": folds, "train_rows": len(y),
        "cv_by_prior_weight": {w: [round(float(np.mean(v)), 4), round(float(np.std(v)), 4)]
                               for w, v in per_weight.items()},
        "prior_weight": weight, "cv": round(float(np.mean(per_weight[weight])), 4),
        "cv_sd": round(float(np.std(per_weight[weight])), 4),
        "val_each_fold_model": [round(macro_recall(y_val, v - weight * log_prior), 4) for v in val_logits],
        "val_fold_average": round(macro_recall(y_val, pooled), 4),
        **{k: (np.bincount(v, minlength=3) / len(v)).round(3).tolist() for k, v in shares.items()},
        "val_confusion": confusion_matrix(y_val, pooled.argmax(1)).tolist(),
    }


def main() -> None:
    f = load("tweeteval_sentiment", "train")
    y = read("tweeteval_sentiment", "train")["label"].to_numpy()[f["rows"]]
    log_prior = np.array(json.loads((MODELS / "textcls" / "config.json").read_text())["sentiment"]["log_prior"])
    per_fold = {w: [] for w in WEIGHTS}
    shipped = {w: [] for w in WEIGHTS}
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(f["embedding"], y):
        head = LogisticRegression(C=1.0, max_iter=2000).fit(f["embedding"][train], y[train])
        logp = head.predict_log_proba(f["embedding"][test])
        for w in WEIGHTS:
            per_fold[w].append(macro_recall(y[test], logp - w * log_prior))
            shipped[w].append(macro_recall(y[test], f["sentiment_logits"][test] - w * log_prior))
    best = max(WEIGHTS, key=lambda w: np.mean(per_fold[w]))
    for w in WEIGHTS:
        print(f"prior weight {w:.2f}: frozen-embedding head out of fold {np.mean(per_fold[w]):.4f} ± "
              f"{np.std(per_fold[w]):.4f}; shipped classifier in sample {np.mean(shipped[w]):.4f} ± "
              f"{np.std(shipped[w]):.4f}")
    print(f"best prior weight out of fold: {best}")


if __name__ == "__main__":
    main()

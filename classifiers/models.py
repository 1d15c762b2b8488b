"""Where the models live, how each is rebuilt, and loading each of them once."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np

from .errors import ModelMissing
from .runtime import THREADS, OnnxModel, check_folder
from .tfidf import TfidfLogit

DEFAULT_DIR = Path(__file__).resolve().parent / "models"

# folder -> the command that builds it (shown in ModelMissing)
BUILD = {
    "encoder": "python training/export_encoder.py",
    "textcls": "python training/train_textcls.py && python training/calibrate_misinfo.py",
    "reranker": "python training/train_reranker.py",
}
LANGID = "py3langid"
EXTRA_TEXTCLS = ("domain.json", "tfidf.json")


class ModelSet:
    def __init__(self, models_dir: Path | None = None) -> None:
        self.root = Path(models_dir) if models_dir is not None else DEFAULT_DIR

    def check(self) -> None:
        for folder, build in BUILD.items():
            check_folder(self.root / folder, build)
        for name in EXTRA_TEXTCLS:
            if not (self.root / "textcls" / name).is_file():
                raise ModelMissing(self.root / "textcls" / name, BUILD["textcls"])

    def _load(self, folder: str, threads: int = THREADS) -> OnnxModel:
        return OnnxModel(self.root / folder, BUILD[folder], threads)

    # The encoder and the text classifier run side by side (Labeller.label), one core each: on two cores that is
    # 15-20 % more posts/s than one after the other with two threads each (bench/classify.py).
    @cached_property
    def encoder(self) -> OnnxModel:
        return self._load("encoder", threads=1)

    @cached_property
    def textcls(self) -> OnnxModel:
        return self._load("textcls", threads=1)

    @cached_property
    def reranker(self) -> OnnxModel:
        return self._load("reranker")

    @cached_property
    def domain_centroids(self) -> np.ndarray:
        path = self.root / "textcls" / "domain.json"
        return np.asarray(json.loads(path.read_text())["centroids"], dtype=np.float32)

    @cached_property
    def tfidf(self) -> TfidfLogit:
        return TfidfLogit.load(self.root / "textcls" / "tfidf.json")

    def _tag(self, folder: str) -> str:
        config = json.loads((self.root / folder / "config.json").read_text())
        return f"{config['name']}@{config['version']}"

    def tags(self) -> dict[str, str]:
        from importlib.metadata import version

        enc, cls, rr = self._tag("encoder"), self._tag("textcls"), self._tag("reranker")
        return {
            "lang": f"{LANGID}@{version(LANGID)}",
            "sentiment": cls,
            "topics": enc,
            "misinfo": f"{cls}+{enc}",
            "claims": f"{rr}+{enc}",
            "embedding": enc,
        }

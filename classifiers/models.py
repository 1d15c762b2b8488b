"""Where the models live, how each is rebuilt, and loading each of them once."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

from .errors import ModelMissing
from .misinfo import MisinfoModel
from .runtime import THREADS, OnnxModel, check_folder

DEFAULT_DIR = Path(__file__).resolve().parent / "models"

# folder -> the command that builds it (shown in ModelMissing)
BUILD = {
    "encoder": "python training/export_encoder.py",
    "textcls": ("python training/train_textcls.py && python training/calibrate_misinfo.py && "
                "python training/features.py && python training/fit_misinfo.py"),
    "reranker": "python training/train_reranker.py",
}
LANGID = "py3langid"
EXTRA_TEXTCLS = ("tfidf.json", "claims_tfidf.json")


class ModelSet:
    def __init__(self, models_dir: Path | None = None) -> None:
        self.root = Path(models_dir) if models_dir is not None else DEFAULT_DIR
        self._tags: dict[str, str] = {}

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
    def misinfo(self) -> MisinfoModel:
        return MisinfoModel.load(self.root / "textcls")

    def _tag(self, folder: str) -> str:
        """Read once per ModelSet, like the models themselves: labels are tagged with the version that made them
        even after `civicradar train --from-feedback` installs a new one (the engine picks it up on restart)."""
        if folder not in self._tags:
            config = json.loads((self.root / folder / "config.json").read_text())
            self._tags[folder] = f"{config['name']}@{config['version']}"
        return self._tags[folder]

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

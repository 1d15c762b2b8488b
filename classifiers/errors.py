"""The classifiers' exception tree."""

from __future__ import annotations

from pathlib import Path

from core.errors import CivicRadarError


class ClassifierError(CivicRadarError):
    """Base of every error raised by ``classifiers``."""


class ModelMissing(ClassifierError):
    """A model file is absent. Models are never downloaded: they are committed or built locally."""

    def __init__(self, path: Path, build: str) -> None:
        self.path = path
        self.build = build
        super().__init__(f"model file not found: {path}. Rebuild it with: pip install -e '.[train]' && {build}")

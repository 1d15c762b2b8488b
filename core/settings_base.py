"""The settings pieces every package shares: the error, the strict model, secret references and redaction, and
the fields every source has. `settings.py` builds the whole settings object from these; each collector module
subclasses `SourceSettings`, and `collectors.registry` parses `[sources]` into those subclasses.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import CivicRadarError


class SettingsError(CivicRadarError):
    """The settings file is unusable; the message names the file, the key and what was expected."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_SECRETS: set[str] = set()  # every secret value read so far, so that `redact` can keep it out of text we store


def redact(text: str) -> str:
    """`text` with every secret this process has read replaced: for logs, run records and error messages."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return text


def _secret_parts(value: str) -> list[str]:
    """The value, and for a URL also its path and query and any password: servers echo those in error pages."""
    parts = urlsplit(value)
    if not (parts.scheme and parts.netloc):
        return [value]
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    return [value, tail, tail.lstrip("/"), parts.password or ""]


class SecretRef(StrictModel):
    """A secret held in an environment variable: `{ env = "NAME" }`."""

    env: str

    def get(self, needed_by: str) -> str:
        value = os.environ.get(self.env)
        if not value:
            raise SettingsError(f"environment variable {self.env} is not set (needed by {needed_by}); export it.")
        _SECRETS.update(part for part in _secret_parts(value) if len(part) >= 6)  # shorter would hit ordinary words
        return value


class SourceSettings(StrictModel):
    """Fields every source has; each collector module subclasses this with `kind: Literal[...]`."""

    kind: str
    enabled: bool = True
    every_seconds: float = Field(60.0, gt=0)

    def secrets(self) -> dict[str, SecretRef]:
        return {k: v for k, v in self if isinstance(v, SecretRef)}


class SourceTable(SourceSettings):
    """A `[sources.NAME]` table as read from the file, before `collectors.registry.typed` parses it by its kind.

    Only `kind` and `enabled` are checked here; the other keys are kept as written, and `every_seconds` is the
    kind's own default only once typed. Processes that build no collector (the dashboard) never type them, so
    they never import a platform's client library.
    """

    model_config = ConfigDict(extra="allow")

    def table(self) -> dict[str, object]:
        """The keys as written in the file, for the kind's own settings model."""
        return self.model_dump(exclude_unset=True)


def describe_errors(error: ValidationError, path: Path, prefix: tuple[str, ...]) -> list[str]:
    """One line per problem: the file, the dotted key and what was wrong."""
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in (*prefix, *item["loc"]))
        if item["type"] == "extra_forbidden":
            lines.append(f"{path}: {key}: unknown key (check its spelling against settings.toml)")
        else:
            lines.append(f"{path}: {key}: {item['msg']} (got {item.get('input')!r})")
    return lines

"""Which rows of a batch each model scores, decided once per batch from language and content."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .text import SUPPORTED_LANGS, detect_language, has_letters, has_symbols, normalize, retrieval_text


@dataclass(frozen=True)
class PreparedBatch:
    raw: list[str]
    lang: list[str | None]
    scored: np.ndarray  # rows in a supported language: every label
    sentiment_rows: np.ndarray  # scored rows plus emoji-only rows (emoji carry sentiment in any language)
    embed_rows: np.ndarray  # rows with any words, in any language: the shared embedding
    cls_text: list[str]  # classifier input (TweetEval conventions), per row
    ret_text: list[str]  # encoder / BM25 input, per row


def prepare(texts: Sequence[str]) -> PreparedBatch:
    raw = ["" if t is None else str(t) for t in texts]
    langs = [detect_language(t) for t in raw]
    supported = [lang in SUPPORTED_LANGS for lang in langs]
    emoji_only = [lang is None and has_symbols(t) for t, lang in zip(raw, langs, strict=True)]
    ret_text = [retrieval_text(t) for t in raw]
    return PreparedBatch(
        raw=raw,
        lang=langs,
        scored=np.flatnonzero(supported),
        sentiment_rows=np.flatnonzero(np.logical_or(supported, emoji_only)),
        embed_rows=np.flatnonzero([has_letters(t) for t in ret_text]),
        cls_text=[normalize(t) for t in raw],
        ret_text=ret_text,
    )

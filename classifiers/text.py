"""Text normalisation and language detection shared by training and inference.

Training scripts import :func:`normalize` so that a post is seen by a model exactly as its training data was.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_URL = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w{1,30}")
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"(?<![\w@#])[@#](\w{1,50})")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)")
_LETTER = re.compile(r"[^\W\d_]")

# Languages every shipped model was trained on. Anything else is stored "unscored".
SUPPORTED_LANGS: frozenset[str] = frozenset({"en"})


def normalize(text: str) -> str:
    """TweetEval conventions (handles become ``@user``, links ``http``) and emoji spelt out.

    The MiniLM vocabulary maps every emoji to ``[UNK]``; their Unicode names ("loudly crying face") carry the
    sentiment instead.
    """
    text = _URL.sub("http", text)
    text = _MENTION.sub("@user", text)
    text = "".join(_spell(ch) for ch in text)
    return _SPACE.sub(" ", text).strip()


@lru_cache(maxsize=4096)
def _spell(ch: str) -> str:
    if ch.isascii():
        return ch
    category = unicodedata.category(ch)
    if category == "So" and ord(ch) >= 0x2000:
        name = unicodedata.name(ch, "")
        return f" {name.lower()} " if name and "REGIONAL INDICATOR" not in name else " "
    if category in {"Sk", "Mn", "Cf"} and ord(ch) >= 0x200B and not unicodedata.combining(ch):
        return ""  # skin tones, variation selectors, zero-width joiners
    return ch


def retrieval_text(text: str) -> str:
    """Text for the sentence encoder and BM25: handles and hashtags become words, links and emoji go.

    "@JoeBiden" carries the entity a claim is about, so it becomes "Joe Biden" rather than "@user"; emoji names
    ("clapping hands sign" x 10) would drown a short claim.
    """
    text = _URL.sub(" ", text)
    text = _TAG.sub(lambda m: " " + _split_camel(m.group(1)) + " ", text)
    text = "".join(" " if _is_decoration(ch) else ch for ch in text)
    return _SPACE.sub(" ", text).strip()


def _is_decoration(ch: str) -> bool:
    """Emoji, skin tones, variation selectors and zero-width joiners."""
    return not ch.isascii() and (unicodedata.category(ch) in {"So", "Sk", "Cs", "Cf"} or 0xFE00 <= ord(ch) <= 0xFE0F)


def _split_camel(word: str) -> str:
    return _CAMEL.sub(" ", word.replace("_", " "))


def has_letters(text: str) -> bool:
    return _LETTER.search(text) is not None


def has_symbols(text: str) -> bool:
    """True when the text holds an emoji or pictograph (the only thing an emoji-only post carries)."""
    return any(unicodedata.category(ch) == "So" and ord(ch) >= 0x2000 for ch in text)


@lru_cache(maxsize=1)
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, sure: float = 0.9) -> str | None:
    """ISO 639-1 code; None for texts without letters (emoji-only, numbers, empty).

    Short English posts are often guessed as something else with low confidence ("pcm", "und"): an unsure guess
    is resolved to a supported language when one ranks in the top ten, so that English posts are not left
    unscored, while a confident other language (>= ``sure``) stays as detected.
    Mentions and links are removed first: ``@user http`` would otherwise pull every guess towards English.
    """
    core = re.sub(r"#(\w+)", r"\1", _MENTION.sub(" ", _URL.sub(" ", text)))
    if not has_letters(core):
        return None
    ranked = _identifier().rank(core)[:10]
    top, prob = ranked[0]
    if top not in SUPPORTED_LANGS and prob < sure:
        for lang, _ in ranked[1:]:
            if lang in SUPPORTED_LANGS:
                return str(lang)
    return str(top)

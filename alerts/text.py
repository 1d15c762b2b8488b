"""Text features shared by detectors: tokens, word pairs, normalised text, the top phrase of a set of posts."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence

STOPWORDS = frozenset((
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "aren",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can",
    "cannot", "could", "did", "didn", "do", "does", "doesn", "doing", "don", "down", "during", "each", "even",
    "every", "few", "for", "from", "further", "get", "gets", "got", "had", "has", "hasn", "have", "having",
    "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "however", "i", "if", "in", "into",
    "is", "isn", "it", "its", "itself", "just", "let", "like", "ll", "me", "more", "most", "my", "myself", "no",
    "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out",
    "over", "own", "re", "same", "says", "she", "should", "so", "some", "such", "than", "that", "the", "their",
    "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too",
    "under", "until", "up", "us", "very", "via", "was", "wasn", "we", "were", "what", "when", "where", "which",
    "while", "who", "whom", "why", "will", "with", "won", "would", "you", "your", "yours", "yourself",
    "yourselves", "rt", "amp", "http", "https", "www", "com", "co",
))
WORD = re.compile(r"[a-z0-9]+")
URL = re.compile(r"https?://\S+")


def tokens(text: str) -> list[str]:
    """Lower-case content words of two or more characters, in order."""
    return [w for w in WORD.findall(URL.sub(" ", text.lower())) if len(w) > 1 and w not in STOPWORDS]


def pairs(words: Sequence[str]) -> set[str]:
    """Adjacent content-word pairs: the shingles near-duplicate detection compares."""
    if len(words) == 1:
        return {words[0]}
    return {f"{a} {b}" for a, b in itertools.pairwise(words)}


def normalised(text: str) -> str:
    """Text without links, case, punctuation or repeated spaces: what 'the same text' means."""
    return " ".join(WORD.findall(URL.sub(" ", text.lower())))


def top_phrase(texts: Iterable[str], min_count: int = 3) -> str | None:
    """The most repeated two- or three-word phrase (counted once per post, longer phrases weighted up, ties to the
    phrase that comes first in its text), if any is repeated at least `min_count` times."""
    counts: Counter[str] = Counter()
    position: dict[str, int] = {}
    for text in texts:
        words = tokens(text)
        grams = {" ".join(words[i:i + n]): i for n in (2, 3) for i in range(len(words) - n + 1)}
        counts.update(grams.keys())
        for gram, i in grams.items():
            position[gram] = min(i, position.get(gram, i))
    if not counts:
        return None
    best = max(counts, key=lambda g: (counts[g] * (1 + g.count(" ")), -position[g], g))
    return best if counts[best] >= min_count else None

"""How long a message is on each channel, counted the way that channel counts it.

- **X**: twitter-text v3 weighting. The text is NFC-normalised; a URL (with or without http(s)://, for the usual
  top-level domains) counts 23; an emoji (one grapheme, skin tones, ZWJ families and flags included) counts 2;
  other code points count 1 in the ranges U+0000-10FF, U+2000-200D, U+2010-201F, U+2032-2037, else 2 (CJK and most
  symbols). Limit 280. (twitter-text-parser, the PyPI port, imports `pkg_resources`, which current setuptools no
  longer ships, so the documented weighting is implemented here and tested against the official conformance cases.)
- **Bluesky**: 300 graphemes (Unicode extended grapheme clusters, the `regex` module's \\X) and 3,000 UTF-8 bytes.
  Links count as written.
- **Mastodon**: 500 graphemes, a URL counting 23 and a mention `@user@server` counting as `@user` (as Mastodon's
  StatusLengthValidator does).
- **SMS**: GSM-7 (3GPP TS 23.038 through the `gsm0338` codec: the extension characters ^ { } [ ] ~ \\ | € take two
  septets) when every character has a GSM-7 code, else UCS-2 (UTF-16 units: an emoji takes two). One segment holds
  160 septets or 70 units; concatenated segments hold 153 or 67, and an escape pair or a surrogate pair is never
  split across two segments.
- **email / web**: long form, no limit.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import gsm0338  # noqa: F401  # registers the "gsm03.38" codec
import regex

from responses.model import CHANNELS

LABELS = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon", "sms": "SMS", "email": "Email", "web": "Web"}
X_LIMIT, BLUESKY_GRAPHEMES, BLUESKY_BYTES, MASTODON_LIMIT = 280, 300, 3000, 500
URL_WEIGHT = 23  # t.co links on X, and Mastodon's placeholder
SMS_SINGLE = {"GSM-7": 160, "UCS-2": 70}
SMS_PART = {"GSM-7": 153, "UCS-2": 67}
SMS_MAX_SEGMENTS = 3  # default; settings: [responses] sms_max_segments

# twitter-text v3 (config v3.json): code point ranges that weigh 1; everything else weighs 2
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_TLDS = ("com|org|net|gov|edu|mil|int|info|biz|io|co|app|dev|ly|me|tv|news|health|social|online|site|xyz|"
         "[a-z]{2}")  # the common generic domains and every two-letter country domain
_LABEL = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
_URL_CHAR = r"[^\s\u200e\u200f\u202a-\u202e\u2066-\u2069]"  # directional marks end a URL
_END = r"(?=[.,;:!?)\]'\"]*(?:[\s\u200e\u200f\u202a-\u202e\u2066-\u2069]|$))"  # trailing punctuation is not in it
_PATH = rf"(?:[/?#](?:{_URL_CHAR}*?{_END})?)?"
URL_WITH_SCHEME = regex.compile(rf"https?://{_URL_CHAR}+?{_END}", regex.I)
URL_BARE = regex.compile(rf"(?<![\w@#$/.-])(?:{_LABEL}\.)+(?:{_TLDS})(?::\d{{1,5}})?{_PATH}(?![\w-])", regex.I)
MENTION = regex.compile(r"(?<![\w@])@(\w+)@[\w.-]+\w")
EMOJI = regex.compile(r"\p{Emoji_Presentation}|\uFE0F|\u20E3|\p{Regional_Indicator}|\p{Emoji_Modifier}")


@dataclass(frozen=True)
class LimitCheck:
    channel: str
    used: int  # in the channel's own unit
    limit: int | None  # None: no limit (email, web)
    unit: str
    segments: int = 0  # SMS only
    encoding: str = ""  # SMS only: GSM-7 or UCS-2
    max_segments: int = 0  # SMS only: more segments than this fail the check

    @property
    def ok(self) -> bool:
        if self.channel == "sms":
            return self.segments <= self.max_segments
        return self.limit is None or self.used <= self.limit

    @property
    def summary(self) -> str:
        """One line for the editor, e.g. "X: 143 / 280 weighted characters" or "SMS: 2 segments (GSM-7, ...)"."""
        label = LABELS.get(self.channel, self.channel)
        if self.channel == "sms":
            over = "" if self.ok else f", more than the {self.max_segments} allowed"
            return (f"{label}: {self.segments} segment{'s' if self.segments != 1 else ''}{over} ({self.encoding}, "
                    f"{self.used} {self.unit}; {self.limit} fit in one)")
        if self.limit is None:
            return f"{label}: {self.used} {self.unit} (long form, no limit)"
        over = "" if self.ok else f", {self.used - self.limit} over"
        return f"{label}: {self.used} / {self.limit} {self.unit}{over}"


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def _urls(pattern: regex.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def x_urls(text: str) -> list[tuple[int, int]]:
    """Spans of what X turns into t.co links: URLs with a scheme, and bare domains outside them."""
    spans = _urls(URL_WITH_SCHEME, text)
    taken = [range(a, b) for a, b in spans]
    spans += [(a, b) for a, b in _urls(URL_BARE, text) if not any(a in r for r in taken)]
    return sorted(spans)


def _code_point_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(lo <= code <= hi for lo, hi in _LIGHT) else 2


def _grapheme_weight(cluster: str) -> int:
    if EMOJI.search(cluster) or (len(cluster) > 1 and regex.search(r"\p{Extended_Pictographic}", cluster)):
        return 2
    return sum(_code_point_weight(c) for c in cluster)


def x_length(text: str) -> int:
    """The weighted length X counts (twitter-text v3)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    total, position = 0, 0
    for start, end in x_urls(text):
        total += sum(_grapheme_weight(g) for g in regex.findall(r"\X", text[position:start])) + URL_WEIGHT
        position = end
    return total + sum(_grapheme_weight(g) for g in regex.findall(r"\X", text[position:]))


def mastodon_length(text: str) -> int:
    """Graphemes, with every URL as 23 characters and `@user@server` as `@user`."""
    countable = URL_WITH_SCHEME.sub("x" * URL_WEIGHT, text)
    return graphemes(MENTION.sub(r"@\1", countable))


def sms_units(text: str) -> tuple[str, list[int]]:
    """The encoding and the width of each character in it: septets (GSM-7) or UTF-16 units (UCS-2)."""
    try:
        return "GSM-7", [len(c.encode("gsm03.38")) for c in text]
    except UnicodeEncodeError:
        return "UCS-2", [len(c.encode("utf-16-le")) // 2 for c in text]


def sms_segments(text: str) -> tuple[str, int, int]:
    """(encoding, units, segments). Over one segment, parts of 153 / 67 units; a character never straddles two."""
    encoding, widths = sms_units(text)
    used = sum(widths)
    if used <= SMS_SINGLE[encoding]:
        return encoding, used, 1 if used else 0
    segments, room = 1, SMS_PART[encoding]
    for width in widths:
        if width > room:
            segments, room = segments + 1, SMS_PART[encoding]
        room -= width
    return encoding, used, segments


def check(channel: str, text: str, sms_max_segments: int = SMS_MAX_SEGMENTS) -> LimitCheck:
    """The message's length on `channel` against that channel's limit (for SMS, a number of segments)."""
    if channel == "x":
        return LimitCheck(channel, x_length(text), X_LIMIT, "weighted characters")
    if channel == "bluesky":
        size = len(text.encode("utf-8"))
        if size > BLUESKY_BYTES:  # only reachable with very long graphemes; say which limit bites
            return LimitCheck(channel, size, BLUESKY_BYTES, "bytes")
        return LimitCheck(channel, graphemes(text), BLUESKY_GRAPHEMES, "graphemes")
    if channel == "mastodon":
        return LimitCheck(channel, mastodon_length(text), MASTODON_LIMIT, "characters")
    if channel == "sms":
        encoding, used, segments = sms_segments(text)
        unit = "GSM-7 septets" if encoding == "GSM-7" else "UCS-2 units"
        return LimitCheck(channel, used, SMS_SINGLE[encoding], unit, segments, encoding, sms_max_segments)
    if channel in ("email", "web"):
        return LimitCheck(channel, len(text), None, "characters")
    raise ValueError(f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}")

"""Placeholders in approved messages: {agency}, {link}, {date}, {place}.

Only these four are replaced; any other `{word}` is left as written and reported, so a typo such as `{agncy}`
is caught in the editor instead of being posted. Braces that are not placeholders (a JSON snippet, a smiley)
are untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

PLACEHOLDERS = ("agency", "link", "date", "place")
_TOKEN = re.compile(r"\{([a-z_]+)\}")
DATE_FORMAT = "%B %-d, %Y"  # default; settings: [responses] date_format
# the longest a date can print in DATE_FORMAT, so limit checks in the editor hold for every day of the year
LONGEST_DATE = date(2000, 9, 30)


@dataclass(frozen=True)
class Values:
    agency: str
    link: str = ""
    date: str = ""
    place: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"agency": self.agency, "link": self.link, "date": self.date, "place": self.place}


def placeholders(text: str) -> list[str]:
    """Every `{word}` in the text, in order, known or not."""
    return _TOKEN.findall(text)


def unknown(text: str) -> list[str]:
    """Placeholders that are not one of PLACEHOLDERS (typos), each once."""
    return sorted({name for name in placeholders(text) if name not in PLACEHOLDERS})


def missing(text: str, values: Values) -> list[str]:
    """Known placeholders in the text that have no value to fill in."""
    given = values.as_dict()
    return sorted({name for name in placeholders(text) if name in given and not given[name]})


def fill(text: str, values: Values | Mapping[str, str]) -> str:
    """The text with its known placeholders replaced; unknown or empty ones stay as written."""
    given = values.as_dict() if isinstance(values, Values) else dict(values)

    def replace(match: re.Match[str]) -> str:
        value = given.get(match.group(1))
        return value if value else match.group(0)

    return _TOKEN.sub(replace, text)


def format_date(day: date, pattern: str = DATE_FORMAT) -> str:
    """`day` in the agency's format; `%-d` (no leading zero) works on every platform."""
    return day.strftime(pattern.replace("%-d", str(day.day)))


def values_for(agency: str, links: Iterable[str], day: date, place: str, date_format: str = DATE_FORMAT) -> Values:
    """The values for one use: the entry's first link, the day in the agency's format, the place."""
    first = next((link for link in links if link), "")
    return Values(agency=agency, link=first, date=format_date(day, date_format), place=place)


def place_for(evidence: Iterable[str], places: Iterable[str], default: str) -> str:
    """The configured place (from the watches' `places`) that the incident's posts name most, else `default`."""
    texts = [t.lower() for t in evidence]
    counts = {p: sum(bool(re.search(rf"\b{re.escape(p.lower())}\b", t)) for t in texts) for p in places if p}
    best = max(counts.items(), key=lambda kv: (kv[1], len(kv[0])), default=("", 0))
    return best[0] if best[1] else default

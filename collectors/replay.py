"""Replay posts from JSONL / CSV files (optionally gzipped) on an accelerated clock.

The same code imports a real export or backfill (`speed = 0`: every row at once, timestamps kept) and
drives the demo (`speed = 60`: one simulated hour per real minute). A row gives either an absolute
`created_at` or `t`, seconds since the scenario's start; `t` rows are laid on the wall clock so that the
point `start_at_hours` into the scenario is "now" at the first run, and everything before it arrives at once
as history. The cursor records the row reached and the simulated clock, so a restart resumes where it was.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from collectors.base import DIRECTIONS, PUBLIC, BadPayload, Batch, Post, Quarantined, count
from collectors.kinds import SourceKind
from core.settings_base import SourceSettings
from core.times import parse_time as parse_time

POST_FIELDS = ("platform", "post_id", "text")
INT_FIELDS = ("like_count", "repost_count", "reply_count", "quote_count")
REF_FIELDS = ("reply_to_id", "repost_of_id", "quote_of_id")
OPTIONAL_TEXT = ("url", "author_id", "author_handle", "lang", *REF_FIELDS)


class ReplaySettings(SourceSettings):
    kind: Literal["replay"] = "replay"
    path: Path
    platform: str = "import"  # used for rows that do not name their platform
    speed: float = 0.0  # simulated seconds per real second; 0 imports every row at once
    start_at_hours: float = 0.0  # with speed > 0: rows before this point arrive at once as history
    drives_clock: bool = False  # the engine's clock follows this replay (the demo)
    batch_size: int = 5000
    max_catch_up_seconds: float = 10.0  # after downtime, resume the replay instead of jumping ahead


@dataclass(frozen=True, slots=True)
class ReplayCursor:
    line: int  # rows consumed
    anchor: datetime  # the wall-clock time that scenario t = 0 maps to
    sim: datetime  # the simulated clock at the last fetch
    wall: datetime  # the real time of the last fetch

    def dumps(self) -> str:
        return json.dumps(asdict(self), default=str)

    @classmethod
    def loads(cls, text: str) -> ReplayCursor:
        d = json.loads(text)
        return cls(d["line"], *(datetime.fromisoformat(d[k]) for k in ("anchor", "sim", "wall")))


def to_post(row: dict[str, Any], anchor: datetime, platform: str) -> Post:
    """Map one replay row to a `Post`; raises ValueError / TypeError with the reason when it cannot."""
    if not isinstance(row, dict):
        raise TypeError(f"expected an object, got {type(row).__name__}")
    missing = [k for k in ("post_id", "text") if row.get(k) in (None, "")]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if row.get("created_at") not in (None, ""):
        created = parse_time(row["created_at"])
    elif row.get("t") not in (None, ""):
        created = anchor + timedelta(seconds=float(row["t"]))
    else:
        raise ValueError("missing created_at (or t)")
    optional: dict[str, Any] = {  # Post's optional fields, by name as the file's columns are
        **{k: _text_or_none(row.get(k)) for k in OPTIONAL_TEXT}, **{k: count(row.get(k)) for k in INT_FIELDS}}
    return Post(
        platform=str(row.get("platform") or platform),
        post_id=str(row["post_id"]),
        text=str(row["text"]),
        created_at=created,
        **optional,
        raw=row,
        direction=_direction(row.get("direction")),
    )


def _direction(value: Any) -> str:
    """A row's `direction` (to_agency, by_agency or public); public when absent."""
    if value in (None, ""):
        return PUBLIC
    if value not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {value!r}")
    return str(value)


def _text_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def to_posts(rows: list[Any], anchor: datetime, platform: str) -> tuple[list[Post], list[Quarantined]]:
    posts, bad = [], []
    for row in rows:
        try:
            posts.append(to_post(row, anchor, platform))
        except (ValueError, TypeError, OverflowError) as e:
            bad.append(Quarantined(reason=f"replay row: {e}", raw=row))
    return posts, bad


def read_rows(path: Path) -> Iterator[Any]:
    """Rows of a .jsonl / .csv file (optionally .gz); a line that is not JSON becomes a quarantine marker."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
        stem = path.name.removesuffix(".gz")
        if stem.endswith(".csv"):
            yield from csv.DictReader(f)
            return
        for line in f:
            if line.strip():
                yield _decode(line)


def _decode(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        return {"_undecodable": line[:10_000], "_error": str(e)}


class ReplayCollector:
    kind = "replay"

    def __init__(self, name: str, settings: ReplaySettings, base_dir: Path,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.name = name
        self.settings = settings
        self.path = settings.path if settings.path.is_absolute() else base_dir / settings.path
        self._wall = wall
        self._rows: Iterator[Any] | None = None
        self._position = -1
        self._cursor: ReplayCursor | None = None
        if not self.path.exists():
            raise BadPayload(f"replay file {self.path} does not exist; check sources.{name}.path")

    def now(self) -> datetime | None:
        """The simulated clock (None before the first fetch)."""
        return None if self._cursor is None else self._advance(self._cursor, self._wall())

    def fetch(self, cursor: str | None) -> Batch:
        state = ReplayCursor.loads(cursor) if cursor else self._first_cursor()
        wall = self._wall()
        sim = self._advance(state, wall)
        rows = self._rows_from(state.line)
        taken: list[Any] = []
        for row in islice(rows, self.settings.batch_size):
            taken.append(row)
            if self.settings.speed and self._row_time(row, state.anchor) > sim:
                break
        due = taken if not self.settings.speed or not taken else self._due(taken, state.anchor, sim)
        self._position = state.line + len(due)
        if len(due) < len(taken):  # the first not-yet-due row was read ahead; reopen there next time
            self._rows = None
        broken = [r for r in due if isinstance(r, dict) and "_undecodable" in r]
        posts, bad = to_posts([r for r in due if not (isinstance(r, dict) and "_undecodable" in r)], state.anchor,
                              self.settings.platform)
        bad += [Quarantined(reason=f"replay line not JSON: {r['_error']}", raw=r) for r in broken]
        self._cursor = ReplayCursor(self._position, state.anchor, sim, wall)
        more = len(due) == self.settings.batch_size
        return Batch(posts=posts, next_cursor=self._cursor.dumps(), more=more, quarantined=bad)

    def _due(self, taken: list[Any], anchor: datetime, sim: datetime) -> list[Any]:
        return taken if self._row_time(taken[-1], anchor) <= sim else taken[:-1]

    def _row_time(self, row: Any, anchor: datetime) -> datetime:
        try:
            return to_post(row, anchor, self.settings.platform).created_at
        except (ValueError, TypeError, OverflowError):
            return datetime.min.replace(tzinfo=UTC)  # undecodable rows are due at once (and quarantined)

    def _first_cursor(self) -> ReplayCursor:
        wall = self._wall()
        anchor = wall - timedelta(hours=self.settings.start_at_hours)
        return ReplayCursor(0, anchor, wall, wall)

    def _advance(self, state: ReplayCursor, wall: datetime) -> datetime:
        elapsed = min(max((wall - state.wall).total_seconds(), 0.0), self.settings.max_catch_up_seconds)
        return state.sim + timedelta(seconds=elapsed * self.settings.speed)

    def _rows_from(self, line: int) -> Iterator[Any]:
        if self._rows is None or self._position != line:
            self._rows = islice(read_rows(self.path), line, None)
        return self._rows


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(ReplaySettings, lambda name, s, ctx: ReplayCollector(name, s, ctx.base_dir, ctx.wall))

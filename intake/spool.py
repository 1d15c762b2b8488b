"""The spool: append-only JSON-lines files, one per UTC day, written and fsynced before a sender is answered.

The intake process only appends; the engine's `intake` source reads complete lines from its committed cursor
(file name + byte offset) and deletes files that lie wholly before that cursor and are older than a day, so nothing
is lost between the two processes and nothing stays on disk longer than it takes to collect.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SUFFIX = ".jsonl"


class Spool:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def append(self, item: dict[str, Any], now: datetime | None = None) -> str:
        """Write one item durably; returns its id (the item's own `id`, or a new random one)."""
        now = now or datetime.now(UTC)
        item = {"id": item.get("id") or f"{item.get('channel', 'item')}-{secrets.token_hex(8)}",
                "received_at": now.isoformat(), **{k: v for k, v in item.items() if k != "id"}}
        line = json.dumps(item, ensure_ascii=False) + "\n"
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.folder / f"{now:%Y-%m-%d}{SUFFIX}"
        with self._lock, open(path, "a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # several intake workers may share the folder
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        return str(item["id"])


@dataclass(frozen=True)
class Position:
    file: str = ""
    offset: int = 0


def read(folder: Path, position: Position, limit: int) -> tuple[list[bytes], Position, bool]:
    """Up to `limit` complete lines after `position`, the position after them, and whether more are waiting."""
    lines: list[bytes] = []
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.exists() else []:
        if path.name < position.file:
            continue
        offset = position.offset if path.name == position.file else 0
        with open(path, "rb") as f:
            f.seek(offset)
            for line in f:
                if not line.endswith(b"\n") or len(lines) >= limit:  # a line being written, or the batch is full
                    return lines, position, len(lines) >= limit
                lines.append(line)
                offset += len(line)
                position = Position(path.name, offset)
    return lines, position, False


def remove_collected(folder: Path, committed: Position, now: datetime, keep: timedelta = timedelta(days=1)) -> int:
    """Delete spool files wholly before the committed position and older than `keep`; returns how many."""
    removed = 0
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.exists() else []:
        day = datetime.strptime(path.stem, "%Y-%m-%d").replace(tzinfo=UTC)
        if path.name < committed.file and day + timedelta(days=1) + keep <= now:
            path.unlink(missing_ok=True)
            removed += 1
    return removed

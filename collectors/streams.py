"""A buffer between a long-lived stream (a library's background thread) and the engine's periodic fetch.

The stream thread `put`s raw messages as they arrive; each fetch `drain`s them. The buffer is bounded: if the
engine falls behind, the oldest messages are dropped and counted (shown with the run) rather than growing
without limit. A stream that dies records why (`fail`), and the next fetch reports it and starts over.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from collectors.base import CollectorError


class StreamBuffer:
    def __init__(self, limit: int = 50_000) -> None:
        self._items: deque[Any] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._arrived = threading.Event()
        self.dropped = 0
        self.error: CollectorError | None = None

    def put(self, item: Any) -> None:
        with self._lock:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(item)
        self._arrived.set()

    def fail(self, error: CollectorError) -> None:
        self.error = error
        self._arrived.set()

    def drain(self, wait: float = 0.0) -> list[Any]:
        """Everything buffered; waits up to `wait` seconds for the first item when there is none yet."""
        if wait > 0 and not self._items and self.error is None:
            self._arrived.wait(wait)
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self._arrived.clear()
        return items

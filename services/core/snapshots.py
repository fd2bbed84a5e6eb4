"""A small snapshot cache for expensive read models (the dashboard): fresh enough, never slow twice.

Each key's value is kept for ``ttl`` seconds. After that the next reader still gets the old
value at once while one background thread computes the new one (stale-while-revalidate);
only a key never computed before makes its reader wait, and concurrent readers of it wait
for the same computation instead of each running their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

log = logging.getLogger(__name__)


class SnapshotCache:
    def __init__(self, *, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl  # 0 turns caching off
        self._now = clock  # seconds; tests pass their own to expire a snapshot without sleeping
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._refreshing: set[Hashable] = set()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The key's value, computing it now only if there is none yet."""
        if self.ttl <= 0:
            return compute()
        entry = self._entries.get(key)
        if entry is not None:
            if self._now() - entry[0] > self.ttl:
                self._refresh_in_background(key, compute)
            return entry[1]
        with self._lock_of(key):
            entry = self._entries.get(key)
            if entry is None:
                entry = (self._now(), compute())
                self._entries[key] = entry
            return entry[1]

    def _lock_of(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def warm(self, key: Hashable, compute: Callable[[], Any]) -> None:
        """Compute a key in the background now, so that its first reader does not wait."""
        self._refresh_in_background(key, compute)

    def _refresh_in_background(self, key: Hashable, compute: Callable[[], Any]) -> None:
        with self._guard:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def refresh() -> None:
            try:
                # Under the key's lock: a first reader arriving meanwhile waits for this result.
                with self._lock_of(key):
                    self._entries[key] = (self._now(), compute())
            except Exception:
                # The old snapshot stays; the next reader after the ttl tries again.
                log.exception("refreshing the snapshot %r failed", key)
            finally:
                with self._guard:
                    self._refreshing.discard(key)

        threading.Thread(target=refresh, name=f"snapshot-{key}", daemon=True).start()

"""A hit counter shared by worker threads."""
import threading
import time


class Counter:
    """Counts hits per key."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Add one hit to key."""
        with self._lock:
            current = self._counts.get(key, 0)
            time.sleep(0)  # stands in for real work between the read and the write
            self._counts[key] = current + 1

    def get(self, key: str) -> int:
        """Hits recorded for key."""
        with self._lock:
            return self._counts.get(key, 0)

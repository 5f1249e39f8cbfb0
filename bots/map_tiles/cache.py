"""Tiles kept on disk, shared by every Lookout process on the host, bounded in size.

One file per tile under a folder per tile server (a hash of its URL template,
so changing servers never mixes their tiles). Files are written to a temporary
name and renamed into place, so a process reading while another writes sees
the whole old tile, the whole new one, or none. When the folder grows past its
budget the oldest tiles go first, down to nine tenths of it.

A tile is used for ``MAX_AGE`` after it was fetched: the OpenStreetMap tile
policy asks clients without their own rule to keep tiles at least seven days,
and a week-old street map is as good as today's for an alert's preview.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

MAX_AGE_SECONDS = 7 * 24 * 3600
_SHRINK_TO = 0.9


class TileCache:
    def __init__(
        self, directory: Path, template: str, *, max_bytes: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._root = directory
        self._folder = directory / hashlib.sha256(template.encode()).hexdigest()[:16]
        self._max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._size: int | None = None  # what this process believes the folder holds; measured again when over budget

    def path(self, z: int, x: int, y: int) -> Path:
        return self._folder / str(z) / str(x) / f"{y}.tile"

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes while it is fresh, else None."""
        path = self.path(z, x, y)
        try:
            if self._clock() - path.stat().st_mtime > MAX_AGE_SECONDS:
                return None
            return path.read_bytes()
        except OSError:  # not there, or removed by another process's trimming meanwhile
            return None

    def put(self, z: int, x: int, y: int, content: bytes) -> None:
        path = self.path(z, x, y)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        with self._lock:
            self._size = self._measure() if self._size is None else self._size + len(content)
            if self._size > self._max_bytes:
                self._size = self._trim()

    def _files(self) -> list[tuple[float, int, Path]]:
        found = []
        for path in self._root.rglob("*.tile"):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((stat.st_mtime, stat.st_size, path))
        return found

    def _measure(self) -> int:
        return sum(size for _, size, _ in self._files())

    def _trim(self) -> int:
        """Drop the oldest tiles (of every server) until the cache is back under nine tenths of its budget."""
        files = sorted(self._files())
        total = sum(size for _, size, _ in files)
        for _, size, path in files:
            if total <= self._max_bytes * _SHRINK_TO:
                break
            path.unlink(missing_ok=True)
            total -= size
        return total

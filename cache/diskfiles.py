"""The cache's files on disk: bytes only (never pickle), private dirs, bounded waits, and a
fresh start when a file is unreadable instead of an app that cannot start."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import diskcache

log = logging.getLogger(__name__)

T = TypeVar("T")

# What a diskcache call may raise. ValueError: BytesOnlyDisk refusing a row that is not
# ours (e.g. a pickle).
DISK_ERRORS: tuple[type[BaseException], ...] = (
    diskcache.Timeout,
    sqlite3.Error,
    OSError,
    ValueError,
)


class BytesOnlyDisk(diskcache.Disk):  # type: ignore[misc]
    """diskcache serialization that stores our encoded bytes as they are and never pickles.

    diskcache pickles any value that is not bytes/str/int/float and unpickles on read
    (CVE-2025-69872): this disk refuses to store anything but ``str`` keys and ``bytes``
    values, and refuses to read a pickled row written by anything else.
    """

    def put(self, key: Any) -> tuple[Any, bool]:
        if type(key) is not str:
            raise TypeError(f"disk cache keys are str, not {type(key).__name__}")
        return super().put(key)  # type: ignore[no-any-return]

    def get(self, key: Any, raw: bool) -> Any:
        if not raw:
            raise ValueError("refusing to unpickle a disk cache key")
        return key

    def store(self, value: Any, read: bool, key: Any = diskcache.core.UNKNOWN) -> Any:
        if read or type(value) is not bytes:
            raise TypeError(f"disk cache values are bytes, not {type(value).__name__}")
        return super().store(value, read, key=key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode not in (diskcache.core.MODE_RAW, diskcache.core.MODE_BINARY) or read:
            raise ValueError("refusing to read a disk cache row that is not plain bytes")
        return super().fetch(mode, filename, value, read)


class BoundedCache(diskcache.Cache):  # type: ignore[misc]
    """A ``diskcache.Cache`` whose every wait for a lock is bounded by ``timeout``.

    diskcache retries a locked write in ``__init__`` and ``reset`` for 60 s, whatever the
    timeout: an app starting while another process holds the cache would hang for a
    minute. Here those retries stop after ``timeout`` too.
    """

    def __init__(self, directory: str, timeout: float, **settings: Any) -> None:
        self._retry_limit = timeout
        super().__init__(directory, timeout=timeout, **settings)

    @property
    def _sql_retry(self) -> Callable[..., Any]:
        sql = self._sql
        limit = self._retry_limit

        def execute(statement: str, *args: Any, **kwargs: Any) -> Any:
            start = time.monotonic()
            while True:
                try:
                    return sql(statement, *args, **kwargs)
                except sqlite3.OperationalError as exc:
                    if str(exc) != "database is locked" or time.monotonic() - start > limit:
                        raise
                    time.sleep(0.001)

        return execute


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700: other users must not read the cache."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if stat.S_IMODE(path.stat().st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def is_corrupt(exc: BaseException) -> bool:
    """Whether ``exc`` says the file is damaged (not merely locked or not permitted)."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def open_or_start_over(
    directory: Path, what: str, opener: Callable[[Path], T]
) -> tuple[T, str | None]:
    """``opener(directory)``, or a fresh start when that fails, and what happened.

    A damaged file (``file is not a database``) is moved aside to
    ``<directory>.unreadable-<time>`` (kept for a look, never deleted) and an empty one
    takes its place. A directory that can't be opened for another reason (locked by
    another process, no permission) is left alone and this process uses a temporary one.
    Either way the app starts, and the returned notice says so (logged as a warning).

    Raises:
        Exception: only when not even a temporary directory can be opened.
    """
    try:
        return opener(directory), None
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        if is_corrupt(exc):
            stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
            aside = directory.with_name(f"{directory.name}.unreadable-{stamp}-{os.getpid()}")
            try:
                os.replace(directory, aside)
                opened = opener(directory)
            except Exception as again:
                reason += f"; moving it aside failed too ({type(again).__name__}: {again})"
            else:
                notice = (
                    f"The {what} at {directory} could not be read ({reason}); it was moved "
                    f"aside to {aside} and the cache started empty"
                )
                log.warning("cache: %s", notice)
                return opened, notice
        temporary = Path(tempfile.mkdtemp(prefix=f"purplecross-{directory.name}-"))
        notice = (
            f"The {what} at {directory} could not be opened ({reason}); this process uses "
            f"a temporary one at {temporary} until it restarts"
        )
        log.warning("cache: %s", notice)
        return opener(temporary), notice

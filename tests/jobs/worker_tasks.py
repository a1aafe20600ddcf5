"""Task kinds for the worker-process tests; effects go to a SQLite file named by an env var.

``runs`` gets a row per execution; ``effects`` a row per idempotency key (the effect a
real task protects with its key), so a test can tell re-runs from double effects.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from jobs.platform import JobPlatform, TaskSpec

EFFECTS_ENV = "PC_TEST_EFFECTS"


def init_effects(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("pragma journal_mode=wal")
        con.execute("create table if not exists runs (key text, pid integer, at real)")
        con.execute("create table if not exists effects (key text primary key)")


def _record(key: str) -> None:
    with sqlite3.connect(os.environ[EFFECTS_ENV], timeout=30) as con:
        con.execute("insert into runs values (?, ?, ?)", (key, os.getpid(), time.time()))
        con.execute("insert or ignore into effects values (?)", (key,))


def effect(key: str) -> str:
    _record(key)
    return key


def slow_effect(key: str, seconds: float) -> str:
    with sqlite3.connect(os.environ[EFFECTS_ENV], timeout=30) as con:
        con.execute(
            "insert into runs values (?, ?, ?)", ("started:" + key, os.getpid(), time.time())
        )
    time.sleep(seconds)
    _record(key)
    return key


def register(platform: JobPlatform) -> None:
    platform.register(TaskSpec("test.effect", effect, "email"))
    platform.register(TaskSpec("test.slow", slow_effect, "email"))
    platform.register(TaskSpec("test.slow_once", slow_effect, "email", repeatable=False))


def runs(path: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(path, timeout=30) as con:
        return [(k, p) for k, p in con.execute("select key, pid from runs")]


def effects(path: Path) -> list[str]:
    with sqlite3.connect(path, timeout=30) as con:
        return [k for (k,) in con.execute("select key from effects")]

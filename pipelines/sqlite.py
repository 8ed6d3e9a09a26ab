"""The one way banwave opens its SQLite stores (seen pages, dedupe signatures, thread openers, alert journal)."""
from __future__ import annotations

import sqlite3
from pathlib import Path


def open_store(path: str | Path, schema: str) -> sqlite3.Connection:
    """Open (creating the directory) a store shared by processes and threads, with ``schema`` applied.

    Autocommit (``isolation_level=None``): each write is durable at once, so a killed crawl never
    loses what it recorded. WAL lets readers in other processes go on while one writes, and the
    30 s timeout waits out another process's write instead of failing. Callers serialise their own
    writes across threads (``check_same_thread=False``: Scrapy's thread pool may call them).
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema)
    return db

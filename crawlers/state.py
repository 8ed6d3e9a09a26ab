"""Crawl state that survives between runs: which content pages were already fetched.

One SQLite file per source (``<BANWAVE_DATA_DIR>/crawl/<source>/seen.sqlite``)
records each article or thread page once its items were handed on, which
pages of each forum thread were fetched, and how many pages each thread links to. Listing, feed, sitemap and board pages
are never recorded: they are fetched on every run.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from scrapy.dupefilters import RFPDupeFilter

from pipelines.canonical import canonical_url
from pipelines.sqlite import open_store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,          -- canonical URL (pipelines.canonical), the identity of document ids
    fetched_at TEXT NOT NULL       -- ISO 8601 UTC
);
CREATE TABLE IF NOT EXISTS thread_pages (
    thread_id TEXT NOT NULL,
    page INTEGER NOT NULL,
    PRIMARY KEY (thread_id, page)
);
CREATE TABLE IF NOT EXISTS thread_known (
    thread_id TEXT PRIMARY KEY,
    pages INTEGER NOT NULL         -- the highest page number the thread's own pages link to
);
"""


def source_dir(data_dir: str | Path, source: str) -> Path:
    """Per-source state directory under the data dir."""
    return Path(data_dir) / "crawl" / source


class SeenStore:
    """SQLite store of fetched content pages and thread page counts for one source."""

    def __init__(self, path: str | Path):
        self._db = open_store(path, _SCHEMA)

    def seen(self, url: str) -> bool:
        return self._db.execute("SELECT 1 FROM pages WHERE url = ?", (canonical_url(url),)).fetchone() is not None

    def mark(self, url: str, thread_id: str | None = None, thread_page: int | None = None) -> None:
        """Record a content page as fetched and handed on (and which thread page it was)."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._db.execute("INSERT OR REPLACE INTO pages (url, fetched_at) VALUES (?, ?)", (canonical_url(url), now))
        if thread_id is not None and thread_page is not None:
            self._db.execute("INSERT OR IGNORE INTO thread_pages (thread_id, page) VALUES (?, ?)",
                             (thread_id, thread_page))

    def thread_pages(self, thread_id: str) -> int:
        """How many pages of a thread were fetched without a gap from page 1 (0 if none).

        A page that failed in between keeps the count below it, so the next run
        walks the thread again from there.
        """
        pages = self._db.execute("SELECT page FROM thread_pages WHERE thread_id = ? ORDER BY page", (thread_id,))
        count = 0
        for (page,) in pages:
            if page != count + 1:
                break
            count = page
        return count

    def note_pages(self, thread_id: str, pages: int) -> None:
        """Remember that a thread has at least ``pages`` pages (from its pagination links): the board
        may not say so, and a later page that failed or was lost with a killed crawl's queue must
        still be fetched next time."""
        self._db.execute("INSERT INTO thread_known (thread_id, pages) VALUES (?, ?) ON CONFLICT (thread_id) "
                         "DO UPDATE SET pages = max(pages, excluded.pages)", (thread_id, pages))

    def known_pages(self, thread_id: str) -> int:
        row = self._db.execute("SELECT pages FROM thread_known WHERE thread_id = ?", (thread_id,)).fetchone()
        return row[0] if row else 0

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM pages").fetchone()[0]

    def close(self) -> None:
        self._db.close()


class RunDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter, kept in memory only, even with JOBDIR.

    The stock filter persists fingerprints in the job dir, which would stop the
    next scheduled run from fetching listing pages again, and would drop pages
    that were in flight when a crawl was killed. Cross-run skipping is the
    SeenStore's job; this filter only removes duplicates within one run.
    """

    @classmethod
    def from_crawler(cls, crawler):
        return cls(None, crawler.settings.getbool("DUPEFILTER_DEBUG"), fingerprinter=crawler.request_fingerprinter)


class RedisSeenStore:
    """The SeenStore's records in Redis, shared by every worker of the frontier (BANWAVE_REDIS_URL).

    Keys under ``<prefix>:src:<source>:``: ``seen`` (hash canonical URL -> fetched at), ``tpages:<thread>``
    (set of fetched page numbers), ``tknown`` (hash thread -> highest linked page). Same interface
    and the same rule as :class:`SeenStore`: a page is marked once its items are handed on.
    """

    _NOTE = ("local v = redis.call('HGET', KEYS[1], ARGV[1]) "
             "if not v or tonumber(v) < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end")

    def __init__(self, server, prefix: str, source: str):
        self.server = server
        self.base = f"{prefix}:src:{source}"
        self._note = server.register_script(self._NOTE)

    @classmethod
    def connect(cls, env, source: str) -> "RedisSeenStore":
        from crawlers.frontier import connect

        return cls(connect(env), env.index_prefix, source)

    def seen(self, url: str) -> bool:
        return bool(self.server.hexists(f"{self.base}:seen", canonical_url(url)))

    def mark(self, url: str, thread_id: str | None = None, thread_page: int | None = None) -> None:
        pipe = self.server.pipeline()
        pipe.hset(f"{self.base}:seen", canonical_url(url), datetime.now(timezone.utc).isoformat(timespec="seconds"))
        if thread_id is not None and thread_page is not None:
            pipe.sadd(f"{self.base}:tpages:{thread_id}", thread_page)
        pipe.execute()

    def thread_pages(self, thread_id: str) -> int:
        pages = {int(p) for p in self.server.smembers(f"{self.base}:tpages:{thread_id}")}
        count = 0
        while count + 1 in pages:
            count += 1
        return count

    def note_pages(self, thread_id: str, pages: int) -> None:
        self._note(keys=[f"{self.base}:tknown"], args=[thread_id, pages])

    def known_pages(self, thread_id: str) -> int:
        value = self.server.hget(f"{self.base}:tknown", thread_id)
        return int(value) if value is not None else 0

    def count(self) -> int:
        return self.server.hlen(f"{self.base}:seen")

    def close(self) -> None:
        self.server.close()

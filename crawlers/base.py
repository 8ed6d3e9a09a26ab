"""What the news and forum spiders share: loading their source, state, errors, raw items.

A spider is built for one source: ``scrapy crawl news -a source=NAME``. It
reads the sources file of the crawl's environment (``config.crawl_env``:
BANWAVE_SOURCES), applies the source's politeness overrides, opens the
source's SeenStore and, with BANWAVE_RESUME, keeps a Scrapy job dir so an
interrupted crawl resumes (both under <data dir>/crawl/<source>/); a job dir
left by a killed crawl is discarded (``JobDir``).
"""
from __future__ import annotations

import fcntl
import logging
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Callable
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import (CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError,
                               DownloadFailedError, DownloadTimeoutError, IgnoreRequest,
                               ResponseDataLossError, UsageError)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure

import config
from crawlers.guard import UnsafeDestination
from crawlers.links import LinkRules
from crawlers.middlewares import AlreadyFetched, RedirectLoop
from crawlers.sources import Source, get_source, load_sources
from crawlers.frontier import REQUEST_HANDLED
from crawlers.state import RedisSeenStore, SeenStore, source_dir
from crawlers.stop import stop_reason

logger = logging.getLogger(__name__)

# the message of Scrapy's RobotsTxtMiddleware when robots.txt disallows a request
ROBOTS_REFUSAL = "Forbidden by robots.txt"

# failure type -> banwave/errors/<kind>, checked in order; Twisted's errors for other download handlers
_ERROR_KINDS: list[tuple[tuple[type[BaseException], ...], str]] = [
    ((RedirectLoop,), "redirect_loop"),
    ((UnsafeDestination,), "unsafe_destination"),
    ((DownloadTimeoutError, TimeoutError, TCPTimedOutError), "timeout"),
    ((DownloadCancelledError,), "too_large"),  # DOWNLOAD_MAXSIZE reached
    ((CannotResolveHostError, DNSLookupError), "dns"),
    ((DownloadConnectionRefusedError, ConnectionRefusedError), "connection_refused"),
    ((ResponseDataLossError,), "truncated"),
    ((DownloadFailedError,), "download_failed"),
]


class JobDir:
    """A source's Scrapy job dir, used by one crawl at a time, and discarded after an unclean end.

    Scrapy writes the disk queue's state only when the crawl closes; a crawl
    killed before that leaves queue files whose headers were never flushed (an
    empty file makes every push to that queue fail, so the next crawl quietly
    fetches nothing) and no matching ``active.json``. A ``running`` mark lives
    in the job dir from the start of a crawl until its engine stopped; finding
    it at the start means the last crawl ended uncleanly, and its request queue
    and spider state are discarded: the pages it held are found again from the
    start points, and those already recorded are skipped. A ``flock`` on
    ``job.lock`` keeps a second crawl of the same source out of the job dir.
    """

    def __init__(self, path: Path, source: str):
        self.path = path
        self.mark = path / "running"
        path.mkdir(parents=True, exist_ok=True)
        self._lock = open(path.parent / "job.lock", "a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise UsageError(f"another crawl of source {source!r} is running (job dir {path})") from None
        if self.mark.exists():
            logger.warning("source %s: its last crawl did not close cleanly (killed?): the request queue in %s is "
                           "discarded; its pages are found again from the start points", source, path)
            shutil.rmtree(path / "requests.queue", ignore_errors=True)
            (path / "spider.state").unlink(missing_ok=True)
        self.mark.write_text(f"{os.getpid()}\n")

    def closed(self) -> None:
        """The engine stopped: Scrapy has written the queue state, so the job dir is consistent."""
        self.mark.unlink(missing_ok=True)
        self._lock.close()


class SourceSpider(scrapy.Spider):
    """Base of the banwave spiders; subclasses set ``name``/``kind`` and the parse callbacks."""

    kind: str = ""
    source: Source
    store: SeenStore

    @classmethod
    def from_crawler(cls, crawler, *args: Any, source: str | None = None, **kwargs: Any):
        settings = crawler.settings
        if not source:
            raise UsageError(f"name the source to crawl: scrapy crawl {cls.name} -a source=NAME")
        env = config.settings_with_env(settings)
        sources_path, data_dir = env.sources, env.data_dir
        chosen = get_source(load_sources(sources_path), source)
        if chosen.kind != cls.kind:
            raise UsageError(f"source {chosen.name!r} is a {chosen.kind} source: "
                             f"scrapy crawl {chosen.kind} -a source={chosen.name}")
        if not chosen.enabled:
            raise UsageError(f"source {chosen.name!r} is disabled (enabled: false in {sources_path})")

        # Settings are frozen only after the spider is built, so per-source values still apply.
        for name, value in chosen.politeness.scrapy_settings().items():
            settings.set(name, value, priority="spider")
        if chosen.max_pages:
            settings.set("CLOSESPIDER_PAGECOUNT", chosen.max_pages, priority="spider")
        state_dir = source_dir(data_dir, chosen.name)
        # With the shared frontier (BANWAVE_REDIS_URL) Redis holds the queue: no job dir.
        if settings.getbool("BANWAVE_RESUME") and not env.redis_url:
            settings.set("JOBDIR", str(state_dir / "job"), priority="spider")  # -s JOBDIR=... still wins
        job = JobDir(Path(settings["JOBDIR"]), chosen.name) if settings.get("JOBDIR") else None

        store = (RedisSeenStore.connect(env, chosen.name) if env.redis_url
                 else SeenStore(state_dir / "seen.sqlite"))
        spider = super().from_crawler(crawler, *args, source=chosen, store=store, **kwargs)
        spider.frontier = bool(env.redis_url)
        spider.rules = LinkRules(chosen)
        spider.failed_pages = []
        spider.allowed_domains = sorted({urlsplit(p.url).hostname for p in chosen.start} | set(chosen.domains))
        crawler.signals.connect(spider._close_store, signal=signals.spider_closed)
        if job is not None:
            spider.job = job
            crawler.signals.connect(job.closed, signal=signals.engine_stopped)
        return spider

    def _close_store(self, spider: scrapy.Spider) -> None:
        self.store.close()

    async def start(self) -> AsyncIterator[Any]:
        """The start requests; with the shared frontier none: a worker queues them when the
        producer seeds a run (crawlers.frontier.FrontierScheduler)."""
        if self.frontier:
            return
        async for request in self.start_points():
            yield request

    def start_points(self) -> AsyncIterator[Any]:
        """The source's start requests (listing, feed, sitemap, board pages)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ requests

    def index_request(self, url: str, callback: Callable, depth: int, **meta: Any) -> scrapy.Request:
        """A listing/feed/sitemap/board page: fetched on every run."""
        return scrapy.Request(url, callback=callback, errback=self.on_error,
                              meta={"banwave_role": "index", "index_depth": depth, **meta})

    def content_request(self, url: str, callback: Callable, refresh: bool = False, **meta: Any) -> scrapy.Request:
        """An article or thread page: fetched once unless ``refresh``."""
        return scrapy.Request(url, callback=callback, errback=self.on_error,
                              meta={"banwave_role": "content", "banwave_url": url, "banwave_refresh": refresh, **meta})

    def on_error(self, failure: Failure) -> None:
        """Count and log a request that finally failed; never raise. The request is handled
        (REQUEST_HANDLED: its frontier lease goes) unless the stop cancelled it."""
        request = failure.request
        if stop_reason(self.crawler) and failure.check(DownloadCancelledError, CancelledError):
            # cancelled by the stop (crawlers.stop), not the site's fault; fetched next run (or, with
            # the shared frontier, by another worker: it stays taken until this one gives it back)
            self.crawler.stats.inc_value("banwave/skipped/stopped")
            logger.info("source %s: not fetched %s: the crawl is stopping", self.source.name, request.url)
            return
        self._count_failure(failure)
        self.crawler.signals.send_catch_log(REQUEST_HANDLED, request=request)

    def _count_failure(self, failure: Failure) -> None:
        if failure.check(AlreadyFetched):
            return
        request = failure.request
        if failure.check(HttpError):
            kind = f"http_{failure.value.response.status}"
        elif failure.check(IgnoreRequest) and hasattr(failure.value.__cause__, "decompressed_size"):
            # HttpCompressionMiddleware: a Content-Encoding body over DOWNLOAD_MAXSIZE once decompressed
            kind = "too_large"
        elif failure.check(IgnoreRequest) and not failure.check(RedirectLoop, UnsafeDestination):
            self.crawler.stats.inc_value("banwave/skipped/ignored")  # robots.txt, offsite, max redirects
            logger.info("source %s: not fetched %s: %s", self.source.name, request.url, failure.value)
            if ROBOTS_REFUSAL in str(failure.value):
                self.record_failed_page("robots", request.url)
            return
        else:
            kind = next((k for types, k in _ERROR_KINDS if failure.check(*types)), "other")
        self.count_error(kind, request.url, failure.getErrorMessage())

    def count_error(self, kind: str, url: str, detail: str = "") -> None:
        self.crawler.stats.inc_value(f"banwave/errors/{kind}")
        self.crawler.stats.inc_value("banwave/errors")
        logger.warning("source %s: %s for %s %s", self.source.name, kind, url, detail)
        self.record_failed_page(kind, url)

    def record_failed_page(self, reason: str, url: str) -> None:
        """Remember a page that was not fetched and why ("timeout http://…"): the run record lists
        them (pipelines/runs.py), so a relevant article lost to a size cap, a timeout or robots.txt
        shows in Kibana's Coverage panel, not only as a count."""
        self.failed_pages.append(f"{reason} {url}")

    # ------------------------------------------------------------------ items

    def page_usable(self, response: Response) -> bool:
        """True for a non-empty HTML page; other responses are counted as errors."""
        ctype = response.headers.get("Content-Type", b"").decode("latin-1").lower()
        looks_html = response.body[:1024].lstrip()[:1] == b"<"
        if (ctype and "html" not in ctype) or (not ctype and not looks_html):
            self.count_error("non_html", response.url, ctype)
            return False
        if not response.body.strip():
            self.count_error("empty", response.url)
            return False
        return True

    def raw_page(self, response: Response, page_kind: str, thread_id: str | None = None,
                 thread_page: int | None = None) -> dict[str, Any]:
        """The RAW PAGE item the extraction middleware turns into documents."""
        self.crawler.stats.inc_value(f"banwave/pages/{page_kind}")
        return {
            "url": response.url,
            "status": response.status,
            "headers": {k.decode("latin-1").lower(): b", ".join(response.headers.getlist(k)).decode("latin-1")
                        for k in response.headers},
            "body": response.body,
            "source": self.source.name,
            "source_kind": self.source.kind,
            "page_kind": page_kind,
            "thread_id": thread_id,
            "thread_page": thread_page,
            "rules": self.source.rules(),
            "lang": self.source.lang,
            "crawled_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    @staticmethod
    def is_text(response: Response) -> bool:
        return isinstance(response, TextResponse)

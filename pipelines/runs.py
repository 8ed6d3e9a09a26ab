"""Run records: one document per crawl of one source, in ``<prefix>-runs``, for the crawl-health view.

``RunRecorder`` (Scrapy extension) builds the record from the crawler stats when
the spider closes, after the item pipelines flushed (so indexed/spooled counts
are final), and delivers it like a document: indexed, or spooled when
Elasticsearch cannot take it. The status is also left in the stats
(``banwave/run/status``) for ``banwave crawl``'s summary and exit code.
"""
from __future__ import annotations

import logging
import socket
import uuid
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

import config
from pipelines.index import crawler_delivery

logger = logging.getLogger(__name__)

# close reasons of a crawl that ran its course (Scrapy's and CloseSpider's limits)
COMPLETED = frozenset({"finished", "closespider_pagecount", "closespider_itemcount", "closespider_timeout",
                       "closespider_errorcount"})


def run_status(stats: dict, reason: str) -> str:
    """``ok``; ``partial``: ran, some requests failed; ``failed``: interrupted, the site never
    answered (errors and no response at all), or a batch was neither indexed nor spooled."""
    errors = stats.get("banwave/errors", 0)
    never_answered = errors and not stats.get("response_received_count")
    if reason not in COMPLETED or stats.get("index/lost_batches") or never_answered:
        return "failed"
    return "partial" if errors else "ok"


def build_record(stats: dict, source: str, source_kind: str, reason: str, started_at: datetime,
                 finished_at: datetime, run_id: str, failed_pages: list[str] = ()) -> dict:
    """The runs-index document for one crawl, from its Scrapy stats and the pages it could not
    fetch ("reason url", the spider's ``failed_pages``)."""
    errors = {key.rsplit("/", 1)[1]: value for key, value in stats.items()
              if key.startswith("banwave/errors/") and value}
    pages = sum(value for key, value in stats.items() if key.startswith("banwave/pages/"))
    errors_total = stats.get("banwave/errors", sum(errors.values()))
    return {
        "run_id": run_id,
        "source": source,
        "source_kind": source_kind,
        "status": run_status(stats, reason),
        "finish_reason": reason,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "duration_s": round((finished_at - started_at).total_seconds(), 3),
        "pages": pages,
        "items": stats.get("item_scraped_count", 0),
        "dropped": stats.get("item_dropped_count", 0),
        "errors_total": errors_total,
        "errors": errors,
        "error_kinds": sorted(errors),
        "spooled": stats.get("index/spooled", 0),
        "indexed": stats.get("index/indexed", 0),
        "unchanged": stats.get("index/unchanged", 0),
        "dead_lettered": stats.get("index/dead_lettered", 0),
        "host": socket.gethostname(),
        "failed_pages": list(dict.fromkeys(failed_pages)),
    }


def failed_pages_of(spider, limit: int) -> list[str]:
    """The spider's failed pages ("reason url"; crawlers/base.py), at most ``limit`` of them."""
    pages = list(dict.fromkeys(getattr(spider, "failed_pages", ())))
    if len(pages) > limit:
        logger.info("run record lists %s of %s failed pages (RUNS_FAILED_PAGES_MAX)", limit, len(pages))
    return pages[:limit]


class RunRecorder:
    """Writes the run record of each crawl (Scrapy extension, on spider_opened / spider_closed)."""

    def __init__(self, crawler, delivery, runs_alias: str, failed_pages_max: int):
        self.crawler = crawler
        self.failed_pages_max = failed_pages_max
        self.delivery = delivery
        self.runs_alias = runs_alias
        self.started_at = datetime.now(timezone.utc)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("RUNS_ENABLED"):
            raise NotConfigured("RUNS_ENABLED is False")
        return cls(crawler, crawler_delivery(crawler), config.crawl_env(settings).runs_alias,
                   settings.getint("RUNS_FAILED_PAGES_MAX"))

    def spider_opened(self, spider) -> None:
        self.started_at = datetime.now(timezone.utc)

    async def spider_closed(self, spider, reason: str) -> None:
        source = getattr(spider, "source", None)
        name, kind = (source.name, source.kind) if source is not None else (spider.name, "")
        started = self.started_at
        run_id = f"{name}-{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        stats = self.crawler.stats
        record = build_record(stats.get_stats(), name, kind, reason, started, datetime.now(timezone.utc), run_id,
                              failed_pages_of(spider, self.failed_pages_max))
        stats.set_value("banwave/run/id", run_id)
        stats.set_value("banwave/run/status", record["status"])
        # In a thread: a down Elasticsearch costs retries, which must not freeze the reactor.
        outcome = await maybe_deferred_to_future(
            threads.deferToThread(self.delivery.deliver, [(self.runs_alias, run_id, record)]))
        where = "indexed" if outcome.indexed else "spooled" if outcome.transient else "dead-lettered"
        stats.set_value("banwave/run/record", where)
        logger.info("run %s of %s: %s; record %s", run_id, name, record["status"], where)

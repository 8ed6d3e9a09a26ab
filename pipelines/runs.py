"""Run records: one document per crawl of one source, in ``<prefix>-runs``, for the crawl-health view.

``RunRecorder`` (Scrapy extension) builds the record from the crawler stats when
the spider closes, after the item pipelines flushed (so indexed/spooled counts
are final), and delivers it like a document: indexed, or spooled when
Elasticsearch cannot take it. The status is also left in the stats
(``banwave/run/status``) for ``banwave crawl``'s summary and exit code.

A crawl the scheduler starts gets its run id (``-s RUNS_RUN_ID=...``) and a
:class:`RunLedger` entry under ``<data dir>/runs/``: the scheduler notes there
why it stops a crawl (its timeout, its own shutdown) before signalling it, the
crawl's record carries that ``stop_reason`` and, once delivered, the crawl
marks the entry done. A crawl that ends without doing so (SIGKILLed after the
grace time, crashed, could not start) gets its record from the scheduler
(``missing_record``), so Crawl health shows every run.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from datetime import datetime, timezone
from pathlib import Path

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
    """``ok``; ``partial``: ran, some requests failed; ``killed``: stopped by a signal (SIGTERM,
    Ctrl-C, the scheduler's timeout); ``failed``: closed for another reason, the site never answered
    (errors and no response at all), or a batch was neither indexed nor spooled."""
    errors = stats.get("banwave/errors", 0)
    never_answered = errors and not stats.get("response_received_count")
    if reason == "shutdown":
        return "killed"
    if reason not in COMPLETED or stats.get("index/lost_batches") or never_answered:
        return "failed"
    return "partial" if errors else "ok"


def roll_up(stats: dict) -> dict:
    """The counts of one crawl, from its Scrapy stats: the one roll-up the run record, the crawl's
    summary line read."""
    errors = {key.rsplit("/", 1)[1]: value for key, value in stats.items()
              if key.startswith("banwave/errors/") and value}
    return {
        "pages": sum(value for key, value in stats.items() if key.startswith("banwave/pages/")),
        "items": stats.get("item_scraped_count", 0),
        "dropped": stats.get("item_dropped_count", 0),
        "errors_total": stats.get("banwave/errors", sum(errors.values())),
        "errors": errors,
        "error_kinds": sorted(errors),
        "spooled": stats.get("index/spooled", 0),
        "indexed": stats.get("index/indexed", 0),
        "unchanged": stats.get("index/unchanged", 0),
        "dead_lettered": stats.get("index/dead_lettered", 0),
    }


def build_record(stats: dict, source: str, source_kind: str, reason: str, started_at: datetime,
                 finished_at: datetime, run_id: str, failed_pages: list[str] = ()) -> dict:
    """The runs-index document for one crawl, from its Scrapy stats and the pages it could not
    fetch ("reason url", the spider's ``failed_pages``)."""
    return {
        "run_id": run_id,
        "source": source,
        "source_kind": source_kind,
        "status": run_status(stats, reason),
        "finish_reason": reason,
        "stop_reason": stats.get("banwave/stop_reason"),
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "duration_s": round((finished_at - started_at).total_seconds(), 3),
        **roll_up(stats),
        "host": socket.gethostname(),
        "failed_pages": list(dict.fromkeys(failed_pages)),
    }


def missing_record(run_id: str, source: str, source_kind: str, status: str, stop_reason: str,
                   started_at: datetime, finished_at: datetime) -> dict:
    """The record the scheduler writes for a crawl that ended without writing its own."""
    return {"run_id": run_id, "source": source, "source_kind": source_kind, "status": status,
            "finish_reason": None, "stop_reason": stop_reason,
            "started_at": started_at.isoformat(timespec="seconds"),
            "finished_at": finished_at.isoformat(timespec="seconds"),
            "duration_s": round((finished_at - started_at).total_seconds(), 3), "host": socket.gethostname()}


class RunLedger:
    """``<data dir>/runs/<run id>.json`` (written by the scheduler: source, start, pid, stop reason)
    and ``<run id>.done`` (written by the crawl once its record was delivered)."""

    def __init__(self, data_dir: Path):
        self.dir = Path(data_dir) / "runs"

    def start(self, run_id: str, entry: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._write(run_id, entry)

    def note_stop(self, run_id: str, reason: str) -> None:
        """Record why the scheduler stops this crawl, before it signals it."""
        entry = self.entry(run_id)
        if entry is not None:
            self._write(run_id, {**entry, "stop_reason": reason})

    def entry(self, run_id: str) -> dict | None:
        try:
            return json.loads((self.dir / f"{run_id}.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def mark_done(self, run_id: str) -> None:
        (self.dir / f"{run_id}.done").touch()

    def done(self, run_id: str) -> bool:
        return (self.dir / f"{run_id}.done").exists()

    def finish(self, run_id: str) -> None:
        for suffix in (".json", ".done"):
            (self.dir / f"{run_id}{suffix}").unlink(missing_ok=True)

    def open_runs(self) -> list[str]:
        """Run ids of ledger entries not finished, oldest first (left by a scheduler that died)."""
        return sorted(path.stem for path in self.dir.glob("*.json")) if self.dir.is_dir() else []

    def _write(self, run_id: str, entry: dict) -> None:
        tmp = self.dir / f"{run_id}.json.tmp"
        tmp.write_text(json.dumps(entry), "utf-8")
        os.replace(tmp, self.dir / f"{run_id}.json")


def failed_pages_of(spider, limit: int) -> list[str]:
    """The spider's failed pages ("reason url"; crawlers/base.py), at most ``limit`` of them."""
    pages = list(dict.fromkeys(getattr(spider, "failed_pages", ())))
    if len(pages) > limit:
        logger.info("run record lists %s of %s failed pages (RUNS_FAILED_PAGES_MAX)", limit, len(pages))
    return pages[:limit]


class RunRecorder:
    """Writes the run record of each crawl (Scrapy extension, on spider_opened / spider_closed)."""

    def __init__(self, crawler, delivery, runs_alias: str, failed_pages_max: int, ledger: RunLedger,
                 run_id: str | None):
        self.crawler = crawler
        self.failed_pages_max = failed_pages_max
        self.delivery = delivery
        self.runs_alias = runs_alias
        self.ledger, self.run_id = ledger, run_id
        self.started_at = datetime.now(timezone.utc)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        config.check_settings(settings, "RUNS_")
        if not settings.getbool("RUNS_ENABLED"):
            raise NotConfigured("RUNS_ENABLED is False")
        env = config.crawl_env(settings)
        return cls(crawler, crawler_delivery(crawler), env.runs_alias, settings.getint("RUNS_FAILED_PAGES_MAX"),
                   RunLedger(env.data_dir), settings.get("RUNS_RUN_ID"))

    def spider_opened(self, spider) -> None:
        self.started_at = datetime.now(timezone.utc)

    async def spider_closed(self, spider, reason: str) -> None:
        source = getattr(spider, "source", None)
        name, kind = (source.name, source.kind) if source is not None else (spider.name, "")
        started = self.started_at
        run_id = self.run_id or f"{name}-{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        stats = self.crawler.stats
        noted = (self.ledger.entry(run_id) or {}).get("stop_reason") if self.run_id else None
        if noted and reason == "shutdown":  # stopped by the scheduler, which said why
            stats.set_value("banwave/stop_reason", noted)
        record = build_record(stats.get_stats(), name, kind, reason, started, datetime.now(timezone.utc), run_id,
                              failed_pages_of(spider, self.failed_pages_max))
        stats.set_value("banwave/run/id", run_id)
        stats.set_value("banwave/run/status", record["status"])
        # In a thread: a down Elasticsearch costs retries, which must not freeze the reactor.
        try:
            outcome = await maybe_deferred_to_future(
                threads.deferToThread(self.delivery.deliver, [(self.runs_alias, run_id, record)]))
        except OSError as exc:  # Elasticsearch did not take it and the disk failed
            logger.error("run %s of %s: %s; its record could be neither indexed nor spooled: %s",
                         run_id, name, record["status"], exc)
            stats.set_value("banwave/run/record", "lost")
            return
        where = "indexed" if outcome.indexed else "spooled" if outcome.transient else "dead-lettered"
        stats.set_value("banwave/run/record", where)
        if self.run_id:
            self.ledger.mark_done(run_id)
        logger.info("run %s of %s: %s%s; record %s", run_id, name, record["status"],
                    f" ({record['stop_reason']})" if record["stop_reason"] else "", where)

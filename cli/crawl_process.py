"""What every crawl process shares (``banwave crawl``, ``banwave worker``): the signal handling
that stops its crawls promptly (``Stopper``) and the one-line summary of each crawl."""
from __future__ import annotations

import logging
import os
import signal
import threading
import time

from scrapy.crawler import CrawlerProcess
from scrapy.utils.defer import deferred_from_coro

from crawlers.stop import request_stop, stop_reason
from pipelines.runs import roll_up, run_status

logger = logging.getLogger(__name__)

def status(stats: dict) -> str:
    """The run record's status (RunRecorder), or the same rule applied here when it is off."""
    return stats.get("banwave/run/status") or run_status(stats, stats.get("finish_reason", ""))


def summary(source: str, stats: dict, failure: str | None = None) -> str:
    """One line: status, pages, items, indexed, unchanged, spooled, errors by kind."""
    if failure:
        return f"{source}: failed: {failure}"
    counts = roll_up(stats)
    kinds = sorted(counts["errors"].items())
    detail = f" ({', '.join(f'{k} {v}' for k, v in kinds)})" if kinds else ""
    return (f"{source}: {status(stats)}, {counts['pages']} pages, {counts['items']} items, "
            f"{counts['indexed']} indexed, {counts['unchanged']} unchanged, {counts['spooled']} spooled, "
            f"{counts['dead_lettered']} dead-lettered, {counts['errors_total']} errors{detail}")


class Stopper:
    """SIGTERM and SIGINT handling of ``banwave crawl``, installed before anything else.

    The first signal stops the crawls: each running crawler gets ``crawlers.stop``'s STOPPING
    (downloads in flight are cancelled, retries stop waiting), then Scrapy's graceful stop, so
    the crawl closes within the scheduler's grace time with its batches flushed and its run
    record written; no further source starts. A signal before the crawls start (the NLP
    dictionaries take seconds to load) stops them as soon as they do. A second signal exits at
    once, like Scrapy's. Scrapy's own handlers are not installed: they would take over only
    once the reactor runs, and the default action before that killed the crawl without a trace.
    """

    def __init__(self):
        self.reason: str | None = None
        self.grace = 30.0  # SCHEDULER_KILL_GRACE once the settings are read
        self._orphaned = False
        self.crawlers: list = []
        self.process: CrawlerProcess | None = None
        self._parent = os.getppid()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame) -> None:
        name = signal.Signals(signum).name
        # With PR_SET_PDEATHSIG (scheduler.py) the signal may mean that the scheduler died. The kernel
        # sends it again at each reparenting (to another thread of the dying scheduler, then to init),
        # so a repeat that comes with a new parent is not a second Ctrl-C.
        orphan = os.getppid() != self._parent
        if self.reason is not None and not (orphan and not self._orphaned):
            os.write(2, b"banwave crawl: second signal, exiting at once\n")
            os._exit(128 + signum)
        first = self.reason is None
        self.reason = name
        if first and not orphan:
            # The first signal of a dying scheduler comes while its other threads still hold the crawl
            # (same parent pid), and the one sent at the reparenting to init can merge with it while
            # pending: give the parent a moment to go before deciding it is alive (0.3 s at most).
            deadline = time.monotonic() + 0.3
            while not orphan and time.monotonic() < deadline:
                time.sleep(0.01)
                orphan = os.getppid() != self._parent
        if orphan and not self._orphaned:
            self._note_orphan(name, signum)
        if self.process is not None:
            from twisted.internet import reactor  # installed by CrawlerProcess

            reactor.callFromThread(self._stop if first else self._restate)

    def _note_orphan(self, name: str, signum: int) -> None:
        """The scheduler died: say so, and (nobody will SIGKILL this crawl if its close hangs) exit
        by itself after the grace."""
        self.reason = f"{name}: its parent process died"
        self._orphaned = True
        watchdog = threading.Timer(self.grace, os._exit, (128 + signum,))
        watchdog.daemon = True  # a crawl that closes in time exits at once
        watchdog.start()

    def _restate(self) -> None:  # in the reactor
        for crawler in self.crawlers:  # those already stopping; the others take self.reason when they stop
            try:
                if crawler.crawling and stop_reason(crawler):
                    crawler.stats.set_value("banwave/stop_reason", self.reason)
            except RuntimeError:  # not built yet: no stats
                continue

    def _stop(self) -> None:  # in the reactor
        logger.info("%s: stopping the crawl; `banwave crawl` again resumes it", self.reason)
        for crawler in self.crawlers:
            self._stop_crawler(crawler)

    def _stop_crawler(self, crawler) -> None:
        if not crawler.crawling:
            return  # not started (crawl_all starts no further source) or finished
        try:
            running = crawler.engine.running
        except RuntimeError:  # no engine yet: the crawler is still being built
            running = False
        if not running:  # Scrapy's stop would only mark it stopped; try again once its engine runs
            from twisted.internet import reactor

            reactor.callLater(0.1, self._stop_crawler, crawler)
            return
        request_stop(crawler, self.reason)
        deferred_from_coro(crawler.stop_async())


def stop_reactor(_) -> None:
    from twisted.internet import reactor  # imported late: the first crawl installs the configured reactor

    if reactor.running:
        reactor.stop()

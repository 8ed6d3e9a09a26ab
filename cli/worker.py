"""``banwave worker``: crawl requests of any source from the shared Redis frontier (BANWAVE_REDIS_URL).

    banwave worker                      # until SIGTERM / Ctrl-C
    banwave worker --until-idle 20      # exit once no source had work for 20 s (tests, benches, batch jobs)

Start any number of them on any machines with the same environment (Redis,
Elasticsearch, index prefix, sources file). A worker polls the frontier
(crawlers/frontier.py): for each source with work (queued requests or a run
seed from the producer, `banwave schedule` or `banwave crawl`) it starts that
source's spider in its one Scrapy process, through the same pipelines as a
single-process crawl (extract, clean, NLP, dedupe, index, spool). A source's
crawl in the worker closes after FRONTIER_IDLE_CLOSE_SECONDS without work, and
writes its run record then. The worker also gives back the requests of dead
workers. SIGTERM closes the running crawls promptly (cli.crawl_process.Stopper) and puts
the requests they took back in the queue for the other workers.
"""
from __future__ import annotations

import logging
import sys
import time

from scrapy.crawler import CrawlerProcess
from scrapy.utils.reactor import install_reactor

import config
from cli.crawl_process import Stopper, stop_reactor, summary
from crawlers.frontier import WORKER_ID, Frontier, connect
from crawlers.sources import SourcesError, load_sources

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    parser = subparsers.add_parser("worker", help="crawl from the shared Redis frontier (needs BANWAVE_REDIS_URL)")
    parser.add_argument("--until-idle", type=float, metavar="SECONDS",
                        help="exit once no source had work for this long (default: run until stopped)")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a Scrapy setting, e.g. -s CONCURRENT_REQUESTS=32")
    parser.set_defaults(func=run_worker)


def run_worker(args, env) -> int:
    stopper = Stopper()
    if not env.redis_url:
        print("banwave worker: BANWAVE_REDIS_URL is not set (a worker crawls from the shared Redis frontier)",
              file=sys.stderr)
        return 2
    if args.until_idle is not None and args.until_idle < 0:
        print("banwave worker: --until-idle must be at least 0", file=sys.stderr)
        return 2
    settings = config.crawl_settings(env, config.parse_overrides(args.set))
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    try:
        sources = {s.name: s for s in load_sources(env.sources) if s.enabled}
    except SourcesError as exc:
        print(f"banwave: {exc}", file=sys.stderr)
        return 2
    for name in ("scrapy", "jieba"):
        logging.getLogger(name).setLevel(settings.get("LOG_LEVEL"))
    # The configured reactor before anything imports Twisted's default one (the poll's LoopingCall).
    install_reactor(settings["TWISTED_REACTOR"], settings["ASYNCIO_EVENT_LOOP"])
    frontier = Frontier(connect(env), env.index_prefix)
    frontier.server.ping()
    supervisor = Supervisor(CrawlerProcess(settings), frontier, sources, stopper,
                            settings.getfloat("FRONTIER_LEASE_SECONDS"), args.until_idle)
    stopper.process = supervisor.process
    stopper.grace = settings.getfloat("SCHEDULER_KILL_GRACE")
    logger.info("worker %s: crawling from %s (prefix %s), %d source(s) known", WORKER_ID,
                "Redis", env.index_prefix, len(sources))
    supervisor.start(settings.getfloat("FRONTIER_POLL_SECONDS"))
    supervisor.process.start(stop_after_crawl=False, install_signal_handlers=False)
    frontier.retire()
    for line in supervisor.lines:
        print(line, flush=True)
    return 1 if supervisor.failed or stopper.reason else 0


class Supervisor:
    """Starts a crawler for each source with work that does not run here yet; stops when told."""

    def __init__(self, process: CrawlerProcess, frontier: Frontier, sources: dict, stopper: Stopper,
                 lease: float, until_idle: float | None):
        self.process, self.frontier, self.sources, self.stopper = process, frontier, sources, stopper
        self.lease, self.until_idle = lease, until_idle
        self.running: dict[str, object] = {}
        self.lines: list[str] = []
        self.failed = False
        self._unknown: set[str] = set()
        self._retry_at: dict[str, float] = {}  # a source whose crawl failed here is not started again before this
        self._idle_since = time.monotonic()
        self._loop = None

    def start(self, poll: float) -> None:
        from twisted.internet import task

        self._loop = task.LoopingCall(self._tick)
        self._loop.start(poll, now=True).addErrback(self._failed)

    def _tick(self) -> None:
        if self.stopper.reason:
            return self._finish_when_closed()
        self.frontier.heartbeat(self.lease)
        active = self.frontier.active_sources()
        self.frontier.reclaim(active)
        for name in active:
            if name in self.running or self._retry_at.get(name, 0) > time.monotonic():
                continue
            source = self.sources.get(name)
            if source is None:
                if name not in self._unknown:
                    self._unknown.add(name)
                    logger.warning("source %s has work in the frontier but is not an enabled source of this "
                                   "worker's sources file: left to other workers", name)
                continue
            self._start(source)
        if self.running or any(name in self.sources for name in active):
            self._idle_since = time.monotonic()
        elif self.until_idle is not None and time.monotonic() - self._idle_since >= self.until_idle:
            logger.info("worker %s: no work for %.0fs, exiting", WORKER_ID, self.until_idle)
            self._loop.stop()
            stop_reactor(None)

    def _start(self, source) -> None:
        crawler = self.process.create_crawler(source.kind)
        self.running[source.name] = crawler
        self.stopper.crawlers.append(crawler)
        logger.info("worker %s: crawling source %s", WORKER_ID, source.name)
        done = self.process.crawl(crawler, source=source.name)
        done.addBoth(self._closed, source.name, crawler)

    def _closed(self, result, name: str, crawler) -> None:
        self.running.pop(name, None)
        self.stopper.crawlers.remove(crawler)
        failure = result.getErrorMessage() if hasattr(result, "getErrorMessage") else None
        stats = crawler.stats.get_stats() if crawler.stats else {}
        line = summary(name, stats, failure)
        self.failed |= failure is not None
        self.lines.append(line)
        logger.info("worker %s: %s", WORKER_ID, line)
        if failure:
            logger.error("source %s: crawl failed in this worker: %s; not started here again for %.0fs",
                         name, failure, self.lease)
            self._retry_at[name] = time.monotonic() + self.lease

    def _finish_when_closed(self) -> None:
        if not self.running:
            self._loop.stop()
            stop_reactor(None)

    def _failed(self, failure) -> None:
        logger.error("worker %s: frontier poll failed: %s", WORKER_ID, failure.getErrorMessage())
        self.failed = True
        self.stopper.reason = self.stopper.reason or "frontier unreachable"
        for crawler in list(self.running.values()):
            self.stopper._stop_crawler(crawler)
        from twisted.internet import reactor

        reactor.callLater(self.lease, stop_reactor, None)

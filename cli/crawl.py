"""``banwave crawl``: crawl sources once now, through the whole pipeline into Elasticsearch.

    banwave crawl SOURCE [SOURCE ...]     # those sources, in order
    banwave crawl --all                   # every enabled source of the sources file

All crawls run one after another in one process and one reactor (Scrapy's
CrawlerProcess chaining ``crawl`` calls). One summary line per source goes to
stdout. Exit status: 0 when every crawl ran (``ok`` or ``partial``), 1 when
one failed or was killed (stopped by a signal, nothing fetched, items
neither indexed nor spooled, or the spider could not start), 2 for a bad
sources file or setting. SIGTERM or Ctrl-C closes the running crawl
promptly and starts no further source (``Stopper``).

With BANWAVE_REDIS_URL the command is the producer instead: it seeds a run of
each source in the shared frontier for `banwave worker` processes
(docs/scaling.md), and with ``--work`` works as one until no source has work.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import defer

import config
from crawlers.sources import Source, SourcesError, get_source, load_sources
from crawlers.stop import request_stop, stop_reason
from pipelines.runs import roll_up, run_status

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    crawl = subparsers.add_parser("crawl", help="crawl sources once now and index what they yield")
    crawl.add_argument("sources", nargs="*", metavar="SOURCE", help="source names from the sources file")
    crawl.add_argument("--all", action="store_true", help="every enabled source, one after another")
    crawl.add_argument("--sources-file", metavar="FILE", help="sources file (default: BANWAVE_SOURCES)")
    crawl.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                       help="override a Scrapy setting, e.g. -s INDEX_BATCH_DOCS=50")
    crawl.add_argument("--work", action="store_true",
                       help="with BANWAVE_REDIS_URL: after seeding, also work as a worker until no source has work")
    crawl.set_defaults(func=run_crawl)


def choose(sources: list[Source], names: list[str], all_enabled: bool) -> list[Source]:
    if all_enabled:
        return [source for source in sources if source.enabled]
    return [get_source(sources, name) for name in names]


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


def run_crawl(args, env) -> int:
    stopper = Stopper()
    if bool(args.sources) == bool(args.all):
        print("banwave crawl: name one or more sources, or --all", file=sys.stderr)
        return 2
    if args.sources_file:
        env = dataclasses.replace(env, sources=Path(args.sources_file))
    settings = config.crawl_settings(env, config.parse_overrides(args.set))
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")  # cli.main owns the logging handlers
    sources_file = env.sources
    try:
        chosen = choose(load_sources(sources_file), args.sources, args.all)
    except SourcesError as exc:
        print(f"banwave: {exc}", file=sys.stderr)
        return 2
    if not chosen:
        print(f"banwave crawl: no enabled source in {sources_file}", file=sys.stderr)
        return 2
    if env.redis_url:
        return _seed(args, env, chosen, settings)

    process = CrawlerProcess(settings)
    crawlers = [(source, process.create_crawler(source.kind)) for source in chosen]
    stopper.crawlers, stopper.process = [crawler for _, crawler in crawlers], process
    stopper.grace = settings.getfloat("SCHEDULER_KILL_GRACE")
    # Scrapy's logging defaults and jieba put their loggers at DEBUG, which the root handler would print.
    for name in ("scrapy", "jieba"):
        logging.getLogger(name).setLevel(settings.get("LOG_LEVEL"))
    failures: dict[str, str] = {}

    @defer.inlineCallbacks
    def crawl_all():
        for source, crawler in crawlers:
            if stopper.reason:
                break  # stopped (before or during the previous crawl): do not start the next source
            try:
                yield process.crawl(crawler, source=source.name)
            except Exception as exc:  # noqa: BLE001 - one source failing to start must not stop the others
                failures[source.name] = str(exc) or type(exc).__name__
                logger.error("source %s: crawl failed: %s", source.name, failures[source.name])

    done = crawl_all()
    if not done.called:  # else every source failed to start: no reactor to run
        done.addBoth(_stop_reactor)
        process.start(stop_after_crawl=False, install_signal_handlers=False)

    failed = False
    for source, crawler in crawlers:
        stats = _stats(crawler)
        if not stats and source.name not in failures:
            continue  # not started (interrupted before its turn)
        line = summary(source.name, stats, failures.get(source.name))
        failed |= source.name in failures or status(stats) in ("failed", "killed")
        print(line, flush=True)
    if stopper.reason and not any(_stats(crawler) for _, crawler in crawlers):
        print(f"banwave crawl: {stopper.reason} before any crawl started", file=sys.stderr)
    return 1 if failed or stopper.reason else 0


def _seed(args, env, chosen: list[Source], settings) -> int:
    """With the shared frontier: seed a run of each source for the workers (and, with --work, work)."""
    from crawlers.frontier import seed_runs

    for name, run_id in seed_runs(env, [source.name for source in chosen]).items():
        print(f"{name}: queued run {run_id}" if run_id else f"{name}: its last run still has work; not queued again",
              flush=True)
    if not args.work:
        return 0
    from cli.worker import run_worker

    worker_args = argparse.Namespace(until_idle=settings.getfloat("FRONTIER_IDLE_CLOSE_SECONDS") + 5, set=args.set)
    return run_worker(worker_args, env)


def _stats(crawler) -> dict:
    """The crawl's stats; empty for a crawler that never started (its stats do not exist yet)."""
    try:
        return crawler.stats.get_stats()
    except (AttributeError, RuntimeError):
        return {}


def _stop_reactor(_) -> None:
    from twisted.internet import reactor  # imported late: the first crawl installs the configured reactor

    if reactor.running:
        reactor.stop()

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
import sys
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from twisted.internet import defer

import config
from cli.crawl_process import Stopper, status, stop_reactor, summary
from crawlers.sources import Source, SourcesError, get_source, load_sources

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
        done.addBoth(stop_reactor)
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

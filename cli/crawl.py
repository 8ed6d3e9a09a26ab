"""``banwave crawl``: crawl sources once now, through the whole pipeline into Elasticsearch.

    banwave crawl SOURCE [SOURCE ...]     # those sources, in order
    banwave crawl --all                   # every enabled source of the sources file

All crawls run one after another in one process and one reactor (Scrapy's
CrawlerProcess chaining ``crawl`` calls). One summary line per source goes to
stdout. Exit status: 0 when every crawl ran (``ok`` or ``partial``), 1 when
one failed (interrupted, nothing fetched, items neither indexed nor
spooled, or the spider could not start), 2 for a bad sources file.
"""
from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from twisted.internet import defer

import config
from crawlers.sources import Source, SourcesError, get_source, load_sources
from pipelines.runs import run_status

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    crawl = subparsers.add_parser("crawl", help="crawl sources once now and index what they yield")
    crawl.add_argument("sources", nargs="*", metavar="SOURCE", help="source names from the sources file")
    crawl.add_argument("--all", action="store_true", help="every enabled source, one after another")
    crawl.add_argument("--sources-file", metavar="FILE", help="sources file (default: BANWAVE_SOURCES)")
    crawl.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                       help="override a Scrapy setting, e.g. -s INDEX_BATCH_DOCS=50")
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
    pages = sum(v for k, v in stats.items() if k.startswith("banwave/pages/"))
    kinds = sorted((k.rsplit("/", 1)[1], v) for k, v in stats.items() if k.startswith("banwave/errors/"))
    errors = stats.get("banwave/errors", 0)
    detail = f" ({', '.join(f'{k} {v}' for k, v in kinds)})" if kinds else ""
    return (f"{source}: {status(stats)}, {pages} pages, "
            f"{stats.get('item_scraped_count', 0)} items, {stats.get('index/indexed', 0)} indexed, "
            f"{stats.get('index/unchanged', 0)} unchanged, {stats.get('index/spooled', 0)} spooled, "
            f"{stats.get('index/dead_lettered', 0)} dead-lettered, {errors} errors{detail}")


def run_crawl(args, env) -> int:
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

    process = CrawlerProcess(settings)
    crawlers = [(source, process.create_crawler(source.kind)) for source in chosen]
    # Scrapy's logging defaults and jieba put their loggers at DEBUG, which the root handler would print.
    for name in ("scrapy", "jieba"):
        logging.getLogger(name).setLevel(settings.get("LOG_LEVEL"))
    failures: dict[str, str] = {}

    @defer.inlineCallbacks
    def crawl_all():
        for source, crawler in crawlers:
            try:
                yield process.crawl(crawler, source=source.name)
            except Exception as exc:  # noqa: BLE001 - one source failing to start must not stop the others
                failures[source.name] = str(exc) or type(exc).__name__
                logger.error("source %s: crawl failed: %s", source.name, failures[source.name])
            if _stats(crawler).get("finish_reason") == "shutdown":
                break  # Ctrl-C / SIGTERM: do not start the next source

    done = crawl_all()
    if not done.called:  # else every source failed to start: no reactor to run
        done.addBoth(_stop_reactor)
        process.start(stop_after_crawl=False)

    failed = False
    for source, crawler in crawlers:
        stats = _stats(crawler)
        if not stats and source.name not in failures:
            continue  # not started (interrupted before its turn)
        line = summary(source.name, stats, failures.get(source.name))
        failed |= source.name in failures or status(stats) == "failed"
        print(line, flush=True)
    return 1 if failed else 0


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

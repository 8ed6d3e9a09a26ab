"""``banwave schedule``: run the crawl scheduler in the foreground, or list its jobs."""
from __future__ import annotations

import logging
import sys

import config
from crawlers.sources import SourcesError, load_sources


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "schedule", help="crawl every enabled source on its schedule (foreground; SIGTERM/Ctrl-C stops)",
        description="Run the scheduler: one job per enabled source of the sources file, each run a "
                    "`banwave crawl SOURCE` subprocess. Jobs are kept in <data dir>/jobs.sqlite.")
    parser.add_argument("--list", action="store_true",
                        help="show the jobs and their next run times (the sources file against the job store), then exit")
    parser.add_argument("-s", "--set", metavar="NAME=VALUE", action="append", default=[],
                        help="override a setting, here and in every crawl, e.g. -s SCHEDULER_CRAWL_TIMEOUT=600")
    parser.set_defaults(func=run)


def run(args, env) -> int:
    import scheduler  # APScheduler and SQLAlchemy load only for this command

    from waves.alerts.config import AlertsError
    from waves.config import WavesConfigError

    try:
        sources = load_sources(env.sources)
    except SourcesError as exc:
        print(f"banwave: {exc}", file=sys.stderr)
        return 2
    overrides = config.parse_overrides(args.set)
    settings = config.crawl_settings(env, overrides)
    try:
        if not args.list:
            try:
                return scheduler.serve(settings, overrides, sources)
            except scheduler.SchedulerBusy as exc:
                print(f"banwave: {exc}", file=sys.stderr)
                return 1
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # its start/shutdown lines are noise here
        crawl_scheduler = scheduler.CrawlScheduler(settings, overrides)
    except (WavesConfigError, AlertsError) as exc:  # a broken alerts file or WAVES_* setting stops the start
        print(f"banwave: {exc}", file=sys.stderr)
        return 2
    rows = crawl_scheduler.plan(crawl_scheduler.triggers(sources))
    if not any(s.enabled for s in sources):
        print(f"no enabled sources in {env.sources}")
    for row in rows:
        when = row.next_run.isoformat(sep=" ", timespec="seconds") if row.next_run else "-"
        print(f"{row.source:24} {row.schedule:24} {when:26} {row.state}")
    disabled = [s.name for s in sources if not s.enabled]
    if disabled:
        print(f"disabled: {', '.join(disabled)}")
    return 0

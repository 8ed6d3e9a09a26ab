"""The scheduler: every enabled source crawled on its own cron or interval schedule.

APScheduler 3 with a SQLite job store in the data directory
(``<BANWAVE_DATA_DIR>/jobs.sqlite``): one job per source, its id the source
name, stored by reference as ``scheduler:run_crawl`` with args ``[source]``,
so next run times survive restarts. On start the stored jobs are reconciled
with the sources file: new sources are added, changed schedules replaced,
removed or disabled sources' jobs deleted, unchanged jobs keep their next run.

Each run is a ``banwave crawl SOURCE`` subprocess (crawlers/runner.py: killed
with its process group past ``SCHEDULER_CRAWL_TIMEOUT``, stopped when the
scheduler dies, settled in the run ledger). Jobs coalesce and have
``max_instances=1``: runs of one source never overlap.
Settings (settings.py, "scheduler" section): ``SCHEDULER_CRAWL_TIMEOUT``,
``SCHEDULER_KILL_GRACE``, ``SCHEDULER_MISFIRE_GRACE_TIME``,
``SCHEDULER_MAX_CRAWLS``, ``SCHEDULER_TIMEZONE``, ``SCHEDULER_CRAWL_COMMAND``.

With BANWAVE_REDIS_URL the scheduler is the producer of the shared frontier
(crawlers/frontier.py, docs/scaling.md): a job seeds a run of its source for
the `banwave worker` processes instead of starting a subprocess, unless the
source's last run still has work there.

Waves (waves/, docs/waves.md) are tracked by one more job, ``@waves``
(``scheduler:run_waves``, every ``WAVES_INTERVAL_MINUTES``), which each
finished crawl also asks to run at once; requests that arrive while it runs
make it run once more, never twice at a time. It runs in the scheduler
process, off the crawls' threads: a slow or down alert channel delays only
the next waves run, never a crawl.
"""
from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from scrapy.settings import Settings

import config
from config import Env
from crawlers.runner import CrawlRunner
from crawlers.sources import Source

logger = logging.getLogger(__name__)

JOB_FUNC = "scheduler:run_crawl"
WAVES_JOB_ID, WAVES_JOB_FUNC = "@waves", "scheduler:run_waves"  # "@": never a source name

# The runners of this process; the job functions are stored by reference, so they cannot carry them.
_runner: CrawlRunner | None = None
_waves: WavesJob | None = None


def run_crawl(source: str) -> int | None:
    """The job function: crawl ``source`` once in a subprocess; its exit code, None if not run.
    Then the waves job is asked to look at what the crawl brought."""
    if _runner is None:
        raise RuntimeError("no crawl runner in this process: jobs run only inside a started CrawlScheduler")
    code = _runner.run(source)
    if _waves is not None and code is not None:
        _waves.request()
    return code


def run_waves() -> None:
    """The waves job function: track waves and deliver alerts (waves.run.update)."""
    if _waves is None:
        raise RuntimeError("no waves job in this process: jobs run only inside a started CrawlScheduler")
    _waves.run()


class WavesJob:
    """Runs ``waves.run.update`` for the scheduler: on its interval and after crawls, one run at a time."""

    def __init__(self, settings: Settings):
        """Reads and checks the WAVES_*/ALERTS_* settings and the alerts file now, so a broken one
        stops the scheduler at start (WavesConfigError, AlertsError), not at the first run."""
        from waves.alerts.config import load_alerts
        from waves.config import WavesConfig

        self.env = config.crawl_env(settings)
        self.cfg = WavesConfig.from_settings(settings)
        self.alerts = load_alerts(self.env.alerts) if self.env.alerts else None
        self.scheduler: BackgroundScheduler | None = None
        self._lock = threading.Lock()
        self._running = self._again = False
        self.outcomes: Counter[str] = Counter()  # ok, failed

    def trigger(self, timezone: str) -> IntervalTrigger:
        return IntervalTrigger(minutes=self.cfg.interval_minutes, timezone=timezone)

    def request(self) -> None:
        """Run as soon as possible (after a crawl); a run in progress runs once more instead."""
        with self._lock:
            self._again = True
            if self._running:
                return
        try:
            self.scheduler.modify_job(WAVES_JOB_ID, next_run_time=datetime.now().astimezone())
        except Exception as exc:  # noqa: BLE001 - stopping: the interval run or the next start catches up
            logger.debug("waves run not brought forward: %s", exc)

    def run(self) -> None:
        with self._lock:
            if self._running:
                return
            self._running = True
        try:
            while True:
                with self._lock:
                    self._again = False
                self._update_once()
                with self._lock:
                    if not self._again:
                        return
        finally:
            with self._lock:
                self._running = False

    def _update_once(self) -> None:
        from elasticsearch import ApiError, TransportError

        from pipelines.elastic import describe_error, make_client
        from waves.run import update

        started = time.monotonic()
        client = make_client(self.env)
        try:
            result = update(client, self.env, self.cfg, self.alerts)
        except (ApiError, TransportError) as exc:
            self.outcomes["failed"] += 1
            logger.warning("waves: not updated: %s", describe_error(exc))
            return
        finally:
            client.close()
        self.outcomes["ok"] += 1
        logger.info("waves: %d current of %d in %.1fs; alerts %d queued%s",
                    sum(r["status"] != "over" for r in result.records), len(result.records),
                    time.monotonic() - started, result.alerts_created,
                    "".join(f", {n} {k}" for k, n in sorted(result.deliveries.items())))


def trigger_for(source: Source, timezone: str) -> BaseTrigger:
    """The APScheduler trigger of a source's ``schedule`` (cron line or interval)."""
    if source.schedule.cron:
        return CronTrigger.from_crontab(source.schedule.cron, timezone=timezone)
    return IntervalTrigger(minutes=source.schedule.interval_minutes, timezone=timezone)


def describe(trigger: BaseTrigger) -> str:
    """A trigger as the sources file writes it: ``cron 15 * * * *`` or ``every 0:30:00``."""
    if isinstance(trigger, CronTrigger):
        fields = {field.name: str(field) for field in trigger.fields}
        return "cron " + " ".join(fields[name] for name in ("minute", "hour", "day", "month", "day_of_week"))
    if isinstance(trigger, IntervalTrigger):
        return f"every {trigger.interval}"
    return str(trigger)


def _same_schedule(job, trigger: BaseTrigger) -> bool:
    return (job.func_ref == JOB_FUNC and list(job.args) == [job.id] and type(job.trigger) is type(trigger)
            and str(job.trigger) == str(trigger) and str(job.trigger.timezone) == str(trigger.timezone))


class _BackgroundScheduler(BackgroundScheduler):
    """A BackgroundScheduler that looks at no job once shut down.

    APScheduler 3 wakes its thread in ``shutdown()`` for one more pass over the
    due jobs: they fail to reach the stopped executor, yet their next run time
    is advanced, so a run due at shutdown would be lost instead of made up.
    """

    def _process_jobs(self):
        return None if self.state == STATE_STOPPED else super()._process_jobs()


@dataclass
class JobRow:
    """One line of ``banwave schedule --list``."""

    source: str
    schedule: str
    next_run: datetime | None
    state: str  # scheduled, new, changed, removed (at the next start)


class CrawlScheduler:
    """A BackgroundScheduler over the SQLite job store, reconciled with the sources on start."""

    def __init__(self, settings: Settings, overrides: Mapping[str, str] | None = None):
        """``settings`` from config.crawl_settings; ``overrides``, the ``-s`` options it was
        built with, are handed on to every crawl."""
        env = config.crawl_env(settings)
        env.data_dir.mkdir(parents=True, exist_ok=True)
        self.timezone = settings.get("SCHEDULER_TIMEZONE")
        self.job_defaults = {"coalesce": True, "max_instances": 1,
                             "misfire_grace_time": settings.getint("SCHEDULER_MISFIRE_GRACE_TIME")}
        self.runner = CrawlRunner.from_settings(settings, overrides)
        self.waves = None
        if settings.getbool("WAVES_ENABLED"):
            if env.es_url:
                self.waves = WavesJob(settings)
            else:  # crawls spool to disk; waves are counted in the index, so there is nothing to count yet
                logger.info("waves: not tracked by this scheduler, no Elasticsearch configured (BANWAVE_ES_URL)")
        self.scheduler = _BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{env.data_dir}/jobs.sqlite")},
            executors={"default": ThreadPoolExecutor(settings.getint("SCHEDULER_MAX_CRAWLS"))},
            job_defaults=self.job_defaults, timezone=self.timezone)

    def triggers(self, sources: list[Source]) -> dict[str, BaseTrigger]:
        self.runner.kinds.update({s.name: s.kind for s in sources})
        return {s.name: trigger_for(s, self.timezone) for s in sources if s.enabled}

    def start(self, triggers: Mapping[str, BaseTrigger]) -> dict[str, list[str]]:
        """Reconcile the stored jobs with ``triggers`` (source -> trigger), then start firing them."""
        global _runner, _waves
        _runner, _waves = self.runner, self.waves
        self.scheduler.start(paused=True)  # paused: nothing fires before the store matches the sources
        changes = self.reconcile(triggers)
        self._schedule_waves()
        self.scheduler.resume()
        return changes

    def _schedule_waves(self) -> None:
        """The @waves job on its interval (kept if unchanged), or none when WAVES_ENABLED is off."""
        job = self.scheduler.get_job(WAVES_JOB_ID)
        if self.waves is None:
            if job is not None:
                self.scheduler.remove_job(WAVES_JOB_ID)
            return
        self.waves.scheduler = self.scheduler
        trigger = self.waves.trigger(self.timezone)
        if job is None or job.func_ref != WAVES_JOB_FUNC or str(job.trigger) != str(trigger):
            self.scheduler.add_job(WAVES_JOB_FUNC, trigger, id=WAVES_JOB_ID, name="waves", replace_existing=True)

    def reconcile(self, triggers: Mapping[str, BaseTrigger]) -> dict[str, list[str]]:
        """Add new, replace changed and remove missing jobs; unchanged ones keep their next run time."""
        changes: dict[str, list[str]] = {"added": [], "replaced": [], "removed": [], "kept": []}
        stored = {job.id: job for job in self.scheduler.get_jobs()}
        for job_id in sorted(stored.keys() - triggers.keys() - {WAVES_JOB_ID}):
            self.scheduler.remove_job(job_id)
            changes["removed"].append(job_id)
        for name, trigger in triggers.items():
            job = stored.get(name)
            if job is not None and _same_schedule(job, trigger):
                self.scheduler.modify_job(name, **self.job_defaults)  # settings may have changed
                changes["kept"].append(name)
                continue
            self.scheduler.add_job(JOB_FUNC, trigger, args=[name], id=name, name=name, replace_existing=True)
            changes["added" if job is None else "replaced"].append(name)
        return changes

    def plan(self, triggers: Mapping[str, BaseTrigger]) -> list[JobRow]:
        """What ``start`` would schedule, read from the job store without changing it."""
        self.scheduler.start(paused=True)
        try:
            stored = {job.id: job for job in self.scheduler.get_jobs()}
        finally:
            self.scheduler.shutdown(wait=False)
        now = datetime.now().astimezone()
        rows = []
        for name, trigger in triggers.items():
            job = stored.get(name)
            if job is not None and _same_schedule(job, trigger):
                rows.append(JobRow(name, describe(trigger), job.next_run_time, "scheduled"))
            else:
                rows.append(JobRow(name, describe(trigger), trigger.get_next_fire_time(None, now),
                                   "new" if job is None else "changed"))
        rows += [JobRow(job_id, describe(job.trigger), None, "removed") for job_id, job in stored.items()
                 if job_id not in triggers and job_id != WAVES_JOB_ID]
        if self.waves is not None:
            job, trigger = stored.get(WAVES_JOB_ID), self.waves.trigger(self.timezone)
            same = job is not None and str(job.trigger) == str(trigger)
            rows.append(JobRow(WAVES_JOB_ID, describe(trigger) + " and after each crawl",
                               job.next_run_time if same else trigger.get_next_fire_time(None, now),
                               "scheduled" if same else "new" if job is None else "changed"))
        return sorted(rows, key=lambda r: (r.next_run is None, r.next_run or now, r.source))

    def stop(self) -> None:
        """Stop firing, terminate running crawls, wait for their jobs to finish."""
        self.scheduler.pause()
        self.runner.stop_all()
        self.scheduler.shutdown(wait=True)
        logger.info("crawl runs: %s", ", ".join(f"{n} {kind}" for kind, n in self.runner.outcomes.items()) or "none")
        if self.waves is not None:
            logger.info("waves runs: %s", ", ".join(f"{n} {kind}" for kind, n in self.waves.outcomes.items()) or "none")


class SchedulerBusy(RuntimeError):
    """Another scheduler runs on this data directory; the message is one line."""


def _hold_lock(env: Env):
    """Lock the data directory for this process's lifetime: two schedulers on one job store
    would both run every job."""
    env.data_dir.mkdir(parents=True, exist_ok=True)
    lock = open(env.data_dir / "scheduler.lock", "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "?"
        lock.close()
        raise SchedulerBusy(f"another scheduler (pid {holder}) runs on {env.data_dir}") from None
    lock.truncate(0)
    lock.write(str(os.getpid()))
    lock.flush()
    return lock


def serve(settings: Settings, overrides: Mapping[str, str], sources: list[Source]) -> int:
    """Run the scheduler in the foreground until SIGTERM or SIGINT; exit code 0."""
    lock = _hold_lock(config.crawl_env(settings))
    stop = threading.Event()
    crawl_scheduler = CrawlScheduler(settings, overrides)
    triggers = crawl_scheduler.triggers(sources)
    crawl_scheduler.runner.recover()  # runs a killed scheduler left open: orphans stopped, records written
    changes = crawl_scheduler.start(triggers)
    logger.info("scheduler started: %d job(s); added %s, replaced %s, removed %s",
                sum(len(changes[k]) for k in ("added", "replaced", "kept")),
                ", ".join(changes["added"]) or "none", ", ".join(changes["replaced"]) or "none",
                ", ".join(changes["removed"]) or "none")
    for job in crawl_scheduler.scheduler.get_jobs():
        logger.info("job %s: %s, next run %s", job.id, describe(job.trigger), job.next_run_time)

    def on_signal(signum, frame) -> None:
        logger.info("%s received: stopping the scheduler", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.wait(1):  # a timed wait lets the signal handler run promptly
            pass
    finally:
        crawl_scheduler.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    lock.close()
    logger.info("scheduler stopped")
    return 0

"""The scheduler: every enabled source crawled on its own cron or interval schedule.

APScheduler 3 with a SQLite job store in the data directory
(``<BANWAVE_DATA_DIR>/jobs.sqlite``): one job per source, its id the source
name, stored by reference as ``scheduler:run_crawl`` with args ``[source]``,
so next run times survive restarts. On start the stored jobs are reconciled
with the sources file: new sources are added, changed schedules replaced,
removed or disabled sources' jobs deleted, unchanged jobs keep their next run.

Each run is a subprocess (Twisted's reactor cannot restart in one process):
``banwave crawl SOURCE`` in a new session, so a run that outlives
``SCHEDULER_CRAWL_TIMEOUT`` is killed with its whole process group, and with
``PR_SET_PDEATHSIG`` so it also stops when the scheduler dies. Every run has a
run id and a ledger entry (pipelines.runs.RunLedger): a crawl the scheduler
killed, or that died without its run record, gets one from the scheduler;
runs a killed scheduler left open are settled at the next start. Jobs
coalesce and have ``max_instances=1``: runs of one source never overlap.
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

import ctypes
import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
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
from crawlers.sources import Source
from pipelines.runs import RunLedger, missing_record

logger = logging.getLogger(__name__)

JOB_FUNC = "scheduler:run_crawl"
WAVES_JOB_ID, WAVES_JOB_FUNC = "@waves", "scheduler:run_waves"  # "@": never a source name
DEFAULT_CRAWL_COMMAND = [sys.executable, "-m", "cli.main", "crawl"]

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


class CrawlRunner:
    """Runs crawl subprocesses, kills those that outlive the timeout, and stops them all on shutdown.

    Each run gets a run id (``-s RUNS_RUN_ID=...``) and an entry in the run ledger
    (pipelines.runs.RunLedger). Before signalling a crawl, the runner notes why there; a crawl
    that ends without having delivered its run record (SIGKILLed after the grace, crashed, could
    not start) gets one from the runner, status ``killed`` or ``failed`` with the reason.
    """

    def __init__(self, command: list[str], timeout: float, kill_grace: float, env: Env | None = None,
                 overrides: Mapping[str, str] | None = None, log_dir: Path | None = None,
                 records: bool = True):
        """Each crawl runs ``command [-s NAME=VALUE ...] SOURCE`` with ``overrides`` as its
        ``-s`` options and, given ``env``, exactly that environment (else this process's);
        with ``log_dir`` its output goes to ``<log_dir>/<source>.log`` instead of this
        process's stdout/stderr. Given ``env`` and ``records``, runs are kept in the ledger
        under its data dir and missing run records are written."""
        self.command, self.timeout, self.kill_grace = command, timeout, kill_grace
        self.options = [option for name, value in (overrides or {}).items() for option in ("-s", f"{name}={value}")]
        self.environ = config.child_environ(env) if env is not None else None
        self.log_dir = log_dir
        self.env = env
        self.ledger = RunLedger(env.data_dir) if env is not None and records else None
        self.kinds: dict[str, str] = {}  # source name -> kind, for the records this runner writes
        self._delivery = None
        self._running: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self.outcomes: Counter[str] = Counter()  # ok, failed, killed, stopped, not started

    @classmethod
    def from_settings(cls, settings: Settings, overrides: Mapping[str, str] | None = None) -> "CrawlRunner":
        return cls(settings.getlist("SCHEDULER_CRAWL_COMMAND") or DEFAULT_CRAWL_COMMAND,
                   settings.getfloat("SCHEDULER_CRAWL_TIMEOUT"), settings.getfloat("SCHEDULER_KILL_GRACE"),
                   config.crawl_env(settings), overrides, records=settings.getbool("RUNS_ENABLED"))

    def run(self, source: str) -> int | None:
        """Crawl ``source`` once; log one line with its outcome; never raise for a failed crawl.
        With the shared frontier (BANWAVE_REDIS_URL) seed a run for the workers instead."""
        if self.env is not None and self.env.redis_url:
            return self._seed(source)
        started, started_at = time.monotonic(), datetime.now(timezone.utc)
        run_id = f"{source}-{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        with self._lock:
            if self._stopping:
                logger.info("crawl %s: not started, the scheduler is stopping", source)
                self.outcomes["not started"] += 1
                return None
            log = None
            try:
                log = open(self.log_dir / f"{source}.log", "ab") if self.log_dir else None
                # A new session: the crawl and anything it spawns form one process group to kill,
                # and a Ctrl-C in the scheduler's terminal reaches the scheduler only.
                proc = subprocess.Popen([*self.command, *self.options, "-s", f"RUNS_RUN_ID={run_id}", source],
                                        start_new_session=True, preexec_fn=_die_with_parent(),
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.environ)
            except OSError as exc:
                logger.error("crawl %s: cannot start %s: %s", source, self.command[0], exc.strerror or exc)
                self.outcomes["not started"] += 1
                return None
            finally:
                if log:
                    log.close()  # the child has its own descriptor
            if self.ledger is not None:
                self.ledger.start(run_id, {"run_id": run_id, "source": source, "pid": proc.pid,
                                           "started_at": started_at.isoformat(timespec="seconds")})
            self._running[source] = proc
            proc.run_id = run_id
        timed_out = False
        try:
            proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            self._kill(proc, f"killed at its {self.timeout:g}s timeout")
        finally:
            with self._lock:
                self._running.pop(source, None)
                stopped = self._stopping
        code = proc.returncode
        outcome = "killed" if timed_out else "ok" if code == 0 else "stopped" if stopped else "failed"
        self.outcomes[outcome] += 1
        note = {"killed": f" (killed at its {self.timeout:g}s timeout)", "stopped": " (stopped with the scheduler)"}
        logger.log(logging.INFO if code == 0 else logging.WARNING, "crawl %s: exit %s in %.1fs%s",
                   source, code, time.monotonic() - started, note.get(outcome, ""))
        self._settle(run_id, source, code, started_at)
        return code

    def _seed(self, source: str) -> int | None:
        from crawlers.frontier import seed_runs

        try:
            run_id = seed_runs(self.env, [source])[source]
        except Exception as exc:  # noqa: BLE001 - Redis down: this run is missed, the next one tries again
            logger.error("crawl %s: not seeded, the frontier is unreachable: %s", source, exc)
            self.outcomes["not seeded"] += 1
            return None
        if run_id is None:
            logger.info("crawl %s: its last run still has work in the frontier; not seeded again", source)
            self.outcomes["still running"] += 1
            return None
        logger.info("crawl %s: run %s seeded for the workers", source, run_id)
        self.outcomes["seeded"] += 1
        return 0

    def stop_all(self) -> None:
        """Refuse new runs and terminate the running ones (their process groups)."""
        with self._lock:
            self._stopping = True
            running = list(self._running.values())
        threads = [threading.Thread(target=self._kill, args=(proc, "stopped with the scheduler")) for proc in running]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _kill(self, proc: subprocess.Popen, reason: str) -> None:
        """SIGTERM the group (Scrapy then closes cleanly and can resume), SIGKILL it after the grace."""
        if self.ledger is not None:
            self.ledger.note_stop(proc.run_id, reason)  # before the signal: the crawl's record says why
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=self.kill_grace)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(proc.pid, signal.SIGKILL)  # also reaps children that outlived their leader
        proc.wait()

    def _settle(self, run_id: str, source: str, code: int, started_at: datetime) -> None:
        """Write the run record of a crawl that ended without writing its own; close its ledger entry."""
        if self.ledger is None:
            return
        entry = self.ledger.entry(run_id) or {}
        if not self.ledger.done(run_id) and code != 0:
            reason = entry.get("stop_reason")
            if code < 0:
                signame = signal.Signals(-code).name
                late = f"{signame} after {self.kill_grace:g}s" if code == -signal.SIGKILL else f"ended by {signame}"
                reason = f"{reason}; {late}" if reason else f"ended by {signame}"
                status = "killed"
            else:
                reason = f"{reason}; " if reason else ""
                reason += f"exit {code} before its run record was written"
                status = "killed" if entry.get("stop_reason") else "failed"
            self.write_record(missing_record(run_id, source, self.kinds.get(source, ""), status, reason,
                                             started_at, datetime.now(timezone.utc)))
        self.ledger.finish(run_id)

    def write_record(self, record: dict) -> None:
        """Deliver a run record (indexed, or spooled when Elasticsearch cannot take it)."""
        from pipelines.index import build_delivery

        try:
            if self._delivery is None:
                self._delivery = build_delivery(config.crawl_settings(self.env), self.env)
            outcome = self._delivery.deliver([(self.env.runs_alias, record["run_id"], record)])
            where = "indexed" if outcome.indexed else "spooled" if outcome.transient else "dead-lettered"
        except OSError as exc:
            where = f"lost ({exc})"
        logger.warning("run %s of %s: %s (%s); record written by the scheduler, %s", record["run_id"],
                       record["source"], record["status"], record["stop_reason"], where)

    def recover(self) -> None:
        """Settle the runs a previous scheduler left open (it was killed): stop a crawl still
        running under that run id (an orphan), then write its record unless the crawl did."""
        if self.ledger is None:
            return
        for run_id in self.ledger.open_runs():
            entry = self.ledger.entry(run_id) or {}
            pid = entry.get("pid")
            if isinstance(pid, int) and _runs_crawl(pid, run_id):
                logger.warning("crawl %s (pid %s) outlived the scheduler that started it: stopping it", run_id, pid)
                self.ledger.note_stop(run_id, "its scheduler died")
                _signal_group(pid, signal.SIGTERM)
                deadline = time.monotonic() + self.kill_grace
                while _runs_crawl(pid, run_id) and time.monotonic() < deadline:
                    time.sleep(0.2)
                _signal_group(pid, signal.SIGKILL)
            if not self.ledger.done(run_id):
                try:
                    started_at = datetime.fromisoformat(entry["started_at"])
                except (KeyError, TypeError, ValueError):
                    started_at = datetime.now(timezone.utc)
                source = entry.get("source") or run_id.rsplit("-", 2)[0]
                self.write_record(missing_record(run_id, source, self.kinds.get(source, ""), "killed",
                                                 "its scheduler died while it ran", started_at,
                                                 datetime.now(timezone.utc)))
            self.ledger.finish(run_id)


def _die_with_parent():
    """A preexec_fn (Linux) making the crawl get SIGTERM when the thread that started it dies, e.g.
    when the scheduler is SIGKILLed: it then closes within the grace time (cli/crawl.py Stopper)
    instead of running on as an orphan past its timeout. None where prctl does not exist."""
    if not sys.platform.startswith("linux"):
        return None
    prctl, parent = _LIBC.prctl, os.getpid()

    def preexec() -> None:  # runs in the child between fork and exec: nothing that takes a lock
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _runs_crawl(pid: int, run_id: str) -> bool:
    """True while process ``pid`` is the crawl of ``run_id`` (its command line names the run id)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return f"RUNS_RUN_ID={run_id}".encode() in cmdline


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass  # the whole group is gone already


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

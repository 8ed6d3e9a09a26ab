"""Runs crawls as subprocesses for the scheduler and ``banwave demo``.

Each run is a subprocess (Twisted's reactor cannot restart in one process):
``banwave crawl SOURCE`` in a new session, so a run that outlives
``SCHEDULER_CRAWL_TIMEOUT`` is killed with its whole process group, and with
``PR_SET_PDEATHSIG`` so it also stops when the scheduler dies. Every run has a
run id and a ledger entry (pipelines.runs.RunLedger): a crawl the runner
killed, or that died without its run record, gets one from the runner; runs a
killed scheduler left open are settled at the next start (``recover``).
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from scrapy.settings import Settings

import config
from config import Env
from pipelines.runs import RunLedger, missing_record

logger = logging.getLogger(__name__)

DEFAULT_CRAWL_COMMAND = [sys.executable, "-m", "cli.main", "crawl"]


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

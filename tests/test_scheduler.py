"""The scheduler in-process: reconciling the job store, firing, overlap, restarts, timeouts.

Crawls are a stand-in script (SCHEDULER_CRAWL_COMMAND) that logs its start
and end to a file, sleeps, and can spawn a grandchild or ignore SIGTERM, so
these tests need neither the network nor Elasticsearch. The real
``banwave crawl`` path is exercised in test_scheduler_cli.py.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

import config
import scheduler
from crawlers.runner import CrawlRunner
from crawlers.sources import Source

pytestmark = pytest.mark.slow  # crawl subprocesses (a stand-in command)

FAKE_CRAWL = r"""
import os, signal, subprocess, sys, time
log, sleep, mode, source = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[-1]
def note(event):
    with open(log, "a") as f:
        f.write(f"{event} {source} {os.getpid()}\n")
note("start")
if "ignore-term" in mode:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if "child" in mode:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    note(f"child{child.pid}")
time.sleep(sleep)
note("end")
sys.exit(3 if "fail" in mode else 0)
"""


def wait_for(condition, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (killed, not yet reaped by init) counts as dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Fake:
    """The stand-in crawl command and its event log."""

    def __init__(self, tmp_path: Path, sleep: float = 0, mode: str = "-"):
        self.script = tmp_path / "fake_crawl.py"
        self.script.write_text(FAKE_CRAWL)
        self.log = tmp_path / f"events-{mode}-{sleep}.log"
        self.command = [sys.executable, str(self.script), str(self.log), str(sleep), mode]

    def events(self, source: str | None = None) -> list[list[str]]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [line.split() for line in lines if source is None or line.split()[1] == source]

    def starts(self, source: str) -> int:
        return sum(1 for event in self.events(source) if event[0] == "start")


@pytest.fixture
def env(tmp_path) -> config.Env:
    return config.load({"BANWAVE_DATA_DIR": str(tmp_path / "data")}, env_file=tmp_path / "no.env")


def make(env: config.Env, fake: Fake, **overrides) -> scheduler.CrawlScheduler:
    settings = config.crawl_settings(env, {"SCHEDULER_CRAWL_COMMAND": fake.command, "SCHEDULER_KILL_GRACE": 5,
                                        **overrides})
    return scheduler.CrawlScheduler(settings)


@pytest.fixture
def started():
    """Start CrawlSchedulers through this, so a failing test still stops them."""
    running: list[scheduler.CrawlScheduler] = []

    def start(crawl_scheduler: scheduler.CrawlScheduler, triggers) -> dict:
        running.append(crawl_scheduler)
        return crawl_scheduler.start(triggers)

    yield start
    for crawl_scheduler in running:
        if crawl_scheduler.scheduler.running:
            crawl_scheduler.stop()


def source(name: str, **schedule) -> Source:
    return Source(name=name, kind="news", start=[{"type": "feed", "url": "http://127.0.0.1:1/rss.xml"}],
                  schedule=schedule)


def test_triggers_follow_the_sources_schedules(env, tmp_path):
    crawl_scheduler = make(env, Fake(tmp_path))
    triggers = crawl_scheduler.triggers([source("a", cron="15 * * * *"), source("b", interval_minutes=30),
                                         source("c", interval_minutes=5).model_copy(update={"enabled": False})])
    assert sorted(triggers) == ["a", "b"]
    assert isinstance(triggers["a"], CronTrigger) and triggers["a"].fields[6].expressions[0].first == 15
    assert str(triggers["a"].timezone) == "UTC"
    assert isinstance(triggers["b"], IntervalTrigger) and triggers["b"].interval == timedelta(minutes=30)
    assert [scheduler.describe(triggers[name]) for name in "ab"] == ["cron 15 * * * *", "every 0:30:00"]


def test_jobs_fire_and_runs_of_one_source_never_overlap(env, tmp_path, started, caplog):
    caplog.set_level(logging.INFO, logger="scheduler")
    fake = Fake(tmp_path, sleep=1.5, mode="fail")
    crawl_scheduler = make(env, fake)
    # Every 0.3 s while a run takes 1.5 s: without max_instances=1 runs would pile up.
    started(crawl_scheduler, {"a": IntervalTrigger(seconds=0.3), "b": IntervalTrigger(seconds=0.3)})
    wait_for(lambda: fake.starts("a") >= 3 and fake.starts("b") >= 3, what="three runs of each source")
    crawl_scheduler.stop()

    for name in ("a", "b"):
        kinds = [event[0] for event in fake.events(name)]
        # start, end, start, end, ...: a run starts only after the previous one ended
        assert all(kind == ("start" if i % 2 == 0 else "end") for i, kind in enumerate(kinds)), kinds
    # a failing crawl (exit 3) is one logged line, and the scheduler went on running it
    assert any("crawl a: exit 3 in" in r.getMessage() for r in caplog.records)
    assert crawl_scheduler.runner.outcomes["failed"] >= 4  # two finished runs per source at least


def test_restart_keeps_unchanged_jobs_and_reconciles_the_rest(env, tmp_path, started):
    fake = Fake(tmp_path)
    hourly, cron = IntervalTrigger(hours=1, timezone="UTC"), CronTrigger.from_crontab("0 3 * * *", timezone="UTC")
    first = make(env, fake)
    changes = started(first, {"a": hourly, "b": hourly, "c": cron})
    assert changes["added"] == ["a", "b", "c"]
    before = {job.id: job.next_run_time for job in first.scheduler.get_jobs()}
    first.stop()
    assert (env.data_dir / "jobs.sqlite").is_file()

    second = make(env, fake)
    triggers = {"a": IntervalTrigger(hours=1, timezone="UTC"), "c": CronTrigger.from_crontab("30 4 * * *", timezone="UTC"),
                "d": IntervalTrigger(minutes=20, timezone="UTC")}
    plan = {row.source: row.state for row in second.plan(triggers)}
    assert plan == {"a": "scheduled", "b": "removed", "c": "changed", "d": "new"}

    second = make(env, fake)
    changes = started(second, triggers)
    assert changes == {"added": ["d"], "replaced": ["c"], "removed": ["b"], "kept": ["a"]}
    jobs = {job.id: job for job in second.scheduler.get_jobs()}
    assert sorted(jobs) == ["a", "c", "d"]
    assert jobs["a"].next_run_time == before["a"]  # the stored schedule survived the restart
    assert str(jobs["c"].trigger) == str(CronTrigger.from_crontab("30 4 * * *"))
    assert all(job.func_ref == "scheduler:run_crawl" and job.args == (job.id,) for job in jobs.values())
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    assert fake.events() == []  # nothing was due


def _down_for(env, fake, started, hours: float, **overrides) -> None:
    """A first scheduler whose hourly job for 'a' was last due ``hours`` ago, as if it had been down."""
    first = make(env, fake, **overrides)
    started(first, {"a": IntervalTrigger(hours=1, timezone="UTC")})
    first.scheduler.pause()
    first.scheduler.modify_job("a", next_run_time=datetime.now(timezone.utc) - timedelta(hours=hours))
    first.stop()


def _events(crawl_scheduler, mask) -> list:
    seen: list = []
    crawl_scheduler.scheduler.add_listener(seen.append, mask)
    return seen


def test_runs_missed_while_down_are_made_up_once(env, tmp_path, started):
    fake = Fake(tmp_path)
    _down_for(env, fake, started, hours=2.5)  # due 2.5 h, 1.5 h and 0.5 h ago: within the one-hour grace
    second = make(env, fake)
    submitted = _events(second, EVENT_JOB_SUBMITTED)
    started(second, {"a": IntervalTrigger(hours=1, timezone="UTC")})
    wait_for(lambda: [e[0] for e in fake.events("a")] == ["start", "end"], what="the made-up run")
    assert len(submitted) == 1 and len(submitted[0].scheduled_run_times) == 1  # coalesced
    assert second.scheduler.get_job("a").next_run_time > datetime.now(timezone.utc)


def test_runs_missed_beyond_the_grace_time_are_skipped(env, tmp_path, started):
    fake = Fake(tmp_path)
    _down_for(env, fake, started, hours=2.5, SCHEDULER_MISFIRE_GRACE_TIME=60)
    second = make(env, fake, SCHEDULER_MISFIRE_GRACE_TIME=60)
    missed = _events(second, EVENT_JOB_MISSED)
    started(second, {"a": IntervalTrigger(hours=1, timezone="UTC")})
    wait_for(lambda: missed, what="the missed-run event")  # the executor decided not to run it
    assert fake.events() == []
    assert second.scheduler.get_job("a").next_run_time > datetime.now(timezone.utc)


def test_a_hung_crawl_is_killed_with_its_process_group_at_the_timeout(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="crawlers.runner")
    fake = Fake(tmp_path, sleep=600, mode="child,ignore-term")
    runner = CrawlRunner(fake.command, timeout=1, kill_grace=1)
    began = time.monotonic()
    code = runner.run("a")
    assert time.monotonic() - began < 30  # generous: 1 s timeout + 1 s grace
    assert code == -9  # it ignored SIGTERM, so SIGKILL
    child = int(next(event[0][5:] for event in fake.events("a") if event[0].startswith("child")))
    wait_for(lambda: not alive(child), timeout=10, what="the grandchild to die")
    assert [r.getMessage() for r in caplog.records if r.name == "crawlers.runner"][-1].startswith("crawl a: exit -9 in ")
    assert "killed at its 1s timeout" in caplog.text


def test_stop_all_terminates_running_crawls_and_refuses_new_ones(tmp_path):
    fake = Fake(tmp_path, sleep=600)
    runner = CrawlRunner(fake.command, timeout=600, kill_grace=5)
    codes: list = []
    thread = threading.Thread(target=lambda: codes.append(runner.run("a")))
    thread.start()
    wait_for(lambda: fake.starts("a") == 1, what="the crawl to start")
    runner.stop_all()
    thread.join(30)
    assert codes == [-15]  # SIGTERM was enough
    assert runner.run("b") is None and fake.starts("b") == 0
    assert runner.outcomes == {"stopped": 1, "not started": 1}


def test_a_crawl_command_that_cannot_start_is_one_logged_line(caplog):
    runner = CrawlRunner([os.devnull + "/no-such-command"], timeout=5, kill_grace=1)
    assert runner.run("a") is None
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("crawl a: cannot start ")


def test_run_crawl_needs_a_started_scheduler(monkeypatch):
    monkeypatch.setattr(scheduler, "_runner", None)
    with pytest.raises(RuntimeError, match="no crawl runner"):
        scheduler.run_crawl("a")


# ---------------------------------------------------------------------------- waves

@pytest.mark.es
def test_waves_run_after_each_crawl_and_once_at_a_time(es_env, es, tmp_path, started, caplog):
    """A finished crawl asks the @waves job to run; it tracks waves into <prefix>-waves. Crawls
    finishing while it runs make it run once more, never twice at a time."""
    from wavedata import history, index, quiet

    caplog.set_level(logging.INFO, logger="scheduler")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()   # WAVES_TIMEZONE
    start = today - timedelta(days=150)
    onset = start + timedelta(days=140)
    index(es, es_env, history(start, quiet(140), kind="news")
          + history(onset, [5, 9, 12, 8, 6, 4, 3, 2, 1, 1], sellers=("傲基",), thread="t"))
    fake = Fake(tmp_path, sleep=0.2)
    crawl_scheduler = make(es_env, fake, WAVES_INTERVAL_MINUTES=600)
    assert crawl_scheduler.waves is not None
    runs = []
    original = crawl_scheduler.waves._update_once
    crawl_scheduler.waves._update_once = lambda: (runs.append(time.monotonic()), time.sleep(0.5), original())
    started(crawl_scheduler, {"a": IntervalTrigger(seconds=0.3), "b": IntervalTrigger(seconds=0.3)})
    assert crawl_scheduler.scheduler.get_job(scheduler.WAVES_JOB_ID).next_run_time > datetime.now(timezone.utc) \
        + timedelta(minutes=500)   # its own schedule: every 600 minutes
    wait_for(lambda: fake.starts("a") >= 3 and len(runs) >= 2, what="crawls and waves runs")
    crawl_scheduler.stop()
    es.indices.refresh(index=es_env.waves_alias)
    waves = [h["_source"] for h in es.search(index=es_env.waves_alias, size=20)["hits"]["hits"]]
    assert {(w["scope_kind"], w["scope"]) for w in waves} >= {("overall", "all"), ("seller", "傲基")}
    assert next(w for w in waves if w["scope"] == "傲基")["onset"][:10] == onset.isoformat()
    assert crawl_scheduler.waves.outcomes["ok"] == len(runs) >= 2
    # never two waves runs at once: each began after the previous one's 0.5 s
    assert all(b - a >= 0.5 for a, b in zip(runs, runs[1:]))
    assert any(r.getMessage().startswith("waves: ") and "current of" in r.getMessage() for r in caplog.records)


@pytest.mark.es
def test_no_waves_job_without_elasticsearch_or_when_disabled(env, es_env, tmp_path, started):
    for config_env, overrides in ((env, {}), (es_env, {"WAVES_ENABLED": False})):
        crawl_scheduler = make(config_env, Fake(tmp_path), **overrides)
        started(crawl_scheduler, {"a": IntervalTrigger(hours=1)})
        assert crawl_scheduler.waves is None and crawl_scheduler.scheduler.get_job(scheduler.WAVES_JOB_ID) is None
        crawl_scheduler.stop()


def test_a_broken_waves_setting_stops_the_scheduler_at_start(es_env, tmp_path):
    from waves.config import WavesConfigError
    with pytest.raises(WavesConfigError, match="WAVES_DETECTOR"):
        make(es_env, Fake(tmp_path), WAVES_DETECTOR="magic")

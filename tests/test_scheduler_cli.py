"""``banwave schedule`` as a process: --list, bad sources files, SIGTERM, and a real crawl.

A job is made due at once by writing it into the job store beforehand (a
scheduler that was down when the run was due), which the started process
keeps because the sources file did not change; so nothing waits a minute
for the shortest schedule the sources file allows.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import config
import scheduler
from demo.web import DemoWeb
from crawlers.sources import load_sources
from pipelines.spool import Spool
from test_scheduler import Fake, alive, wait_for

pytestmark = pytest.mark.slow  # `banwave schedule` and crawl subprocesses

REPO = Path(__file__).resolve().parent.parent

SOURCES = """
sources:
- name: alpha
  kind: news
  start: [{type: feed, url: "http://127.0.0.1:1/rss.xml"}]
  schedule: {interval_minutes: 30}
- name: beta
  kind: news
  start: [{type: feed, url: "http://127.0.0.1:1/rss.xml"}]
  schedule: {cron: "15 3 * * *"}
- name: gamma
  kind: news
  enabled: false
  start: [{type: feed, url: "http://127.0.0.1:1/rss.xml"}]
"""


def environ(tmp_path: Path, sources: Path, **extra: str) -> dict[str, str]:
    return config.process_environ({"BANWAVE_DATA_DIR": str(tmp_path / "data"), "BANWAVE_SOURCES": str(sources),
                                   "BANWAVE_ENV_FILE": "", "BANWAVE_ES_URL": "", "BANWAVE_LOG_LEVEL": "INFO", **extra})


def banwave(*args: str, env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=60, **kwargs)


def make_due(env: dict, sources: Path, name: str, settings: dict | None = None) -> None:
    """Store the jobs of ``sources`` with ``name`` due now, as a scheduler that was down would leave them,
    and every other job a day away: a cron source (the demo's en-news fires at minute 15) must not fire
    during a test because of the wall-clock time it happens to run at."""
    loaded = config.load(env, env_file=os.devnull)
    crawl_scheduler = scheduler.CrawlScheduler(config.crawl_settings(loaded, settings))
    crawl_scheduler.start(crawl_scheduler.triggers(load_sources(sources)))
    crawl_scheduler.scheduler.pause()
    now = datetime.now(timezone.utc)
    for job in crawl_scheduler.scheduler.get_jobs():
        crawl_scheduler.scheduler.modify_job(job.id, next_run_time=now if job.id == name else now + timedelta(days=1))
    crawl_scheduler.stop()


class Schedule:
    """``banwave schedule`` running in the background, its log in a file."""

    def __init__(self, env: dict, log: Path, *args: str):
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "cli.main", "schedule", *args], env=env, cwd=REPO,
                                         stdout=out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail("banwave schedule did not stop within 60 s of " + signal.Signals(signum).name)


def test_list_shows_each_enabled_source_with_its_next_run(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES)
    result = banwave("schedule", "--list", env=environ(tmp_path, sources))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert rows["alpha"].split()[1:3] == ["every", "0:30:00"] and rows["alpha"].endswith("new")
    assert "cron 15 3 * * *" in rows["beta"] and " 03:15:00" in rows["beta"]
    assert "apscheduler" not in result.stderr
    assert rows["disabled:"] == "disabled: gamma"

    make_due(environ(tmp_path, sources), sources, "alpha")
    sources.write_text(SOURCES.replace("interval_minutes: 30", "interval_minutes: 45"))
    rows = {line.split()[0]: line for line in banwave("schedule", "--list",
                                                       env=environ(tmp_path, sources)).stdout.splitlines()}
    assert rows["alpha"].endswith("changed") and rows["beta"].endswith("scheduled")


@pytest.mark.parametrize("text, message", [
    ("sources: [{name: Bad Name, kind: news, start: []}]", "sources.yaml: source 'Bad Name': field 'name'"),
    ("sources: [", "sources.yaml: line 1: invalid YAML"),
])
def test_a_bad_sources_file_is_one_line_and_exit_2(tmp_path, text, message):
    sources = tmp_path / "sources.yaml"
    sources.write_text(text)
    for args in (["schedule"], ["schedule", "--list"]):
        result = banwave(*args, env=environ(tmp_path, sources))
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_a_bad_alerts_file_is_one_line_and_exit_2_and_list_shows_the_waves_job(tmp_path):
    sources, alerts = tmp_path / "sources.yaml", tmp_path / "alerts.yaml"
    sources.write_text(SOURCES)
    alerts.write_text("channels:\n  - {name: ops, type: slack, lang: en, url_env: BANWAVE_TEST_UNSET_HOOK}\n")
    # waves need an Elasticsearch URL to be scheduled; neither --list nor a failed start connects to it
    env = environ(tmp_path, sources, BANWAVE_ES_URL="http://127.0.0.1:9", BANWAVE_ALERTS=str(alerts))
    for args in (["schedule"], ["schedule", "--list"]):
        result = banwave(*args, env=env)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == ("banwave: alerts.yaml: channel 'ops': field 'url_env': "
                                         "BANWAVE_TEST_UNSET_HOOK is not set (named in the alerts file)")
    alerts.write_text("channels: []\n")
    result = banwave("schedule", "--list", env=env)
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert result.returncode == 0 and "every 1:00:00 and after each crawl" in rows["@waves"], result.stdout


def test_sigterm_stops_the_scheduler_and_its_running_crawl(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES)
    env = environ(tmp_path, sources)
    fake = Fake(tmp_path, sleep=600, mode="child")
    make_due(env, sources, "alpha")
    schedule = Schedule(env, tmp_path / "schedule.log", "-s", "SCHEDULER_CRAWL_COMMAND=" + ",".join(fake.command),
                        "-s", "SCHEDULER_KILL_GRACE=10")
    try:
        child = wait_for(lambda: next((int(e[0][5:]) for e in fake.events("alpha") if e[0].startswith("child")), 0),
                         what="the due job's crawl to start (it was stored due)")
        crawl_pid = int(fake.events("alpha")[0][2])
        second = banwave("schedule", env=env)  # the same data dir, hence the same job store
        assert second.returncode == 1
        assert second.stderr == f"banwave: another scheduler (pid {schedule.proc.pid}) runs on {tmp_path / 'data'}\n"
    finally:
        code = schedule.stop(signal.SIGTERM)
    log = schedule.text()
    assert code == 0, log
    assert "SIGTERM received: stopping the scheduler" in log
    assert "crawl alpha: exit -15 in" in log and "(stopped with the scheduler)" in log
    assert "crawl runs: 1 stopped" in log and "scheduler stopped" in log
    assert not alive(crawl_pid)
    wait_for(lambda: not alive(child), timeout=10, what="the crawl's child to die with its process group")
    assert fake.starts("beta") == 0


def test_schedule_settings_reach_every_crawl(tmp_path, demo_sources):
    """`banwave schedule -s NAME=VALUE` reaches the crawl subprocesses: the crawl's stats (its run
    record, spooled as no Elasticsearch is configured) show the page limit given to the scheduler."""
    env = environ(tmp_path, demo_sources)
    make_due(env, demo_sources, "cn-news")
    schedule = Schedule(env, tmp_path / "schedule.log", "-s", "CLOSESPIDER_PAGECOUNT=2")
    try:
        wait_for(lambda: "crawl cn-news: exit" in schedule.text(), timeout=120, what="the cn-news crawl")
    finally:
        assert schedule.stop() == 0, schedule.text()[-3000:]
    [run] = [action.doc for action in Spool(tmp_path / "data").read() if action.index.endswith("-runs")]
    assert run["source"] == "cn-news" and run["finish_reason"] == "closespider_pagecount", run
    assert run["pages"] <= 3  # the limit counts responses; one more may be in flight when it closes


@pytest.mark.es
def test_a_scheduled_run_replays_the_spool_and_crawls_the_demo_web_into_elasticsearch(tmp_path, es_env, es):
    port = 8761  # not the demo web's default: other suites may serve it at the same time
    text = (REPO / "sources.demo.yaml").read_text("utf-8")
    for i in range(3):
        text = text.replace(f"127.0.0.1:{8701 + i}", f"127.0.0.1:{port + i}")
    sources = tmp_path / "sources.demo.yaml"
    sources.write_text(text, "utf-8")
    env = environ(tmp_path, sources, BANWAVE_ES_URL=es_env.es_url, BANWAVE_INDEX_PREFIX=es_env.index_prefix,
                  BANWAVE_DATA_DIR=str(es_env.data_dir))
    assert banwave("es", "setup", env=env).returncode == 0
    make_due(env, sources, "cn-news")
    # What an earlier run could not index: the scheduled run's crawl replays it first.
    spool = Spool(es_env.data_dir)
    spool.append([(es_env.docs_alias, "spooled-1", {"id": "spooled-1", "source": "earlier", "title": "封店"})],
                 "Elasticsearch unreachable")
    with DemoWeb(base_port=port) as web:
        schedule = Schedule(env, tmp_path / "schedule.log")
        try:
            wait_for(lambda: "crawl cn-news: exit" in schedule.text(), timeout=120, what="the cn-news crawl")
        finally:
            code = schedule.stop()
    log = schedule.text()
    assert code == 0 and "crawl cn-news: exit 0 in" in log, log[-3000:]
    assert web.paths("cn-news") and not web.paths("en-news") and not web.paths("forum")
    es.indices.refresh(index=f"{es_env.index_prefix}-*")
    assert es.count(index=es_env.docs_alias, query={"term": {"source": "cn-news"}})["count"] > 0
    assert spool.count() == 0 and es.exists(index=es_env.docs_alias, id="spooled-1")
    runs = es.search(index=es_env.runs_alias, query={"term": {"source": "cn-news"}})["hits"]["hits"]
    assert [hit["_source"]["status"] for hit in runs] in (["ok"], ["partial"])  # one scheduled run, one record

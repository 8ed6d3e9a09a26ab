"""Issue 14, defect 5: killed or hung crawls leave a trace, close on SIGTERM, and die with their parent.

The run records go to the spool (no Elasticsearch configured), where these
tests read them. Real crawls run against tests/hostile_web.py's hanging pages.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import config
from conftest import REPO, crawl_environ
from crawlers.runner import DEFAULT_CRAWL_COMMAND, CrawlRunner
from hostile_web import HostileWeb
from pipelines.spool import Spool
from test_scheduler import Fake, alive, wait_for
from test_scheduler_cli import SOURCES, Schedule, environ, make_due

pytestmark = pytest.mark.slow


def run_records(data_dir: Path) -> list[dict]:
    return [action.doc for action in Spool(data_dir).read() if action.index.endswith("-runs")]


def hang_sources(web: HostileWeb, path: Path) -> Path:
    path.write_text(web.sources_yaml(start="/hang-list.html", start_type="listing"), "utf-8")
    return path


def test_a_crawl_killed_at_its_timeout_gets_a_run_record_from_the_scheduler(tmp_path):
    env = config.load({"BANWAVE_DATA_DIR": str(tmp_path / "data")}, env_file=tmp_path / "no.env")
    fake = Fake(tmp_path, sleep=600, mode="ignore-term")  # never writes a record, ignores SIGTERM
    runner = CrawlRunner(fake.command, timeout=1, kill_grace=1, env=env)
    runner.kinds["a"] = "news"
    assert runner.run("a") == -9
    [record] = run_records(env.data_dir)
    assert record["source"] == "a" and record["source_kind"] == "news" and record["status"] == "killed"
    assert record["stop_reason"] == "killed at its 1s timeout; SIGKILL after 1s"
    assert record["run_id"].startswith("a-") and record["duration_s"] >= 1
    assert not list((env.data_dir / "runs").iterdir()), "the ledger entry is closed"


def test_a_crawl_that_fails_without_a_record_gets_one(tmp_path):
    env = config.load({"BANWAVE_DATA_DIR": str(tmp_path / "data")}, env_file=tmp_path / "no.env")
    runner = CrawlRunner(Fake(tmp_path, mode="fail").command, timeout=60, kill_grace=1, env=env)
    assert runner.run("b") == 3
    [record] = run_records(env.data_dir)
    assert (record["status"], record["stop_reason"]) == ("failed", "exit 3 before its run record was written")


def test_a_real_crawl_killed_at_its_timeout_closes_within_the_grace_and_records_why(tmp_path):
    with HostileWeb(articles=0, hostile=False) as web:
        sources = hang_sources(web, tmp_path / "sources.yaml")
        env = config.load(crawl_environ("", "tkill", tmp_path / "data", sources), env_file=os.devnull)
        runner = CrawlRunner(DEFAULT_CRAWL_COMMAND, timeout=1, kill_grace=20, env=env,
                                       log_dir=tmp_path)
        # the timeout starts once the crawl hangs on its pages: a crawl needs seconds to load its NLP stage
        runner.timeout = 600
        import threading

        codes: list = []
        thread = threading.Thread(target=lambda: codes.append(runner.run("hostile")))
        thread.start()
        wait_for(lambda: any(hit.startswith("/hang/") for hit in web.hits), timeout=120, what="the hanging pages")
        time.sleep(1)
        began = time.monotonic()
        [proc] = runner._running.values()
        runner._kill(proc, "killed at its 600s timeout")
        closed_in = time.monotonic() - began
        thread.join(30)
    log = (tmp_path / "hostile.log").read_text(errors="replace")
    assert codes == [1], log[-3000:]  # it closed by itself: exit 1 (killed), not -9
    assert closed_in < 10, f"closed {closed_in:.1f}s after SIGTERM"
    [record] = run_records(tmp_path / "data")
    assert record["status"] == "killed" and record["stop_reason"] == "killed at its 600s timeout"
    assert record["finish_reason"] == "shutdown" and record["items"] == 0, record  # its own record, with stats
    assert record["errors_total"] == 0, "the cancelled downloads are not the site's errors"


def test_a_sigterm_while_the_crawl_starts_stops_it_at_once(demo_sources, tmp_path):
    """Between the crawl's start and its reactor's (seconds: building the pipelines loads the NLP
    dictionaries) Scrapy's handlers were not installed yet and SIGTERM killed it without a trace."""
    environ = crawl_environ("", "tearly", tmp_path / "data", demo_sources)
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "crawl", "forum", "cn-news"], cwd=REPO, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err = []
    for line in proc.stderr:  # until the first crawler is being built
        err.append(line)
        if "Enabled downloader middlewares" in line:
            break
    proc.send_signal(signal.SIGTERM)
    began = time.monotonic()
    out, rest = proc.communicate(timeout=120)
    err = "".join(err) + rest
    assert time.monotonic() - began < 60
    assert proc.returncode == 1, err[-3000:]
    assert "Traceback" not in err
    assert out.startswith("forum: killed") and "cn-news" not in out, out  # the next source is not started
    [record] = run_records(tmp_path / "data")
    assert (record["source"], record["status"], record["stop_reason"]) == ("forum", "killed", "SIGTERM")


def test_crawls_die_with_a_killed_scheduler_and_the_next_one_records_them(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES)
    env = environ(tmp_path, sources)
    fake = Fake(tmp_path, sleep=600)
    make_due(env, sources, "alpha")
    first = Schedule(env, tmp_path / "first.log", "-s", "SCHEDULER_CRAWL_COMMAND=" + ",".join(fake.command))
    try:
        wait_for(lambda: fake.starts("alpha") == 1, what="the due crawl to start")
        crawl_pid = int(fake.events("alpha")[0][2])
        first.proc.kill()  # SIGKILL: no shutdown, no stop_all
        first.proc.wait()
        wait_for(lambda: not alive(crawl_pid), timeout=15, what="the crawl to die with its scheduler")
    finally:
        first.stop()
    second = Schedule(env, tmp_path / "second.log", "-s", "SCHEDULER_CRAWL_COMMAND=" + ",".join(fake.command))
    try:
        wait_for(lambda: "scheduler started" in second.text(), timeout=60, what="the second scheduler")
    finally:
        assert second.stop() == 0
    [record] = run_records(tmp_path / "data")
    assert record["source"] == "alpha" and record["status"] == "killed"
    assert record["stop_reason"] == "its scheduler died while it ran"


def test_a_real_crawl_orphaned_by_a_killed_scheduler_closes_and_records_it(tmp_path):
    with HostileWeb(articles=0, hostile=False) as web:
        sources = hang_sources(web, tmp_path / "sources.yaml")
        env = environ(tmp_path, sources)
        make_due(env, sources, "hostile")
        schedule = Schedule(env, tmp_path / "schedule.log", "-s", "SCHEDULER_KILL_GRACE=20")
        try:
            wait_for(lambda: any(hit.startswith("/hang/") for hit in web.hits), timeout=120, what="the hanging pages")
            ledger = next((tmp_path / "data" / "runs").glob("*.json"))
            crawl_pid = json.loads(ledger.read_text())["pid"]
            schedule.proc.kill()
            schedule.proc.wait()
            wait_for(lambda: not alive(crawl_pid), timeout=20, what="the orphaned crawl to close")
        finally:
            schedule.stop()
    [record] = run_records(tmp_path / "data")
    assert record["status"] == "killed" and record["stop_reason"] == "SIGTERM: its parent process died", record
    assert record["finish_reason"] == "shutdown", "the crawl closed and wrote its own record"

"""Issue 14, defects 1 and 5 (crawl side): a page is recorded as fetched only once its documents
are safe, and a killed crawl's leftovers never stop the next one.

Crawls run as ``banwave crawl`` subprocesses against the session's demo web,
without Elasticsearch (everything goes to the spool) or with an unreachable
one, so these tests need no Elasticsearch of their own.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import demo
from conftest import REPO, banwave, crawl_environ, demo_url
from pipelines.spool import Spool

pytestmark = pytest.mark.slow

GOLD = demo.gold()


def gold_urls(web, site: str) -> set[str]:
    """The URLs of a site's gold documents as the session's demo web serves them."""
    return {demo_url(web, row["url"]) for row in GOLD if row["site"] == site}


def seen_pages(data_dir: Path, source: str) -> int:
    path = data_dir / "crawl" / source / "seen.sqlite"
    if not path.exists():
        return 0
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT count(*) FROM pages").fetchone()[0]
    finally:
        db.close()


def spooled_docs(data_dir: Path) -> list[dict]:
    return [action.doc for action in Spool(data_dir).read() if action.index.endswith("-docs")]


def test_disk_full_with_elasticsearch_down_records_no_page_as_fetched(demo_sources, tmp_path):
    data_dir = tmp_path / "data"
    spool = Spool(data_dir)
    spool.dir.mkdir(parents=True)
    os.symlink("/dev/full", spool.path)  # every write to the spool fails with ENOSPC
    environ = crawl_environ("http://127.0.0.1:9", "tfull", data_dir, demo_sources)  # nothing listens on port 9

    first = banwave(["crawl", "en-news"], environ, check=False)
    assert first.returncode == 1 and first.stdout.startswith("en-news: failed"), first.stdout + first.stderr[-3000:]
    assert seen_pages(data_dir, "en-news") == 0, "no document was indexed or spooled, so no page counts as fetched"
    assert "could not be indexed nor spooled" in first.stderr

    spool.path.unlink()  # the disk has room again; Elasticsearch is still down
    second = banwave(["crawl", "en-news"], environ)
    en_news = sum(1 for row in GOLD if row["site"] == "en-news")
    assert f"{en_news} items, 0 indexed, 0 unchanged, {en_news} spooled" in second.stdout, second.stdout
    assert len({doc["id"] for doc in spooled_docs(data_dir)}) == en_news


def test_a_request_queue_left_half_written_by_a_kill_does_not_stop_the_next_crawl(demo_web, demo_sources, tmp_path):
    """SIGKILL once the job dir's disk queue exists: its files are left as they were mid-write, at
    worst (pinned here) a queue file whose header was never flushed, 0 bytes, and no active.json.
    The next run must still crawl everything (it used to push into that file, fail, and fetch nothing)."""
    data_dir = tmp_path / "data"
    environ = crawl_environ("", "tkill", data_dir, demo_sources)
    queue = data_dir / "crawl" / "forum" / "job" / "requests.queue"

    def queue_files() -> list[Path]:
        return [path for path in queue.rglob("*") if path.is_file() and path.name != "active.json"]

    # A delay between requests keeps the queue on disk for seconds, not milliseconds, on a loaded machine.
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "crawl", "forum", "-s", "DOWNLOAD_DELAY=0.3"],
                            cwd=REPO, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not queue_files() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    assert queue_files(), "the crawl was killed with requests in its disk queue"
    for path in queue_files():
        path.write_bytes(b"")
    assert not (queue / "active.json").exists()

    second = banwave(["crawl", "forum"], environ)
    assert "Traceback" not in second.stderr, second.stderr[-3000:]
    assert "did not close cleanly" in second.stderr
    assert {doc["url"] for doc in spooled_docs(data_dir)} == gold_urls(demo_web, "forum")


def test_two_crawls_of_one_source_never_share_its_job_dir(demo_sources, tmp_path):
    environ = crawl_environ("", "tlock", tmp_path / "data", demo_sources)
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "crawl", "forum"], cwd=REPO, env=environ,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        mark = tmp_path / "data" / "crawl" / "forum" / "job" / "running"
        deadline = time.monotonic() + 120
        while not mark.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = banwave(["crawl", "forum"], environ, check=False)
        assert second.returncode == 1
        assert "another crawl of source 'forum' is running" in second.stdout
    finally:
        proc.kill()
        proc.wait()


def test_an_item_that_fails_in_a_pipeline_leaves_its_page_unrecorded(demo_sources, tmp_path):
    """MarkSeenMiddleware: an item_error is not 'handed on'; the page is fetched again next run."""
    data_dir = tmp_path / "data"
    environ = crawl_environ("", "terr", data_dir, demo_sources)
    failing = tmp_path / "failing.py"
    failing.write_text("class Fail:\n    def process_item(self, item):\n        raise RuntimeError('broken stage')\n")
    environ["PYTHONPATH"] = str(tmp_path)
    pipelines = json.dumps({"pipelines.clean.CleanPipeline": 200, "failing.Fail": 300,
                            "pipelines.index.IndexPipeline": 900})
    banwave(["crawl", "en-news", "-s", f"ITEM_PIPELINES={pipelines}"], environ, check=False)
    assert seen_pages(data_dir, "en-news") == 0
    assert spooled_docs(data_dir) == []


def test_a_crawl_opens_no_telnet_console_and_no_remote_control(demo_sources, tmp_path):
    """Scrapy's telnet console and its remote-control HTTP server (which runs Python code sent to
    it) were on in every crawl, the telnet password logged at INFO."""
    result = banwave(["crawl", "en-news"], crawl_environ("", "tsafe", tmp_path / "data", demo_sources))
    for text in ("Telnet Password", "Telnet console listening", "scrapy.extensions.telnet.TelnetConsole",
                 "Remote control HTTP server", "scrapy.extensions.remote_control.RemoteControl"):
        assert text not in result.stderr
    assert "Error processing" not in result.stderr
    assert "Dropped " not in result.stderr or "{'id'" not in result.stderr, "items are named, not printed whole"


def test_a_failed_later_page_of_a_thread_is_fetched_again_when_the_board_lists_only_page_one(tmp_path):
    """Page 1 of a thread recorded, page 2 failed (or sat in a queue lost to a kill): when the board
    shows no page links (many forums do not), the next run found the thread 'unchanged' and page 2's
    posts were never fetched. The pages a thread links to are now remembered."""
    import re
    import shutil

    from conftest import start_demo_web

    sites = tmp_path / "sites"
    shutil.copytree(demo.SITES_DIR, sites)
    for board in (sites / "forum").glob("forum-*.html"):
        board.write_bytes(re.sub(rb'<span class="tps">.*?</span>', b"", board.read_bytes()))
    routes_file = sites / "forum" / "_routes.json"
    routes = json.loads(routes_file.read_text("utf-8"))
    routes["routes"]["/thread-1202-2-1.html"] = {"fail_first": 1, "fail_status": 500}
    routes_file.write_text(json.dumps(routes), "utf-8")
    web = start_demo_web(sites)
    try:
        sources = tmp_path / "sources.yaml"
        sources.write_text(demo_url(web, (REPO / "sources.demo.yaml").read_text("utf-8")), "utf-8")
        environ = crawl_environ("", "tpages", tmp_path / "data", sources)
        first = banwave(["crawl", "forum", "-s", "RETRY_TIMES=0"], environ)
        assert "http_500 1" in first.stdout, first.stdout
        banwave(["crawl", "forum"], environ)
        assert {doc["url"] for doc in spooled_docs(tmp_path / "data")} == gold_urls(web, "forum")
    finally:
        web.stop()

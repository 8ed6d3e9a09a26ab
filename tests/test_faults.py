"""Faults during a crawl, against real Elasticsearch servers: nothing lost, nothing indexed twice.

The reference is ``demo_index``: the same demo web crawled without a fault.
Tests that stop Elasticsearch start their OWN dev instance (deploy/dev-es/es.sh
with a temporary BANWAVE_DEV_ES_HOME and free ports) and stop it in a
finalizer; the shared dev server is never stopped.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta

import pytest
from elasticsearch import Elasticsearch

import config
from conftest import REPO, banwave, crawl_environ, delete_prefix, index_docs

pytestmark = pytest.mark.es

ES_SH = REPO / "deploy" / "dev-es" / "es.sh"
# Small, quick batches so a crawl of the demo web spans many of them; short waits when ES is down.
FAST = ["-s", "INDEX_BATCH_DOCS=4", "-s", "INDEX_FLUSH_SECONDS=0.2", "-s", "INDEX_DOWN_PAUSE=0.5",
        "-s", "INDEX_MAX_RETRIES=2", "-s", "INDEX_INITIAL_BACKOFF=0.2", "-s", "INDEX_MAX_BACKOFF=1"]
VOLATILE = ("indexed_at", "crawled_at")  # differ between any two crawls


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_base_port(nodes: int, start: int) -> int:
    """First HTTP base port from ``start`` whose HTTP and transport (+100) ports are all free."""
    for base in range(start, start + 90, 10):
        if all(_free(base + i) and _free(base + 100 + i) for i in range(nodes)):
            return base
    raise AssertionError(f"no free ports for {nodes} Elasticsearch node(s) from {start}")


class OwnElasticsearch:
    """A dev Elasticsearch of this test only (es.sh with its own home directory)."""

    def __init__(self, home, nodes: int, port: int):
        # Both ports named: a developer's BANWAVE_DEV_ES_TRANSPORT_PORT must not reach this server.
        self.env = config.process_environ({"BANWAVE_DEV_ES_HOME": str(home),
                                           "BANWAVE_DEV_ES_TRANSPORT_PORT": str(port + 100)})
        self.nodes, self.port = nodes, port
        self.url = f"http://127.0.0.1:{port}"

    def es_sh(self, *args: str) -> None:
        proc = subprocess.run([str(ES_SH), *args], env=self.env, capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, f"es.sh {' '.join(args)}: {proc.stdout}{proc.stderr}"

    def start(self) -> "OwnElasticsearch":
        self.es_sh("start", "--nodes", str(self.nodes), "--port", str(self.port))
        return self

    def stop(self) -> None:
        self.es_sh("stop")


@pytest.fixture
def own_es(tmp_path):
    server = OwnElasticsearch(tmp_path / "es", 1, free_base_port(1, 9250)).start()
    yield server
    server.stop()


@pytest.fixture
def own_cluster(tmp_path):
    server = OwnElasticsearch(tmp_path / "es3", 3, free_base_port(3, 9400)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def reference(demo_index, es_url) -> dict[str, dict]:
    client = Elasticsearch(es_url, request_timeout=30)
    try:
        return index_docs(client, demo_index.docs_alias)
    finally:
        client.close()


def comparable(docs: dict[str, dict]) -> dict[str, dict]:
    """Sources without volatile fields; ``story_id`` as the set of documents sharing it.

    A story's id is the id of its first document, so which copy names it depends on
    crawl order; which documents form one story does not.
    """
    stories: dict[str, list[str]] = {}
    for doc_id, doc in docs.items():
        stories.setdefault(doc["_source"].get("story_id"), []).append(doc_id)
    return {
        doc_id: {k: v for k, v in doc["_source"].items() if k not in VOLATILE + crawl_relative(doc["_source"])}
        | {"story_id": sorted(stories[doc["_source"].get("story_id")])}
        for doc_id, doc in docs.items()
    }


def crawl_relative(source: dict) -> tuple[str, ...]:
    """Date fields that follow the crawl time: an undated page's timeline_at is its crawl time,
    and a date the page gives relative to now ("3 小时前") lies within a day before the crawl."""
    crawled = datetime.fromisoformat(source["crawled_at"])
    published = datetime.fromisoformat(source["published"]) if source.get("published") else None
    if published is None or timedelta(0) <= crawled - published <= timedelta(days=1):
        return ("published", "timeline_at")
    return ()


def start_crawl(args: list[str], environ: dict, log) -> subprocess.Popen:
    """`banwave crawl` in the background; its log goes to the file ``log`` (a pipe nobody reads would fill up)."""
    with open(log, "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "cli.main", "crawl", *args], cwd=REPO, env=environ,
                                stdout=subprocess.PIPE, stderr=stderr, text=True)
    proc.log = log
    return proc


def said(proc: subprocess.Popen) -> str:
    """Summary lines and the end of the log, for failure messages."""
    out, _ = proc.communicate()
    return f"{out}\n{proc.log.read_text(errors='replace')[-6000:]}"


def count(client: Elasticsearch, index: str) -> int:
    try:
        client.indices.refresh(index=index)
        return client.count(index=index)["count"]
    except Exception:  # noqa: BLE001 - not created yet, or the server is the one being stopped
        return 0


def wait_for(condition, proc: subprocess.Popen | None = None, timeout: float = 120) -> None:
    """Poll ``condition`` until true; fail if the crawl ``proc`` ended first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the crawl ended before the fault could be injected:\n{said(proc)}")
        if time.monotonic() > deadline:
            if proc is not None:
                proc.kill()
                raise AssertionError(f"timed out waiting; the crawl said:\n{said(proc)}")
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"{out}\n{proc.log.read_text(errors='replace')[-4000:]}"
    return out


def spooled_in(summary: str) -> int:
    return sum(int(part.split()[0]) for line in summary.splitlines() for part in line.split(", ")
               if part.endswith(" spooled"))


def test_elasticsearch_stopped_mid_crawl_then_replayed(own_es, reference, demo_sources, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:10]}"
    data_dir = tmp_path / "data"
    environ = crawl_environ(own_es.url, prefix, data_dir, demo_sources)
    client = Elasticsearch(own_es.url, request_timeout=10, max_retries=0)
    proc = start_crawl(["--all", *FAST], environ, tmp_path / "crawl.log")
    wait_for(lambda: count(client, f"{prefix}-docs") >= 4, proc)   # the first batch is in
    own_es.stop()
    spool_file = data_dir / "spool" / "spool.jsonl"
    wait_for(lambda: spool_file.is_file() and spool_file.stat().st_size > 0, proc)  # the crawl spools and goes on
    own_es.start()
    summary = finish(proc)
    assert [line.split(":")[0] for line in summary.splitlines()] == ["cn-news", "en-news", "forum"]
    assert spooled_in(summary) > 0

    replay = banwave(["index", "replay"], environ)
    assert " 0 left" in replay.stdout
    assert (data_dir / "spool" / "spool.jsonl").read_text() == ""
    docs = index_docs(client, f"{prefix}-docs")
    assert comparable(docs) == comparable(reference), "exactly the documents of a crawl without the fault"
    runs = index_docs(client, f"{prefix}-runs")
    assert sorted(r["_source"]["source"] for r in runs.values()) == ["cn-news", "en-news", "forum"]
    client.close()


def test_crawl_killed_mid_batch_loses_nothing_and_writes_nothing_twice(es_url, reference, demo_sources, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:10]}"
    environ = crawl_environ(es_url, prefix, tmp_path / "data", demo_sources)
    client = Elasticsearch(es_url, request_timeout=30)
    try:
        proc = start_crawl(["forum", "-s", "INDEX_BATCH_DOCS=10", "-s", "INDEX_FLUSH_SECONDS=5"], environ,
                           tmp_path / "crawl.log")
        wait_for(lambda: count(client, f"{prefix}-docs") >= 10, proc)
        proc.kill()  # SIGKILL: no close_spider, no flush, batches in flight
        proc.wait()
        acknowledged = index_docs(client, f"{prefix}-docs")
        assert 10 <= len(acknowledged) < 66, "killed in the middle of the crawl"

        banwave(["crawl", "forum"], environ)  # the next run resumes and re-fetches unacknowledged pages
        after = index_docs(client, f"{prefix}-docs")
        # Stories compared within the forum: a forum-only crawl never meets the cn-news original
        # of the reposted article.
        expected = comparable({k: v for k, v in reference.items() if v["_source"]["source"] == "forum"})
        assert comparable(after) == expected
        for doc_id, doc in acknowledged.items():
            assert (after[doc_id]["_seq_no"], after[doc_id]["_version"]) == (doc["_seq_no"], doc["_version"])
        assert {doc["_version"] for doc in after.values()} == {1}, "no document was written twice"
    finally:
        client.close()
        delete_prefix(es_url, prefix)


def test_node_stopped_mid_crawl_loses_no_document(own_cluster, reference, demo_sources, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:10]}"
    environ = crawl_environ(own_cluster.url, prefix, tmp_path / "data", demo_sources)
    client = Elasticsearch(own_cluster.url, request_timeout=30, max_retries=0)
    proc = start_crawl(["--all", *FAST], environ, tmp_path / "crawl.log")
    wait_for(lambda: count(client, f"{prefix}-docs") >= 4, proc)
    shards = client.cat.shards(index=f"{prefix}-docs-v1", format="json")
    nodes = {row["prirep"]: row["node"] for row in shards if row["state"] == "STARTED"}
    assert len(nodes) == 2, f"one primary and one replica: {shards}"
    # Stop the primary's node; node 0 answers the client, so then the replica's (promoted to primary).
    victim = nodes["p"] if nodes["p"] != "dev-es-0" else nodes["r"]
    own_cluster.es_sh("node-stop", victim.rsplit("-", 1)[1])
    summary = finish(proc)
    own_cluster.es_sh("node-start", victim.rsplit("-", 1)[1])
    client.cluster.health(wait_for_status="green", timeout="60s")
    if spooled_in(summary):
        assert " 0 left" in banwave(["index", "replay"], environ).stdout
    assert comparable(index_docs(client, f"{prefix}-docs")) == comparable(reference)
    client.close()

"""Faults against a whole crawl: where every expected document ends up, and peak memory.

    .venv/bin/python bench/bench_faults.py [--articles 500] [--es-url URL] [--no-own-es] [--only NAME ...]

A local web (tests/hostile_web.py) serves ``--articles`` generated articles
through a sitemap. Each scenario crawls it with ``banwave crawl`` subprocesses
into a fresh index prefix and data dir, injects one fault, then does what an
operator or the next scheduled run would do (crawl again, ``banwave index
replay``). It then counts the expected documents (one per article, by URL)
found indexed in Elasticsearch, in the spool, in the dead letters, and
nowhere: *lost*, which must be 0 everywhere. Peak RSS is the largest
resident size of the scenario's crawl processes.

Reference, measured in the same run: the clean crawl (no fault), its counts
and its peak RSS, next to which the hostile pages' peak RSS (1 GiB gzip
bombs, billion laughs, XXE, deep nesting, links into the machine) is read.

The shared dev Elasticsearch (``--es-url``) serves most scenarios; stopping
Elasticsearch and losing a node use an own dev server and an own 3-node
cluster (deploy/dev-es/es.sh with their own home and free ports; minutes to
start on a small machine; ``--no-own-es`` skips them).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from elasticsearch import Elasticsearch  # noqa: E402

import config  # noqa: E402

from hostile_web import HostileWeb, run_measured  # noqa: E402
from pipelines.elastic import drop_indices  # noqa: E402
from pipelines.spool import Spool  # noqa: E402

FAST = ["-s", "INDEX_BATCH_DOCS=20", "-s", "INDEX_FLUSH_SECONDS=0.5", "-s", "INDEX_DOWN_PAUSE=1",
        "-s", "INDEX_MAX_RETRIES=2", "-s", "INDEX_INITIAL_BACKOFF=0.2", "-s", "INDEX_MAX_BACKOFF=1"]


@dataclass
class Result:
    name: str
    expected: int = 0
    indexed: int = 0
    spooled: int = 0
    dead_lettered: int = 0
    lost: int = 0
    peak_mib: int = 0
    note: str = ""


@dataclass
class Run:
    """One scenario's index prefix, data dir and sources file; its crawls and their peak RSS."""

    es_url: str
    web: HostileWeb
    tmp: Path
    prefix: str = field(default_factory=lambda: f"bench-faults-{uuid.uuid4().hex[:8]}")
    peak_mib: int = 0

    def __post_init__(self):
        self.data_dir = self.tmp / self.prefix / "data"
        self.sources = self.tmp / self.prefix / "sources.yaml"
        self.sources.parent.mkdir(parents=True)
        self.sources.write_text(self.web.sources_yaml(), "utf-8")

    def environ(self, es_url: str | None = None) -> dict:
        return config.process_environ({
            "BANWAVE_ES_URL": self.es_url if es_url is None else es_url, "BANWAVE_INDEX_PREFIX": self.prefix,
            "BANWAVE_DATA_DIR": str(self.data_dir), "BANWAVE_SOURCES": str(self.sources),
            "BANWAVE_LOG_LEVEL": "INFO", "BANWAVE_ENV_FILE": ""})

    def crawl(self, *options: str, es_url: str | None = None) -> subprocess.CompletedProcess:
        result, peak = run_measured(["crawl", "hostile", *FAST, *options], self.environ(es_url), REPO)
        self.peak_mib = max(self.peak_mib, peak)
        return result

    def start_crawl(self, *options: str, es_url: str | None = None) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "cli.main", "crawl", "hostile", *FAST, *options], cwd=REPO,
                                env=self.environ(es_url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def banwave(self, *args: str, es_url: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=self.environ(es_url),
                              capture_output=True, text=True, timeout=600)

    def indexed_count(self, es_url: str | None = None) -> int:
        client = Elasticsearch(es_url or self.es_url.split(",")[0], request_timeout=10, max_retries=0)
        try:
            client.indices.refresh(index=f"{self.prefix}-docs")
            return client.count(index=f"{self.prefix}-docs")["count"]
        except Exception:  # noqa: BLE001 - not created yet, or the server is the one being stopped
            return 0
        finally:
            client.close()

    def result(self, name: str, expected_urls: set[str], note: str = "", es_url: str | None = None) -> Result:
        indexed = set()
        client = Elasticsearch(es_url or self.es_url.split(",")[0], request_timeout=60)
        try:
            client.indices.refresh(index=f"{self.prefix}-docs")
            hits = client.search(index=f"{self.prefix}-docs", size=10000, source_includes=["url"],
                                 query={"match_all": {}})["hits"]["hits"]
            indexed = {hit["_source"]["url"] for hit in hits}
        except Exception as exc:  # noqa: BLE001 - nothing indexed: the alias may not exist
            note = note or f"no index ({type(exc).__name__})"
        finally:
            client.close()
        spool = Spool(self.data_dir)
        spooled = {a.doc.get("url") for a in spool.read() if a.index.endswith("-docs")}
        dead = dead_letter_urls(spool, expected_urls)
        return Result(name, len(expected_urls), len(expected_urls & indexed), len(expected_urls & spooled),
                      len(expected_urls & dead), len(expected_urls - indexed - spooled - dead), self.peak_mib, note)

    def drop(self, es_url: str | None = None) -> None:
        client = Elasticsearch(es_url or self.es_url.split(",")[0], request_timeout=60)
        try:
            drop_indices(client, self.prefix)
        finally:
            client.close()


def dead_letter_urls(spool: Spool, expected: set[str]) -> set[str]:
    """Expected URLs among the dead letters: a rejected document's, or named in an unreadable spool line."""
    found = set()
    if spool.dead_letter_path.exists():
        for line in spool.dead_letter_path.read_text("utf-8", errors="replace").splitlines():
            letter = json.loads(line)
            doc = letter.get("doc")
            if isinstance(doc, dict) and doc.get("url") in expected:
                found.add(doc["url"])
            found |= {url for url in expected if letter.get("line") and f'"url":"{url}"' in letter["line"]}
    return found


def wait_for(condition, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out waiting for the fault's moment")
        time.sleep(0.2)


def articles(web: HostileWeb) -> set[str]:
    return {web.url(f"/articles/{i}.html") for i in range(web.articles)}


# ---------------------------------------------------------------------------- scenarios

def clean(es_url, web, tmp) -> Result:
    run = Run(es_url, web, tmp)
    run.crawl()
    try:
        return run.result("reference: clean crawl", articles(web))
    finally:
        run.drop()


def killed(es_url, web, tmp) -> Result:
    run = Run(es_url, web, tmp)
    proc = run.start_crawl()
    wait_for(lambda: run.indexed_count() >= web.articles // 4 or proc.poll() is not None)
    proc.kill()
    proc.wait()
    at = run.indexed_count()
    run.crawl()  # the next run
    try:
        return run.result("kill -9 mid-crawl, crawl again", articles(web), f"killed at {at} indexed")
    finally:
        run.drop()


def terminated(es_url, web, tmp) -> Result:
    run = Run(es_url, web, tmp)
    proc = run.start_crawl()
    wait_for(lambda: run.indexed_count() >= web.articles // 4 or proc.poll() is not None)
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(120)
    closed = time.monotonic() - began
    run.crawl()
    try:
        return run.result("SIGTERM mid-crawl, crawl again", articles(web), f"closed in {closed:.1f}s, exit {code}")
    finally:
        run.drop()


def disk_full(es_url, web, tmp) -> Result:
    run = Run(es_url, web, tmp)
    spool = Spool(run.data_dir)
    spool.dir.mkdir(parents=True)
    os.symlink("/dev/full", spool.path)
    first = run.crawl(es_url="http://127.0.0.1:9")  # Elasticsearch down, spool unwritable
    spool.path.unlink()
    run.crawl()  # room again, Elasticsearch back: the next run
    try:
        return run.result("disk full + ES down, crawl again", articles(web),
                          f"1st run: {first.stdout.strip().split(',')[0]}")
    finally:
        run.drop()


def bad_setting(es_url, web, tmp) -> Result:
    run = Run(es_url, web, tmp)
    refused = run.crawl("-s", "INDEX_BATCH_DOCS=0")
    run.crawl()
    try:
        return run.result("INDEX_BATCH_DOCS=0, then fixed", articles(web), f"refused: exit {refused.returncode}")
    finally:
        run.drop()


def bad_spool(es_url, web, tmp) -> Result:
    """Documents spooled while Elasticsearch was down, among bad lines and a cut last record."""
    run = Run(es_url, web, tmp)
    run.crawl(es_url="")  # no Elasticsearch: everything spooled
    spool = Spool(run.data_dir)
    lines = spool.path.read_bytes().splitlines(keepends=True)
    bad = [b'{"index": "x-docs", "id": "a", "doc": "not an object"}\n', b"not json\n",
           b'{"index": "x-docs", "id": "", "doc": {}}\n', b'{"index": "x-docs", "id": 7, "doc": {}}\n',
           lines[5][:60] + b"\n"]  # a copy of a record cut mid-write, as a killed writer leaves it
    # ... and the last record complete but without its newline
    spool.path.write_bytes(b"".join(lines[:3]) + b"".join(bad) + b"".join(lines[3:]).rstrip(b"\n"))
    replay = run.banwave("index", "replay")
    try:
        return run.result("bad spool lines, last without newline, replay", articles(web),
                          replay.stdout.strip().split(": ", 1)[-1].split(" in ")[0])
    finally:
        run.drop()


def hostile(es_url, web_unused, tmp, articles_n: int) -> Result:
    with HostileWeb(articles=articles_n, hostile=True, bomb_mib=1024) as web:
        run = Run(es_url, web, tmp)
        result = run.crawl()
        try:
            summary = result.stdout.strip().split(", ", 1)[-1]
            return run.result("hostile pages (1 GiB bombs, XXE, laughs, deep, SSRF)", articles(web),
                              f"{summary.split(' errors ')[-1]}; canary hits {len(web.canary_hits)}")
        finally:
            run.drop()


def es_stopped(es_url, web, tmp) -> Result:
    from test_faults import OwnElasticsearch, free_base_port

    server = OwnElasticsearch(tmp / "own-es", 1, free_base_port(1, 9250)).start()
    try:
        run = Run(server.url, web, tmp)
        proc = run.start_crawl()
        wait_for(lambda: run.indexed_count() >= web.articles // 4 or proc.poll() is not None)
        server.stop()
        proc.wait(600)
        spooled = Spool(run.data_dir).count()
        server.start()
        replay = run.banwave("index", "replay")
        return run.result("ES stopped mid-crawl, restarted, replay", articles(web),
                          f"{spooled} lines spooled; {replay.stdout.strip().split(': ', 1)[-1].split(' in ')[0]}")
    finally:
        server.stop()


def node_lost(es_url, web, tmp) -> Result:
    from test_faults import OwnElasticsearch, free_base_port

    cluster = OwnElasticsearch(tmp / "own-cluster", 3, free_base_port(3, 9400)).start()
    urls = [f"http://127.0.0.1:{cluster.port + i}" for i in range(3)]
    try:
        run = Run(",".join(urls), web, tmp)
        proc = run.start_crawl()
        wait_for(lambda: run.indexed_count(urls[1]) >= web.articles // 4 or proc.poll() is not None)
        cluster.es_sh("node-stop", "0")
        proc.wait(600)
        spooled = Spool(run.data_dir).count()
        return run.result("1 of 3 nodes stopped mid-crawl (3 URLs)", articles(web), f"{spooled} lines spooled",
                          es_url=urls[1])
    finally:
        cluster.stop()


SCENARIOS = {"clean": clean, "killed": killed, "sigterm": terminated, "disk-full": disk_full,
             "bad-setting": bad_setting, "bad-spool": bad_spool, "hostile": None, "es-stopped": es_stopped,
             "node-lost": node_lost}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es-url", default=config.test_es_url())
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--no-own-es", action="store_true", help="skip the scenarios that start their own servers")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="run only these scenarios")
    args = parser.parse_args(argv)
    names = args.only or [n for n in SCENARIOS if not (args.no_own_es and n in ("es-stopped", "node-lost"))]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp, \
            HostileWeb(articles=args.articles, hostile=False) as web:
        for name in names:
            began = time.monotonic()
            if name == "hostile":
                result = hostile(args.es_url, web, Path(tmp), args.articles)
            else:
                result = SCENARIOS[name](args.es_url, web, Path(tmp))
            results.append(result)
            print(f"  {result.name}: {time.monotonic() - began:.0f}s", file=sys.stderr, flush=True)
    print(f"faults against a crawl of {args.articles} generated articles ({args.es_url}); "
          "lost = expected - found anywhere")
    header = f"{'scenario':52} {'expected':>8} {'indexed':>8} {'spooled':>8} {'dead-l.':>8} {'lost':>5} {'peak RSS':>9}  note"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.name:52} {r.expected:8} {r.indexed:8} {r.spooled:8} {r.dead_lettered:8} {r.lost:5} "
              f"{f'{r.peak_mib:6} MiB' if r.peak_mib else '        -'}  {r.note}")
    lost = sum(r.lost for r in results)
    print(f"lost in all: {lost}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())

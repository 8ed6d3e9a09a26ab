"""Scale-out: crawl throughput with 1, 2 and 4 `banwave worker` processes on one Redis frontier.

    .venv/bin/python bench/bench_scale.py [--workers 1 2 4] [--sites 4] [--pages 50] [--latency 1.0]
                                          [--per-crawl 1] [--es-url URL]

Local generated sites (``--sites``, one port each on 127.0.0.1, one news source
each, found through a sitemap) answer every request after ``--latency``
seconds with a light page (tests/hostile_web.py's generated articles, about
1.5 KB, distinct per site), so that waiting on the network, not this
machine's CPU, bounds a worker. For each worker count the bench starts its own
redis-server on a free port, a throwaway index prefix on the real
Elasticsearch (deleted afterwards) and a fresh shared data dir, seeds every
source's run (`banwave crawl --all` with BANWAVE_REDIS_URL) and starts the
workers.

The per-worker cap: Scrapy's CONCURRENT_REQUESTS limits each *crawl*, and a
worker runs one crawl per source, so ``-s CONCURRENT_REQUESTS=--per-crawl``
caps what one worker fetches at once at ``sites x per-crawl`` (AutoThrottle
off: its pacing is a per-worker limit of its own). Each site's global limit
(its source's ``concurrency``, held across workers in Redis) is set above
``4 x per-crawl``, so adding workers is what adds throughput.

Warm-up is left out of the throughput: every request to the sites waits at a
gate until each worker has opened its crawl of each source (its NLP tagger
loaded). Throughput = article pages / (first article request arrived -> last
article answered), from the sites' own log: the robots.txt and sitemap fetch
that precede the articles (one latency each, whatever the worker count) are
left out, a worker's own robots.txt fetch of a site during the crawl is in. Wall time from workers'
start to their exit (warm-up and idle close included) is printed beside it.
The reference is the 1-worker run of the same invocation, and the ideal rate
``workers x sites x per-crawl / latency``.

Sanity check (fails loudly): every article is indexed exactly once (one
document per URL, ``_version`` 1, worker summaries add up to the articles).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from elasticsearch import Elasticsearch  # noqa: E402

import config  # noqa: E402

from hostile_web import article  # noqa: E402
from pipelines.elastic import drop_indices  # noqa: E402
from redisserver import RedisServer  # noqa: E402

IDLE = 3  # seconds: a worker's crawl of a source closes, then the worker exits, after this long without work


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server naming
        sites: LatentSites = self.server.sites
        sites.gate.wait()
        arrived = time.monotonic()
        time.sleep(sites.latency)
        body, ctype = sites.page(self.server.index, self.path.split("?")[0])
        self.send_response(200 if body is not None else 404)
        body = body if body is not None else b"not found"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with sites.lock:
            sites.log.append((self.server.index, self.path, arrived, time.monotonic()))


class LatentSites:
    """``count`` news sites on free ports of 127.0.0.1, each ``pages`` articles behind a sitemap."""

    def __init__(self, count: int, pages: int, latency: float):
        self.pages, self.latency = pages, latency
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.log: list[tuple[int, str, float, float]] = []
        self.servers = []
        for index in range(count):
            server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            server.daemon_threads, server.sites, server.index = True, self, index
            self.servers.append(server)

    def url(self, index: int, path: str) -> str:
        return f"http://127.0.0.1:{self.servers[index].server_address[1]}{path}"

    def page(self, index: int, path: str) -> tuple[bytes | None, str]:
        if path == "/robots.txt":
            return b"User-agent: *\nAllow: /\n", "text/plain"
        if path == "/sitemap.xml":
            entries = "".join(f"<url><loc>{self.url(index, f'/articles/{n}.html')}</loc></url>"
                              for n in range(self.pages))
            return (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f'{entries}</urlset>').encode(), "application/xml"
        match = re.fullmatch(r"/articles/(\d+)\.html", path)
        if match and int(match[1]) < self.pages:  # distinct texts per site: no near-duplicates across sites
            return article(index * 100_000 + int(match[1]))[1].encode(), "text/html; charset=utf-8"
        return None, "text/plain"

    def expected_urls(self) -> set[str]:
        return {self.url(i, f"/articles/{n}.html") for i in range(len(self.servers)) for n in range(self.pages)}

    def sources_yaml(self, site_limit: int) -> str:
        rows = ["sources:"]
        for i in range(len(self.servers)):
            rows += [f"- name: site{i}", "  kind: news", "  lang: en",
                     f"  start: [{{type: sitemap, url: \"{self.url(i, '/sitemap.xml')}\"}}]",
                     "  links: {allow: ['/articles/\\d+\\.html$']}", "  allow_private: true",
                     f"  politeness: {{download_delay: 0, autothrottle_start_delay: 0, concurrency: {site_limit}, "
                     "download_timeout: 300, retry_backoff: 0.1}"]
        return "\n".join(rows) + "\n"

    def start(self) -> "LatentSites":
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.gate.set()
        for server in self.servers:
            server.shutdown()
            server.server_close()


def worker_args(per_crawl: int) -> list[str]:
    return ["worker", "--until-idle", str(IDLE), "-s", f"FRONTIER_IDLE_CLOSE_SECONDS={IDLE}",
            "-s", "FRONTIER_POLL_SECONDS=0.2", "-s", f"CONCURRENT_REQUESTS={per_crawl}",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "INDEX_FLUSH_SECONDS=0.5"]


def one_run(workers: int, sites: LatentSites, args, tmp: Path) -> dict:
    """One distributed crawl of every site by ``workers`` workers; its timings (sanity-checked)."""
    prefix = f"bench-scale-{uuid.uuid4().hex[:8]}"
    run_dir = tmp / prefix
    sources = run_dir / "sources.yaml"
    run_dir.mkdir(parents=True)
    sources.write_text(sites.sources_yaml(args.site_limit), "utf-8")
    redis = RedisServer(run_dir / "redis").start()
    environ = config.process_environ({
        "BANWAVE_ES_URL": args.es_url, "BANWAVE_INDEX_PREFIX": prefix, "BANWAVE_DATA_DIR": str(run_dir / "data"),
        "BANWAVE_SOURCES": str(sources), "BANWAVE_LOG_LEVEL": "INFO", "BANWAVE_ENV_FILE": "",
        "BANWAVE_REDIS_URL": redis.url})
    client = Elasticsearch(args.es_url, request_timeout=60)
    procs = []
    try:
        sites.gate.clear()
        with sites.lock:
            sites.log.clear()
        seeded = subprocess.run([sys.executable, "-m", "cli.main", "crawl", "--all"], cwd=REPO, env=environ,
                                capture_output=True, text=True, timeout=300)
        if seeded.returncode != 0:
            raise SystemExit(f"seeding failed ({seeded.returncode}): {seeded.stderr[-2000:]}")
        started = time.monotonic()
        for i in range(workers):
            log = open(run_dir / f"worker{i}.log", "w")
            procs.append((subprocess.Popen([sys.executable, "-m", "cli.main", *worker_args(args.per_crawl)],
                                           cwd=REPO, env=environ, stdout=subprocess.PIPE, stderr=log, text=True),
                          run_dir / f"worker{i}.log"))
            log.close()
        want = workers * len(sites.servers)
        deadline = time.monotonic() + 600
        while sum(path.read_text("utf-8", errors="replace").count("Spider opened") for _, path in procs) < want:
            if time.monotonic() > deadline or any(p.poll() is not None for p, _ in procs):
                raise SystemExit(f"workers did not open {want} crawls; see {run_dir}")
            time.sleep(0.2)
        time.sleep(1)  # the last crawl's opening finishes (its log line comes first)
        gate_opened = time.monotonic()
        sites.gate.set()
        outputs = []
        for proc, path in procs:
            out, _ = proc.communicate(timeout=3600)
            if proc.returncode != 0:
                raise SystemExit(f"worker exit {proc.returncode}: {out}\n{path.read_text()[-3000:]}")
            outputs.append(out)
        wall = time.monotonic() - started
        with sites.lock:
            log = list(sites.log)
        check_indexed_once(client, prefix, sites.expected_urls(), outputs)
        articles = [entry for entry in log if "/articles/" in entry[1]]
        first, last = min(arrived for *_, arrived, _ in articles), max(answered for *_, answered in articles)
        return {"workers": workers, "pages": len(articles), "fetches": len(log), "seconds": last - first,
                "wall": wall, "warmup": gate_opened - started,
                "per_worker": [total(out, "indexed") for out in outputs]}
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        redis.stop()
        drop_indices(client, prefix)
        client.close()


def total(output: str, what: str) -> int:
    return sum(int(part.split()[0]) for line in output.splitlines() for part in line.split(", ")
               if part.endswith(f" {what}") and part.split()[0].isdigit())


def check_indexed_once(client: Elasticsearch, prefix: str, expected: set[str], outputs: list[str]) -> None:
    """Every article indexed exactly once: one document per URL, none rewritten, summaries agree."""
    alias = f"{prefix}-docs"
    client.indices.refresh(index=alias)
    hits = client.search(index=alias, size=10_000, version=True, source_includes=["url"],
                         query={"match_all": {}})["hits"]["hits"]
    urls = [hit["_source"]["url"] for hit in hits]
    problems = []
    if sorted(urls) != sorted(expected):
        problems.append(f"{len(urls)} documents for {len(expected)} articles "
                        f"({len(expected - set(urls))} missing, {len(urls) - len(set(urls))} duplicated)")
    if {hit["_version"] for hit in hits} - {1}:
        problems.append("documents written more than once (_version > 1)")
    indexed = sum(total(out, "indexed") for out in outputs)
    if indexed != len(expected):
        problems.append(f"worker summaries say {indexed} indexed, expected {len(expected)}")
    if problems:
        raise SystemExit("bench_scale: NOT indexed exactly once: " + "; ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--pages", type=int, default=50, help="articles per site")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds before each answer")
    parser.add_argument("--per-crawl", type=int, default=1,
                        help="CONCURRENT_REQUESTS of each worker's crawl of a source (the per-worker cap)")
    parser.add_argument("--es-url", default=config.test_es_url())
    args = parser.parse_args(argv)
    args.site_limit = max(args.workers) * args.per_crawl  # each site's global limit never binds
    results = []
    sites = LatentSites(args.sites, args.pages, args.latency).start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            for workers in args.workers:
                results.append(one_run(workers, sites, args, Path(tmp)))
                row = results[-1]
                print(f"  ran {workers} worker(s): {row['pages']} pages in {row['seconds']:.1f}s", file=sys.stderr)
    finally:
        sites.stop()

    cap = args.sites * args.per_crawl
    print(f"bench_scale: {args.sites} sites x {args.pages} articles, {args.latency:g}s per request, "
          f"{args.es_url}, one redis-server per run")
    print(f"per-worker cap: CONCURRENT_REQUESTS={args.per_crawl} per crawl x {args.sites} sources = {cap} requests "
          f"in flight per worker (AutoThrottle off); global limit per site {args.site_limit}")
    print("every article indexed exactly once in every run (checked)")
    base = results[0]["pages"] / results[0]["seconds"]
    print(f"reference: {results[0]['workers']} worker(s), {base:.2f} pages/s "
          f"(ideal {results[0]['workers'] * cap / args.latency:.1f})")
    for row in results:
        rate = row["pages"] / row["seconds"]
        ideal = row["workers"] * cap / args.latency
        speedup = rate / base * results[0]["workers"]
        print(f"{row['workers']} workers: {speedup:.1f}x  ({rate:.2f} pages/s, {speedup / row['workers']:.2f}x linear, "
              f"{rate / ideal:.0%} of ideal {ideal:.1f}/s; {row['fetches']} requests; "
              f"wall {row['wall']:.0f}s incl. warm-up {row['warmup']:.0f}s and idle close; "
              f"indexed per worker {row['per_worker']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

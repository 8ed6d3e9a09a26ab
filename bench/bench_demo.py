"""End-to-end demo time, split by pipeline stage.

Reference: ``banwave demo`` as a subprocess, the way ``make demo`` runs it (the
dev Elasticsearch is started when BANWAVE_ES_URL is empty, and left running),
with a fresh data dir and its own index prefix: the wall time of the whole
job, and each source's crawl duration from its run record.

Split: the same three demo sources crawled again in this process, through the
same code as ``banwave crawl cn-news en-news forum`` (one after another, one
reactor), into a second fresh prefix and data dir, with timers around each
stage: extract (pipelines.extract.middleware.page_documents), clean, NLP
(EnrichPipeline), dedupe (DedupePipeline), all in the reactor thread, and
index (Delivery.deliver, the bulk requests, in worker threads). "fetch and
engine" is the crawl wall time minus the reactor-thread stages: waiting for
pages, the spiders' parsing and Scrapy itself. The pipeline exposes no timers
of its own, so the bench wraps these functions.

Run:  .venv/bin/python bench/bench_demo.py [--port 18721] [--keep]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from argparse import Namespace
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import config  # noqa: E402
from cli.demo import demo_sources  # noqa: E402
from demo.web import DemoWeb  # noqa: E402
from pipelines.elastic import drop_indices, make_client, setup_indices  # noqa: E402

STAGES = ["extract", "clean", "NLP", "dedupe", "index"]


class Timers:
    """Seconds spent per stage, summed over calls; thread-safe (index runs in worker threads)."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.first: dict[str, float] = defaultdict(float)  # first call per component: lazy setup (jieba's dictionary)
        self.calls: dict[str, int] = defaultdict(int)
        self._seen: set = set()
        self._lock = threading.Lock()

    def wrap(self, owner, name: str, stage: str) -> None:
        inner = getattr(owner, name)
        method = isinstance(owner, type)

        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                seconds = time.perf_counter() - began
                key = (stage, id(args[0]) if method else None)
                with self._lock:
                    self.seconds[stage] += seconds
                    self.calls[stage] += 1
                    if key not in self._seen:
                        self._seen.add(key)
                        self.first[stage] += seconds

        setattr(owner, name, timed)


def run_demo(port: int, data_dir: Path, prefix: str) -> tuple[float, dict]:
    """``banwave demo`` in a subprocess: (wall seconds, its JSON summary)."""
    summary_file = data_dir / "summary.json"
    env = config.process_environ({"BANWAVE_DATA_DIR": str(data_dir), "BANWAVE_INDEX_PREFIX": prefix,
                                  "BANWAVE_ENV_FILE": ""})
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cli.main", "demo", "--port", str(port),
                           "--summary-json", str(summary_file)], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        sys.exit(f"bench_demo: banwave demo failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return wall, json.loads(summary_file.read_text("utf-8"))


def run_staged(es_url: str, port: int, data_dir: Path, prefix: str) -> tuple[float, Timers, int]:
    """The demo sources crawled in this process with stage timers: (wall seconds, timers, documents)."""
    from cli import crawl
    from pipelines.clean import CleanPipeline
    from pipelines.dedupe import DedupePipeline
    from pipelines.delivery import Delivery
    from pipelines.enrich import EnrichPipeline
    from pipelines.extract import middleware

    env = config.load({"BANWAVE_ES_URL": es_url, "BANWAVE_INDEX_PREFIX": prefix, "BANWAVE_DATA_DIR": str(data_dir)},
                      env_file=os.devnull)
    setup_indices(make_client(env), prefix)
    sources_file, names = demo_sources(env, port)
    timers = Timers()
    timers.wrap(middleware, "page_documents", "extract")
    timers.wrap(CleanPipeline, "process_item", "clean")
    timers.wrap(EnrichPipeline, "process_item", "NLP")
    timers.wrap(DedupePipeline, "process_item", "dedupe")
    timers.wrap(Delivery, "deliver", "index")
    overrides = [f"BANWAVE_ES_URL={es_url}", f"BANWAVE_INDEX_PREFIX={prefix}", f"BANWAVE_DATA_DIR={data_dir}",
                 "LOG_LEVEL=WARNING"]
    args = Namespace(sources=names, all=False, sources_file=str(sources_file), set=overrides)
    with DemoWeb(base_port=port):
        began = time.perf_counter()
        code = crawl.run_crawl(args, env)
        wall = time.perf_counter() - began
    if code != 0:
        sys.exit(f"bench_demo: the in-process crawl failed (exit {code})")
    client = make_client(env)
    client.indices.refresh(index=env.docs_alias)
    return wall, timers, client.count(index=env.docs_alias)["count"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=18721, help="first port of the demo web (default 18721)")
    parser.add_argument("--keep", action="store_true", help="keep the bench indices (deleted by default)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        demo_wall, summary = run_demo(args.port, Path(tmp) / "demo", f"bench-demo-{tag}")
        es_url = summary["es_url"]
        staged_wall, timers, documents = run_staged(es_url, args.port + 10, Path(tmp) / "staged", f"bench-stages-{tag}")
        if not args.keep:
            client = make_client(config.load({"BANWAVE_ES_URL": es_url}, env_file=os.devnull))
            for prefix in (f"bench-demo-{tag}", f"bench-stages-{tag}"):
                drop_indices(client, prefix)

    print(f"banwave demo end to end: {demo_wall:.1f}s wall for {summary['documents']} documents "
          f"(Elasticsearch {es_url}, index setup, demo web, {len(summary['runs'])} crawls at once, summary)")
    for source, run in sorted(summary["runs"].items()):
        print(f"  crawl {source:8} {run.get('duration_s', 0):6.1f}s  {run.get('pages', 0):4} pages  "
              f"{run.get('indexed', 0):4} indexed  ({run.get('status')})")
    in_reactor = sum(timers.seconds[stage] for stage in STAGES if stage != "index")
    print(f"\nstages, the same sources crawled one after another in one process: {staged_wall:.1f}s wall, "
          f"{documents} documents")
    print(f"  {'stage':16} {'seconds':>8} {'share':>6} {'calls':>6} {'first calls':>12}")
    print(f"  {'fetch and engine':16} {staged_wall - in_reactor:8.2f} {100 * (staged_wall - in_reactor) / staged_wall:5.1f}%")
    for stage in STAGES:
        share = f"{100 * timers.seconds[stage] / staged_wall:5.1f}%" if stage != "index" else "   (*)"
        print(f"  {stage:16} {timers.seconds[stage]:8.2f} {share:>6} {timers.calls[stage]:6} {timers.first[stage]:12.2f}")
    print("  first calls: the first call of each component in each crawl, lazy setup included (jieba's dictionary)")
    print("  (*) bulk requests run in worker threads, overlapping the other stages; not a share of the wall time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

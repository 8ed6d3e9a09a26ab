"""``banwave demo``: crawl the bundled offline web into Elasticsearch and summarise what was indexed.

The steps: Elasticsearch (the dev server is started with deploy/dev-es/es.sh
when BANWAVE_ES_URL is empty), ``banwave es setup``, the demo web
(demo.web) on 127.0.0.1, every source of sources.demo.yaml crawled once
as a ``banwave crawl SOURCE`` subprocess (crawlers.runner.CrawlRunner, the path
scheduled runs take), then a summary queried from the index and the waves
of the demo web's history (cli/demo_waves.py). The dev Elasticsearch is
left running.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from elasticsearch import ApiError, Elasticsearch, TransportError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli import report
from cli.demo_waves import demo_waves
from config import REPO_ROOT, Env
from demo.web import GENERATED_BASE_PORT, SITES, DemoWeb, DemoWebError
from crawlers.sources import SourcesError, load_sources
from pipelines.elastic import ElasticError, describe_error, health, make_client, setup_indices

DEMO_SOURCES = REPO_ROOT / "sources.demo.yaml"
ES_SH = REPO_ROOT / "deploy" / "dev-es" / "es.sh"
ENTITY_FIELDS = {"sellers": "Top sellers", "associations": "Associations", "governments": "Government bodies"}


class DemoError(RuntimeError):
    """A demo step failed; the message is one line."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="crawl the bundled offline web into Elasticsearch and summarise it",
        description="Start the dev Elasticsearch if none is configured, set up the indices, serve the offline "
                    "demo web, crawl every demo source once and summarise what was indexed.")
    parser.add_argument("--port", type=int, default=GENERATED_BASE_PORT,
                        help=f"first port of the demo web; its sites use PORT..PORT+2 (default {GENERATED_BASE_PORT})")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a crawl may take before it is killed")
    parser.add_argument("--summary-json", type=Path, metavar="FILE", help="also write the summary as JSON")
    parser.set_defaults(func=run)


def run(args, env: Env) -> int:
    console = Console()
    columns = (SpinnerColumn(finished_text="[green]✓"), TextColumn("{task.description:<22}"),
               TextColumn("{task.fields[status]}"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            env, started_es = _elasticsearch(env, progress)
            client = make_client(env)
            task = progress.add_task("index setup", total=1, status="banwave es setup")
            steps = setup_indices(client, env.index_prefix)
            progress.update(task, completed=1, status=f"{env.docs_alias}, {env.runs_alias} ({len(steps)} steps)")
            sources_file, names = demo_sources(env, args.port)
            task = progress.add_task("demo web", total=1, status="starting")
            logging.getLogger("demo.web").setLevel(logging.WARNING)  # its ports are on the progress line
            web = DemoWeb(base_port=args.port).start()
            progress.update(task, completed=1, status=f"127.0.0.1 ports {args.port}-{args.port + len(SITES) - 1}")
            try:
                failures = _crawl_all(env, client, sources_file, names, args.timeout, progress)
            finally:
                web.stop()
        summary = summarise(client, env, names)
    except (DemoError, DemoWebError, ElasticError, SourcesError) as exc:
        console.print(f"[red]banwave demo: {exc}")
        return 1
    except (ApiError, TransportError) as exc:
        console.print(f"[red]banwave demo: Elasticsearch at {env.es_url}: {describe_error(exc)}")
        return 1
    print_summary(console, summary)
    print_wave_report(console, client, env)
    try:
        summary["waves"] = demo_waves(console, client, env)
    except (ApiError, TransportError) as exc:
        console.print(f"[red]banwave demo: waves: Elasticsearch at {env.es_url}: {describe_error(exc)}")
        return 1
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary, ensure_ascii=False, indent=1), "utf-8")
    for line in failures:
        console.print(f"[red]{line}")
    console.print(f"\nElasticsearch stays up at {env.es_url}"
                  + ("; stop it with [bold]make es-stop[/]" if started_es else ""))
    console.print(f"Search it: [bold]BANWAVE_ES_URL={env.es_url} BANWAVE_INDEX_PREFIX={env.index_prefix} "
                  f"banwave search 封店[/]")
    return 1 if failures else 0


def _elasticsearch(env: Env, progress: Progress) -> tuple[Env, bool]:
    """The configured Elasticsearch, or the dev server started now; (env with its URL, started by us)."""
    task = progress.add_task("Elasticsearch", total=1, status=env.es_url or "starting the dev server (es.sh start)")
    started = not env.es_url
    if started:
        proc = subprocess.run([str(ES_SH), "start"], capture_output=True, text=True)
        urls = [line for line in proc.stdout.splitlines() if line.startswith("http")]
        if proc.returncode != 0 or not urls:
            lines = proc.stderr.strip().splitlines() or ["no output"]
            raise DemoError(f"the dev Elasticsearch did not start: {lines[-1]} (see deploy/dev-es/README.md)")
        env = dataclasses.replace(env, es_url=urls[-1])
    try:
        info = health(make_client(env))
    except ElasticError as exc:
        raise DemoError(f"Elasticsearch at {env.es_url}: {exc}") from None
    progress.update(task, completed=1, status=f"{env.es_url} ({info['status']}, {info['version']})")
    return env, started


def demo_sources(env: Env, port: int) -> tuple[Path, list[str]]:
    """The demo sources file (ports rewritten for another base port) and its source names."""
    path = DEMO_SOURCES
    if port != GENERATED_BASE_PORT:
        text = DEMO_SOURCES.read_text("utf-8")
        for i in range(len(SITES)):
            text = text.replace(f"127.0.0.1:{GENERATED_BASE_PORT + i}", f"127.0.0.1:{port + i}")
        path = env.data_dir / "demo" / "sources.demo.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return path, [s.name for s in load_sources(path) if s.enabled]


def _count(client: Elasticsearch, env: Env, source: str) -> int:
    return client.count(index=env.docs_alias, query={"term": {"source": source}})["count"]


def _crawl_all(env: Env, client: Elasticsearch, sources_file: Path, names: list[str], timeout: float,
               progress: Progress) -> list[str]:
    """Crawl every source at once, each in its subprocess; one failure line per failed crawl."""
    from crawlers.runner import DEFAULT_CRAWL_COMMAND, CrawlRunner

    log_dir = env.data_dir / "demo" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    runner = CrawlRunner(DEFAULT_CRAWL_COMMAND, timeout, kill_grace=10, log_dir=log_dir,
                         env=dataclasses.replace(env, sources=sources_file))
    before = {name: _count(client, env, name) for name in names}
    tasks = {name: progress.add_task(f"crawl {name}", total=1, status="starting") for name in names}
    done = threading.Event()

    def watch() -> None:  # documents show up in the index while the crawls run
        while not done.wait(1):
            for name in names:
                try:
                    new = _count(client, env, name) - before[name]
                except (ApiError, TransportError):
                    continue  # only the progress line misses an update; the crawls spool meanwhile
                if not progress.tasks[tasks[name]].finished:
                    progress.update(tasks[name], status=f"{new} new documents")

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    failures = []
    try:
        with ThreadPoolExecutor(len(names)) as pool:
            began = time.monotonic()
            futures = {pool.submit(runner.run, name): name for name in names}
            for future in as_completed(futures):
                name, code = futures[future], future.result()
                client.indices.refresh(index=env.docs_alias)
                new = _count(client, env, name) - before[name]
                ok = code == 0
                progress.update(tasks[name], completed=1 if ok else 0, status=(
                    f"{new} new documents in {time.monotonic() - began:.1f}s" if ok else f"[red]exit {code}"))
                if not ok:
                    failures.append(f"crawl {name} failed (exit {code}); its log: {log_dir / f'{name}.log'}")
    except KeyboardInterrupt:
        runner.stop_all()
        raise
    finally:
        done.set()
        watcher.join()
    return failures


# ---------------------------------------------------------------------- summary

def summarise(client: Elasticsearch, env: Env, sources: list[str]) -> dict:
    """What the index holds for ``sources``, as plain JSON-able data."""
    try:
        client.indices.refresh(index=env.docs_alias)
        scope = {"terms": {"source": sources}}
        aggs = {
            "by_source": {"terms": {"field": "source", "size": 100},
                          "aggs": {"kinds": {"terms": {"field": "doc_type", "size": 20}}}},
            "relevant": {"terms": {"field": "relevant"}},
            "stories": {"cardinality": {"field": "story_id"}},
            "top_stories": {"terms": {"field": "story_id", "size": 5, "min_doc_count": 2},
                            "aggs": {"first": {"top_hits": {"size": 1, "_source": ["title"]}}}},
            **{field: {"terms": {"field": field, "size": 10}} for field in ENTITY_FIELDS},
        }
        result = client.search(index=env.docs_alias, size=0, query=scope, aggs=aggs, track_total_hits=True)
        losses = client.search(index=env.docs_alias, size=5, sort=[{"loss_cny": "desc"}],
                               query={"bool": {"filter": [scope, {"exists": {"field": "loss_cny"}}]}},
                               source=["title", "source", "url", "loss_cny", "figures"])
        runs = _latest_runs(client, env, scope)
    except (ApiError, TransportError) as exc:
        raise DemoError(f"summarising {env.docs_alias}: {describe_error(exc)}") from None
    aggs = result["aggregations"]
    relevant = {bucket["key_as_string"]: bucket["doc_count"] for bucket in aggs["relevant"]["buckets"]}
    return {
        "es_url": env.es_url,
        "index": env.docs_alias,
        "documents": result["hits"]["total"]["value"],
        "by_source": {b["key"]: {k["key"]: k["doc_count"] for k in b["kinds"]["buckets"]}
                      for b in aggs["by_source"]["buckets"]},
        "relevant": relevant.get("true", 0),
        "not_relevant": relevant.get("false", 0),
        **{field: [[b["key"], b["doc_count"]] for b in aggs[field]["buckets"]] for field in ENTITY_FIELDS},
        "losses": [_loss(hit["_source"]) for hit in losses["hits"]["hits"]],
        "stories": aggs["stories"]["value"],
        "top_stories": [{"story_id": b["key"], "documents": b["doc_count"],
                         "title": b["first"]["hits"]["hits"][0]["_source"].get("title")}
                        for b in aggs["top_stories"]["buckets"]],
        "runs": runs,
    }


def _latest_runs(client: Elasticsearch, env: Env, scope: dict) -> dict[str, dict]:
    if not client.indices.exists_alias(name=env.runs_alias):
        return {}
    client.indices.refresh(index=env.runs_alias)
    result = client.search(index=env.runs_alias, size=0, query=scope, aggs={"by_source": {
        "terms": {"field": "source", "size": 100},
        "aggs": {"last": {"top_hits": {"size": 1, "sort": [{"started_at": "desc"}]}}}}})
    return {b["key"]: b["last"]["hits"]["hits"][0]["_source"] for b in result["aggregations"]["by_source"]["buckets"]}


def _loss(doc: dict) -> dict:
    """A loss line: the largest CNY figure of a document and the words it was written in."""
    text = next((f.get("text") for f in doc.get("figures") or []
                 if f.get("kind") == "money" and f.get("value_cny") == doc["loss_cny"]), None)
    return {"loss_cny": doc["loss_cny"], "text": text, "title": doc.get("title"), "source": doc.get("source"),
            "url": doc.get("url")}


def print_summary(console: Console, summary: dict) -> None:
    console.print(f"\n[bold]{summary['documents']} documents[/] in {summary['index']} ({summary['es_url']}); "
                  f"relevant {summary['relevant']}, not relevant {summary['not_relevant']}, "
                  f"{summary['stories']} stories")
    kinds = sorted({kind for counts in summary["by_source"].values() for kind in counts})
    table = Table("source", *kinds, "total", "last run", title="Documents by source and kind", title_justify="left")
    for source, counts in sorted(summary["by_source"].items()):
        table.add_row(source, *(str(counts.get(kind, 0)) for kind in kinds), str(sum(counts.values())),
                      _run_line(summary["runs"].get(source)))
    console.print(table)
    for field, title in ENTITY_FIELDS.items():
        names = ", ".join(f"{name} ({count})" for name, count in summary[field]) or "none found"
        console.print(f"[bold]{title}:[/] {names}")
    if summary["losses"]:
        table = Table("CNY", "as written", "source", "title", title="Largest loss figures", title_justify="left")
        for loss in summary["losses"]:
            table.add_row(report.format_cny(loss["loss_cny"]), loss["text"] or "", loss["source"], loss["title"] or "")
        console.print(table)
    if summary["top_stories"]:
        table = Table("documents", "story", title="Stories told by more than one document", title_justify="left")
        for story in summary["top_stories"]:
            table.add_row(str(story["documents"]), story["title"] or story["story_id"])
        console.print(table)


def _run_line(run: dict | None) -> str:
    if not run:
        return ""
    return (f"{run.get('status')}: {run.get('pages', 0)} pages, {run.get('indexed', 0)} indexed, "
            f"{run.get('errors_total', 0)} errors")


def print_wave_report(console: Console, client: Elasticsearch, env: Env) -> None:
    """The wave report of ``banwave report``, over the whole index."""
    console.rule("banwave report")
    try:
        report.print_report(report.gather(client, env.docs_alias))
    except report.ReportError as exc:
        console.print(f"[red]banwave report: {exc}")

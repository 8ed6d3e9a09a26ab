"""Shared fixtures. Integration tests talk to the real dev Elasticsearch.

``.ci/run`` (and ``make test``) start it with ``deploy/dev-es/es.sh`` and pass
its URL in ``BANWAVE_TEST_ES_URL``. When it is not reachable the ES tests FAIL
with one line saying how to start it; they never skip.
"""
from __future__ import annotations

import os
import uuid

import pytest
from elasticsearch import Elasticsearch

import config
import demo
from pipelines.elastic import drop_indices, make_client

TEST_ES_URL = config.test_es_url()


def pytest_collection_modifyitems(items) -> None:
    """Every test that reaches the real Elasticsearch (the es_url fixture, directly or through
    another fixture) is marked ``es``; every ``es`` test is also ``slow``, so that
    ``pytest -m "not slow"`` is the quick part of the suite."""
    for item in items:
        if "es_url" in getattr(item, "fixturenames", ()) and item.get_closest_marker("es") is None:
            item.add_marker(pytest.mark.es)
        if item.get_closest_marker("es") is not None and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def es_url() -> str:
    client = Elasticsearch(TEST_ES_URL, request_timeout=10, max_retries=0)
    try:
        client.info()
    except Exception as exc:  # noqa: BLE001 - any failure means the server is not usable
        pytest.fail(
            f"dev Elasticsearch not reachable at {TEST_ES_URL} ({type(exc).__name__}); "
            "start it with `deploy/dev-es/es.sh start` or run the suite through `make test`",
            pytrace=False,
        )
    finally:
        client.close()
    return TEST_ES_URL


def offline_env(tmp_path, **variables: str) -> config.Env:
    """A validated Env whose data dir is under ``tmp_path``; no ``.env`` file is read."""
    return config.load({"BANWAVE_DATA_DIR": str(tmp_path / "data"), **variables}, env_file=os.devnull)


@pytest.fixture
def es_env(es_url, tmp_path, monkeypatch) -> config.Env:
    """An Env pointing at the dev server with a unique index prefix and a temp data dir.

    Everything the test creates under that prefix is deleted afterwards.
    """
    prefix = f"t{uuid.uuid4().hex[:10]}"
    environ = {
        "BANWAVE_ES_URL": es_url,
        "BANWAVE_INDEX_PREFIX": prefix,
        "BANWAVE_DATA_DIR": str(tmp_path / "data"),
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    env = config.load(environ, env_file=tmp_path / "no.env")
    yield env
    delete_prefix(es_url, prefix)


@pytest.fixture
def es(es_env) -> Elasticsearch:
    """The official client for ``es_env``."""
    client = make_client(es_env)
    yield client
    client.close()


# ---------------------------------------------------------------------------- crawling into Elasticsearch
# (indexing engineer's fixtures; tests/test_e2e.py, test_faults.py and the search tests use them)

import subprocess as _subprocess
import sys as _sys
from pathlib import Path as _Path

REPO = _Path(__file__).resolve().parent.parent
DEMO_BASE_PORT = 8801   # first try; clear of the fixed ports test_crawl.py and test_demoweb.py use (8701-8733)


def start_demo_web(root: _Path = demo.SITES_DIR):
    """A started DemoWeb for ``root`` on the first three free ports from DEMO_BASE_PORT up (stop() it).

    Several test sessions may run at once on one machine, so the first free
    port triple wins; ``web.base_port`` tells which.
    """
    from demo.web import DemoWeb, DemoWebError

    for base_port in range(DEMO_BASE_PORT, DEMO_BASE_PORT + 90, 3):
        try:
            return DemoWeb(root, base_port=base_port).start()
        except DemoWebError:
            continue
    pytest.fail(f"no three free ports for the demo web from {DEMO_BASE_PORT} to {DEMO_BASE_PORT + 89}", pytrace=False)


@pytest.fixture(scope="session")
def demo_web():
    """The offline demo web (demo/sites) for the whole session."""
    web = start_demo_web()
    yield web
    web.stop()


@pytest.fixture(scope="session")
def demo_sources(demo_web, tmp_path_factory) -> _Path:
    """sources.demo.yaml pointed at the session's demo web."""
    path = tmp_path_factory.mktemp("sources") / "sources.yaml"
    path.write_text(demo_url(demo_web, (REPO / "sources.demo.yaml").read_text("utf-8")), "utf-8")
    return path


def demo_url(web, text: str) -> str:
    """A demo/sites URL (gold.jsonl, sources.demo.yaml) as served by ``web``."""
    for i in range(3):
        text = text.replace(f"127.0.0.1:{8701 + i}", f"127.0.0.1:{web.base_port + i}")
    return text


def crawl_environ(es_url: str, prefix: str, data_dir, sources) -> dict:
    """Environment for a `banwave` subprocess (no .env file, INFO logs)."""
    return config.process_environ({"BANWAVE_ES_URL": es_url, "BANWAVE_INDEX_PREFIX": prefix,
                                   "BANWAVE_DATA_DIR": str(data_dir), "BANWAVE_SOURCES": str(sources),
                                   "BANWAVE_LOG_LEVEL": "INFO", "BANWAVE_ENV_FILE": ""})


def banwave(args: list[str], environ: dict, timeout: float = 240, check: bool = True) -> _subprocess.CompletedProcess:
    """Run the `banwave` command in a subprocess (each crawl needs a fresh reactor)."""
    proc = _subprocess.run([_sys.executable, "-m", "cli.main", *args], cwd=REPO, env=environ, capture_output=True,
                           text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"banwave {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr[-4000:]}"
    return proc


def delete_prefix(es_url: str, prefix: str) -> None:
    client = Elasticsearch(es_url, request_timeout=30)
    try:
        drop_indices(client, prefix)
    finally:
        client.close()


@pytest.fixture(scope="session")
def demo_index(es_url, demo_sources, tmp_path_factory) -> config.Env:
    """The whole demo web crawled once through the real spiders and pipelines (`banwave crawl --all`).

    Unique index prefix on the shared dev Elasticsearch, own data dir; yields the
    Env (docs and runs refreshed, searchable). The crawl's stdout is in
    ``<data_dir>/crawl.out``. Deleted at the end of the session.
    """
    prefix = f"t{uuid.uuid4().hex[:10]}"
    data_dir = tmp_path_factory.mktemp("demo-index") / "data"
    environ = crawl_environ(es_url, prefix, data_dir, demo_sources)
    proc = banwave(["crawl", "--all"], environ)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "crawl.out").write_text(proc.stdout, "utf-8")
    env = config.load({k: v for k, v in environ.items() if k.startswith("BANWAVE_")},
                      env_file=REPO / "tests" / "no.env")
    client = Elasticsearch(es_url, request_timeout=30)
    client.indices.refresh(index=f"{prefix}-*")
    client.close()
    yield env
    delete_prefix(es_url, prefix)


def index_docs(client: Elasticsearch, index: str) -> dict[str, dict]:
    """Every document of an index or alias by _id, with _source, _seq_no, _version and _primary_term."""
    client.indices.refresh(index=index)
    hits = client.search(index=index, size=10000, seq_no_primary_term=True, version=True,
                         query={"match_all": {}})["hits"]["hits"]
    return {hit["_id"]: {"_source": hit["_source"], "_seq_no": hit["_seq_no"], "_version": hit["_version"]}
            for hit in hits}


@pytest.fixture(scope="module")
def demo_search_index(demo_index):
    """A client on the demo crawl's docs alias, the alias, and every indexed document (search, report)."""
    from searchdata import indexed_documents

    client = make_client(demo_index)
    yield client, demo_index.docs_alias, indexed_documents(client, demo_index.docs_alias)
    client.close()


# ---------------------------------------------------------------------------- Redis (the shared frontier)

@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server on a free port for this test; FAILS (never skips) when it cannot start."""
    from redisserver import RedisServer, RedisServerError

    server = RedisServer(tmp_path / "redis")
    try:
        server.start()
    except RedisServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tagger():
    """The tagger as shipped (one per test module: building one loads jieba's dictionary)."""
    from nlp import Tagger

    return Tagger()


@pytest.fixture(scope="module")
def rules_only():
    """The tagger with the alias table emptied: what its patterns find by themselves."""
    from nlp import Tagger

    return Tagger(alias_table=None)


def load_script(path: _Path):
    """A script that is not a package module (a bench, a build script) loaded as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

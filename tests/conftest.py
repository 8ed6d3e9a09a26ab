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

TEST_ES_URL = os.environ.get("BANWAVE_TEST_ES_URL", "http://127.0.0.1:9200")


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
    client = Elasticsearch(es_url, request_timeout=30)
    try:
        client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
        client.indices.delete_index_template(name=f"{prefix}-*", ignore=[404])
    finally:
        client.close()


@pytest.fixture
def es(es_env) -> Elasticsearch:
    """The official client for ``es_env``."""
    from pipelines.elastic import make_client

    client = make_client(es_env)
    yield client
    client.close()

"""Issue 14, defect 8: BANWAVE_ES_URL names several nodes; with one down, documents are indexed
through the others instead of spooled while the cluster still serves."""
from __future__ import annotations

import uuid

import pytest
from elasticsearch import Elasticsearch

import config
from conftest import banwave, crawl_environ, delete_prefix, index_docs
from pipelines.elastic import setup_indices
from pipelines.index import build_delivery
from test_faults import own_cluster  # noqa: F401 - the 3-node cluster fixture
from test_index import EN_NEWS, doc

pytestmark = pytest.mark.es


def test_a_dead_node_in_the_list_is_skipped_not_spooled(es_url, tmp_path):
    """A node that refuses connections (port 9) first in the list: the transport marks it dead and
    sends the batch to the next node at once; no batch waits or goes to the spool."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    env = config.load({"BANWAVE_ES_URL": f"http://127.0.0.1:9,{es_url}", "BANWAVE_INDEX_PREFIX": prefix,
                       "BANWAVE_DATA_DIR": str(tmp_path / "data")}, env_file=tmp_path / "no.env")
    delivery = build_delivery(config.crawl_settings(env, {"INDEX_MAX_RETRIES": 0}), env)
    try:
        setup_indices(delivery.sender.client, prefix)
        for batch in range(4):  # round robin: every batch would meet the dead node in turn
            outcome = delivery.deliver([(env.docs_alias, f"doc{batch}-{i}", doc(i)) for i in range(5)])
            assert len(outcome.indexed) == 5 and not outcome.transient, outcome.transient[:1]
        assert delivery.spool.count() == 0
        assert len(index_docs(Elasticsearch(es_url), env.docs_alias)) == 20
    finally:
        delete_prefix(es_url, prefix)


@pytest.mark.slow
def test_a_crawl_with_one_node_of_three_stopped_indexes_everything(own_cluster, demo_sources, tmp_path):  # noqa: F811
    urls = [f"http://127.0.0.1:{own_cluster.port + i}" for i in range(3)]
    prefix = f"t{uuid.uuid4().hex[:10]}"
    environ = crawl_environ(",".join(urls), prefix, tmp_path / "data", demo_sources)
    banwave(["es", "setup"], environ)
    own_cluster.es_sh("node-stop", "0")  # the first node of the list, maybe the elected master
    survivor = Elasticsearch(urls[1], request_timeout=60)
    survivor.cluster.health(wait_for_nodes="2", wait_for_status="yellow", timeout="60s")

    out = banwave(["crawl", "en-news"], environ)
    assert f"{EN_NEWS} items, {EN_NEWS} indexed, 0 unchanged, 0 spooled" in out.stdout, out.stdout
    assert len(index_docs(survivor, f"{prefix}-docs")) == EN_NEWS
    [run] = index_docs(survivor, f"{prefix}-runs").values()
    assert run["_source"]["spooled"] == 0
    survivor.close()

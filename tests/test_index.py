"""The index stage against the real dev Elasticsearch: bulk results sorted per document,
unchanged documents not rewritten, dead letters, spool and replay, no-Elasticsearch crawls."""
from __future__ import annotations

import json
import logging

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

import settings as project
import config
from pipelines.bulk import BulkSender
from pipelines.delivery import NO_ELASTICSEARCH, Delivery
from pipelines.elastic import make_client, setup_indices
from pipelines.index import IndexPipeline, build_delivery
from pipelines.spool import Spool

import demo
from conftest import banwave, crawl_environ, index_docs, offline_env

# Documents a crawl of en-news yields: its gold lines (the run record is one more spool line).
EN_NEWS = sum(1 for line in demo.GOLD_PATH.read_text("utf-8").splitlines()
              if json.loads(line)["site"] == "en-news")

pytestmark = pytest.mark.es


def doc(i: int, text: str = "亚马逊封号潮波及5万卖家", **fields) -> dict:
    return {"id": f"doc{i}", "doc_type": "article", "text": f"{text} {i}", "content_hash": f"hash-{text}-{i}",
            "source": "cn-news", **fields}


@pytest.fixture
def delivery(es, es_env):
    setup_indices(es, es_env.index_prefix)
    sender = BulkSender(es, chunk_docs=3, max_retries=1, initial_backoff=0.05)
    return Delivery(sender, Spool(es_env.data_dir), pause=60)


def test_index_then_skip_unchanged(delivery, es, es_env):
    alias = es_env.docs_alias
    outcome = delivery.deliver([(alias, d["id"], d) for d in map(doc, range(7))])
    assert len(outcome.indexed) == 7 and not (outcome.unchanged or outcome.transient or outcome.permanent)
    before = index_docs(es, alias)
    changed = doc(3, "亚马逊封号潮又有新进展")
    again = [(alias, d["id"], d) for d in [*map(doc, range(3)), changed]]
    outcome = delivery.deliver(again)
    assert [a[1] for a in outcome.unchanged] == ["doc0", "doc1", "doc2"]
    assert [a[1] for a in outcome.indexed] == ["doc3"]
    after = index_docs(es, alias)
    assert len(after) == 7, "same _id: updated, not duplicated"
    for doc_id in ("doc0", "doc1", "doc2", "doc4"):
        assert (after[doc_id]["_seq_no"], after[doc_id]["_version"]) == (before[doc_id]["_seq_no"], 1)
    assert after["doc3"]["_version"] == 2
    assert after["doc3"]["_source"]["text"].startswith("亚马逊封号潮又有新进展")


def test_mapping_conflict_is_dead_lettered_with_reason(delivery, es_env, caplog):
    alias = es_env.docs_alias
    bad = doc(1, floor="第三楼")  # floor is an integer field
    with caplog.at_level(logging.ERROR):
        outcome = delivery.deliver([(alias, "doc0", doc(0)), (alias, "doc1", bad)])
    assert [a[1] for a in outcome.indexed] == ["doc0"]
    assert [a[1] for a, _ in outcome.permanent] == ["doc1"]
    assert "doc1" in caplog.text and "dead-letter" in caplog.text
    spool = delivery.spool
    assert spool.count() == 0
    [(reason, n)] = spool.dead_letter_reasons().items()
    assert reason.startswith("400 document_parsing_exception") or reason.startswith("400 mapper_parsing_exception")
    out = banwave(["index", "status"], crawl_environ(es_env.es_url, es_env.index_prefix, es_env.data_dir, "x"))
    assert "dead letters: 1 document(s)" in out.stdout and "spool: 0 line(s)" in out.stdout


def test_unreachable_spools_loudly_then_replay_sends_and_removes(es, es_env, caplog):
    dead = make_client(es_env.__class__(**{**es_env.__dict__, "es_url": "http://127.0.0.1:9"}), max_retries=0)
    spool = Spool(es_env.data_dir)
    down = Delivery(BulkSender(dead, max_retries=2, initial_backoff=0.01), spool, pause=60)
    alias = es_env.docs_alias
    with caplog.at_level(logging.WARNING):
        first = down.deliver([(alias, d["id"], d) for d in map(doc, range(4))])
        second = down.deliver([(alias, d["id"], d) for d in map(doc, range(4, 6))])  # no request: paused
    assert len(first.transient) == 4 and len(second.transient) == 2
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("pipelines")]
    assert len(warnings) == 1, "one loud line per outage, not one per batch"
    assert "4 document(s) spooled to" in warnings[0].getMessage() and str(spool.path) in warnings[0].getMessage()
    assert spool.count() == 6

    environ = crawl_environ(es_env.es_url, es_env.index_prefix, es_env.data_dir, "x")
    out = banwave(["index", "replay"], environ)   # the alias does not exist yet: replay sets it up
    assert "6 sent" in out.stdout and "0 left" in out.stdout
    assert spool.count() == 0
    assert sorted(index_docs(es, alias)) == [f"doc{i}" for i in range(6)]
    out = banwave(["index", "replay"], environ)
    assert "0 sent" in out.stdout


def test_replay_with_elasticsearch_down_keeps_everything(es_env):
    spool = Spool(es_env.data_dir)
    spool.append([(es_env.docs_alias, "doc0", doc(0))], "down")
    environ = crawl_environ("http://127.0.0.1:9", es_env.index_prefix, es_env.data_dir, "x")
    out = banwave(["index", "replay"], environ, check=False)
    assert out.returncode == 1 and "cannot reach Elasticsearch" in out.stderr
    assert spool.count() == 1


def test_crawl_without_elasticsearch_spools_everything_with_one_warning(demo_sources, es_env, es):
    environ = crawl_environ("", es_env.index_prefix, es_env.data_dir, demo_sources)
    out = banwave(["crawl", "en-news"], environ)
    assert f"{EN_NEWS} items, 0 indexed, 0 unchanged, {EN_NEWS} spooled" in out.stdout
    ours = [line for line in out.stderr.splitlines() if " WARNING pipelines." in line or " ERROR pipelines." in line]
    assert len(ours) == 1 and "BANWAVE_ES_URL is not set" in ours[0]
    status = banwave(["index", "status"], environ)
    assert f"{EN_NEWS + 1} line(s) ({EN_NEWS} for {es_env.docs_alias}, 1 for {es_env.runs_alias})" in status.stdout

    replay = banwave(["index", "replay"], crawl_environ(es_env.es_url, es_env.index_prefix, es_env.data_dir, "x"))
    assert f"{EN_NEWS + 1} sent" in replay.stdout
    assert len(index_docs(es, es_env.docs_alias)) == EN_NEWS
    [run] = index_docs(es, es_env.runs_alias).values()
    assert run["_source"]["spooled"] == EN_NEWS and run["_source"]["indexed"] == 0


@pytest.mark.parametrize("overrides,missing", [({"INDEX_ENABLED": False}, "INDEX_ENABLED"),
                                               ({"INDEX_BATCH_DOCS": 0}, "INDEX_BATCH_DOCS"),
                                               ({"BANWAVE_ENV": None}, "BANWAVE_ENV")])
def test_not_configured_names_the_setting(tmp_path, overrides, missing):
    settings = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    settings["BANWAVE_ENV"] = offline_env(tmp_path)
    with pytest.raises(NotConfigured, match=missing):
        IndexPipeline.from_crawler(get_crawler(settings_dict={**settings, **overrides}))


def test_no_url_means_spool_only(tmp_path):
    env = offline_env(tmp_path)
    delivery = build_delivery(config.crawl_settings(env), env)
    outcome = delivery.deliver([("t-docs", "doc0", doc(0))])
    assert outcome.transient == [(("t-docs", "doc0", doc(0)), NO_ELASTICSEARCH)]
    assert delivery.spool.count() == 1


def test_crawl_with_elasticsearch_down_from_the_start(demo_sources, es_env, es):
    environ = crawl_environ("http://127.0.0.1:9", es_env.index_prefix, es_env.data_dir, demo_sources)
    out = banwave(["crawl", "en-news"], environ)
    assert f"{EN_NEWS} items, 0 indexed, 0 unchanged, {EN_NEWS} spooled" in out.stdout
    ours = [line for line in out.stderr.splitlines() if " WARNING pipelines." in line or " ERROR pipelines." in line]
    assert "Elasticsearch is not taking documents (cannot reach Elasticsearch" in ours[0]
    assert f"{EN_NEWS} document(s) of this crawl are in the spool" in ours[-1] and len(ours) == 2

    environ["BANWAVE_ES_URL"] = es_env.es_url  # the next crawl replays first
    again = banwave(["crawl", "en-news"], environ)
    assert "0 items" in again.stdout and f"spool replayed: {EN_NEWS + 1} sent" in again.stderr
    assert len(index_docs(es, es_env.docs_alias)) == EN_NEWS
    assert len(index_docs(es, es_env.runs_alias)) == 2

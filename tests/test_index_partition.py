"""INDEX_PARTITION against the real dev Elasticsearch: one index per publication year behind the
read alias, documents that change year moved (never twice, never in neither), the spool's replay
idempotent, and `none` as before."""
from __future__ import annotations

import json
import re

import pytest

import config
from pipelines.delivery import Delivery
from pipelines.elastic import make_client, setup_indices
from pipelines.index import build_delivery
from pipelines.partition import year_of
from pipelines.spool import Spool

from conftest import banwave, crawl_environ


def doc(n: int, published: str | None, text: str = "亚马逊封号潮波及深圳卖家",
        crawled_at: str = "2026-11-20T08:00:00+00:00") -> dict:
    return {"id": f"doc{n}", "doc_type": "article", "source": "cn-news", "text": f"{text} {n}",
            "content_hash": f"hash-{text}-{n}", "published": published, "crawled_at": crawled_at,
            "published_estimated": not published, "timeline_at": published or crawled_at}


def deliver(delivery: Delivery, alias: str, docs: list[dict]):
    return delivery.deliver([(alias, d["id"], d) for d in docs])


def placed(es, alias: str) -> dict[str, list[str]]:
    """Every stored copy: document id -> the concrete indices holding it (searched through the alias)."""
    es.indices.refresh(index=f"{alias}*")
    copies: dict[str, list[str]] = {}
    for hit in es.search(index=alias, size=1000, query={"match_all": {}})["hits"]["hits"]:
        copies.setdefault(hit["_id"], []).append(hit["_index"])
    return {doc_id: sorted(indices) for doc_id, indices in copies.items()}


def behind_alias(es, alias: str) -> list[str]:
    return sorted(es.indices.get_alias(name=alias).body)


@pytest.fixture
def yearly(es, es_env) -> Delivery:
    settings = config.crawl_settings(es_env, {"INDEX_PARTITION": "year", "INDEX_MAX_RETRIES": 0})
    setup_indices(es, es_env.index_prefix, settings)
    return build_delivery(settings, es_env)


def test_invalid_partition_is_an_error():
    env = config.load({}, env_file="/dev/null")
    with pytest.raises(config.SettingError, match="INDEX_PARTITION=month must be one of none, year"):
        config.crawl_settings(env, {"INDEX_PARTITION": "month"})


def test_year_of_reads_timeline_then_published_then_crawl_time():
    assert year_of({"timeline_at": "2021-12-31T23:30:00-05:00"}) == 2021  # the page's own calendar
    assert year_of({"published": "2019-03-01T00:00:00Z", "crawled_at": "2026-01-01"}) == 2019
    assert year_of({"timeline_at": "not a date", "crawled_at": "2026-02-01T00:00:00+00:00"}) == 2026
    assert year_of({"title": "no date"}) is None


@pytest.mark.es
def test_year_indices_behind_the_read_alias(yearly, es, es_env):
    alias = es_env.docs_alias
    docs = [doc(1, "2019-05-02T10:00:00+08:00"), doc(2, "2021-07-23T09:00:00+08:00"),
            doc(3, "2021-10-20T09:00:00+08:00"), doc(4, None)]  # undated: its crawl year
    outcome = deliver(yearly, alias, docs)
    assert len(outcome.indexed) == 4 and not (outcome.unchanged or outcome.transient or outcome.permanent)
    base = f"{alias}-v1"
    assert placed(es, alias) == {"doc1": [f"{base}-2019"], "doc2": [f"{base}-2021"], "doc3": [f"{base}-2021"],
                                 "doc4": [f"{base}-2026"]}
    assert behind_alias(es, alias) == [base, f"{base}-2019", f"{base}-2021", f"{base}-2026"]
    # the year indices got the template's mapping (keyword source, dynamic false), not guessed ones
    mapping = es.indices.get_mapping(index=f"{base}-2019")[f"{base}-2019"]["mappings"]
    assert mapping["dynamic"] == "false" and mapping["properties"]["source"]["type"] == "keyword"
    # searches through the alias see every year: a term query, a date range, an aggregation
    assert es.count(index=alias, query={"term": {"source": "cn-news"}})["count"] == 4
    in_2021 = es.search(index=alias, query={"range": {"timeline_at": {"gte": "2021-01-01", "lt": "2022-01-01"}}})
    assert sorted(hit["_id"] for hit in in_2021["hits"]["hits"]) == ["doc2", "doc3"]
    # sent again: found in their year indices, unchanged, not rewritten
    again = deliver(yearly, alias, docs)
    assert len(again.unchanged) == 4 and not again.indexed
    versions = {hit["_id"]: hit["_version"] for hit in es.search(index=alias, version=True)["hits"]["hits"]}
    assert set(versions.values()) == {1}


@pytest.mark.es
def test_a_document_whose_year_changes_exists_once(yearly, es, es_env):
    alias, base = es_env.docs_alias, f"{es_env.docs_alias}-v1"
    deliver(yearly, alias, [doc(1, None, crawled_at="2025-03-01T08:00:00+00:00"), doc(2, "2020-06-01T00:00:00Z"),
                            doc(3, "2021-01-05T00:00:00Z"), doc(4, None, crawled_at="2025-03-01T08:00:00+00:00")])
    assert placed(es, alias) == {"doc1": [f"{base}-2025"], "doc2": [f"{base}-2020"], "doc3": [f"{base}-2021"],
                                 "doc4": [f"{base}-2025"]}
    outcome = deliver(yearly, alias, [
        doc(1, "2021-04-20T09:00:00+08:00"),                             # a date found, same text
        doc(2, "2022-06-01T00:00:00Z", text="更正：亚马逊封号潮波及深圳卖家"),  # date corrected, text changed
        doc(3, "2021-01-05T00:00:00Z", text="亚马逊封号潮又有新进展"),       # changed, same year
        doc(4, None, crawled_at="2026-11-20T08:00:00+00:00"),             # undated, unchanged, crawled a year later
    ])
    assert sorted(a[1] for a in outcome.indexed) == ["doc1", "doc2", "doc3"]
    assert [a[1] for a in outcome.unchanged] == ["doc4"] and not (outcome.transient or outcome.permanent)
    assert placed(es, alias) == {"doc1": [f"{base}-2021"], "doc2": [f"{base}-2022"], "doc3": [f"{base}-2021"],
                                 "doc4": [f"{base}-2025"]}  # doc4 stays at its first crawl's time
    stored = es.get(index=f"{base}-2022", id="doc2")["_source"]
    assert stored["published"] == "2022-06-01T00:00:00Z" and stored["text"].startswith("更正")


@pytest.mark.es
def test_replay_of_a_spooled_batch_with_moves_is_exact_and_idempotent(yearly, es, es_env):
    alias, base = es_env.docs_alias, f"{es_env.docs_alias}-v1"
    deliver(yearly, alias, [doc(1, "2020-06-01T00:00:00Z"), doc(2, "2021-06-01T00:00:00Z")])
    # Elasticsearch unreachable: the batch (one new document, one that moves, one unchanged) is spooled
    down_env = config.load({"BANWAVE_ES_URL": "http://127.0.0.1:9", "BANWAVE_INDEX_PREFIX": es_env.index_prefix,
                            "BANWAVE_DATA_DIR": str(es_env.data_dir)}, env_file="/dev/null")
    down = build_delivery(config.crawl_settings(down_env, {"INDEX_PARTITION": "year", "INDEX_MAX_RETRIES": 0}),
                          down_env)
    batch = [doc(1, "2023-02-01T00:00:00Z"), doc(2, "2021-06-01T00:00:00Z"), doc(3, "2024-01-01T00:00:00Z")]
    assert len(deliver(down, alias, batch).transient) == 3
    spool = Spool(es_env.data_dir)
    lines = [{"index": s.index, "id": s.id} for s in spool.read()]
    assert lines == [{"index": alias, "id": "doc1"}, {"index": alias, "id": "doc2"}, {"index": alias, "id": "doc3"}]
    spool.append([(alias, d["id"], d) for d in batch], "a replay killed before it removed its lines")
    result = yearly.replay(batch_size=2)  # doc1's two lines land in different batches
    assert (result.sent, result.left, result.dead_lettered) == (2, 0, 0) and result.unchanged == 4
    assert spool.count() == 0
    expected = {"doc1": [f"{base}-2023"], "doc2": [f"{base}-2021"], "doc3": [f"{base}-2024"]}
    assert placed(es, alias) == expected
    versions = {hit["_id"]: hit["_version"] for hit in es.search(index=alias, version=True)["hits"]["hits"]}
    spool.append([(alias, d["id"], d) for d in batch], "sent again")
    result = yearly.replay()
    assert (result.sent, result.unchanged, result.left) == (0, 3, 0)
    assert placed(es, alias) == expected
    assert {hit["_id"]: hit["_version"] for hit in es.search(index=alias, version=True)["hits"]["hits"]} == versions


@pytest.mark.es
def test_undatable_document_is_dead_lettered(yearly, es_env):
    undatable = {"id": "doc9", "doc_type": "article", "text": "x", "content_hash": "h"}
    outcome = yearly.deliver([(es_env.docs_alias, "doc9", undatable)])
    assert [a[1] for a, _ in outcome.permanent] == ["doc9"]
    assert "no date to choose its year index" in outcome.permanent[0][1]


@pytest.mark.es
def test_none_writes_through_the_alias_and_takes_back_moved_documents(es, es_env):
    alias, base = es_env.docs_alias, f"{es_env.docs_alias}-v1"
    settings = config.crawl_settings(es_env)
    assert settings.get("INDEX_PARTITION") == "none"
    setup_indices(es, es_env.index_prefix, settings)
    single = build_delivery(settings, es_env)
    docs = [doc(1, "2019-05-02T10:00:00+08:00"), doc(2, None)]
    assert len(deliver(single, alias, docs).indexed) == 2
    assert placed(es, alias) == {"doc1": [base], "doc2": [base]} and behind_alias(es, alias) == [base]
    assert len(deliver(single, alias, docs).unchanged) == 2
    # a deployment that switches back from year: a changed document leaves its year index
    yearly = build_delivery(config.crawl_settings(es_env, {"INDEX_PARTITION": "year"}), es_env)
    deliver(yearly, alias, [doc(3, "2021-01-01T00:00:00Z")])
    outcome = deliver(single, alias, [doc(3, "2021-01-01T00:00:00Z", text="亚马逊封号潮又有新进展"), *docs])
    assert [a[1] for a in outcome.indexed] == ["doc3"] and len(outcome.unchanged) == 2
    assert placed(es, alias) == {"doc1": [base], "doc2": [base], "doc3": [base]}


@pytest.mark.es
@pytest.mark.slow
def test_crawl_with_year_partition_is_searched_as_before(es_env, demo_sources, tmp_path):
    """The demo's en-news crawled with INDEX_PARTITION=year: year indices behind the alias, `banwave search`
    finds the documents as with one index, and a re-crawl from fresh crawl state rewrites nothing."""
    environ = crawl_environ(es_env.es_url, es_env.index_prefix, es_env.data_dir, demo_sources)
    first = banwave(["crawl", "en-news", "-s", "INDEX_PARTITION=year"], environ)
    indexed = int(re.search(r"(\d+) indexed", first.stdout).group(1))
    client = make_client(es_env)
    alias = es_env.docs_alias
    client.indices.refresh(index=f"{alias}*")
    years = sorted(index for index in client.indices.get_alias(name=alias).body if index != f"{alias}-v1")
    assert years and all(re.fullmatch(rf"{alias}-v1-\d{{4}}", index) for index in years)
    assert client.count(index=f"{alias}-v1")["count"] == 0
    hits = client.search(index=alias, size=1000, query={"match_all": {}})["hits"]["hits"]
    assert len(hits) == indexed == len({hit["_id"] for hit in hits})
    for hit in hits:
        assert hit["_index"] == f"{alias}-v1-{year_of(hit['_source']):04d}"
    found = banwave(["search", "Amazon", "--json", "--no-collapse", "-n", "1000"], environ)
    hits_found = [json.loads(line) for line in found.stdout.splitlines() if line.startswith("{")]
    assert hits_found and {hit["id"] for hit in hits_found} <= {hit["_id"] for hit in hits}
    environ["BANWAVE_DATA_DIR"] = str(tmp_path / "fresh")
    again = banwave(["crawl", "en-news", "-s", "INDEX_PARTITION=year"], environ)
    assert f"0 indexed, {indexed} unchanged" in again.stdout
    client.close()

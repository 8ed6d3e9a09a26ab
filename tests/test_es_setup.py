"""Index setup against the real dev Elasticsearch: idempotence, Chinese search, aggregations."""
from pipelines.elastic import load_template, setup_indices


def test_setup_is_idempotent(es, es_env):
    first = setup_indices(es, es_env.index_prefix)
    assert f"index {es_env.index_prefix}-docs-v1 created behind alias {es_env.docs_alias}" in first
    second = setup_indices(es, es_env.index_prefix)
    assert not any("created" in line for line in second)
    aliases = es.indices.get_alias(name=es_env.docs_alias)
    assert list(aliases) == [f"{es_env.index_prefix}-docs-v1"]
    assert list(es.indices.get_alias(name=es_env.runs_alias)) == [f"{es_env.index_prefix}-runs-v1"]
    mapping = es.indices.get_mapping(index=es_env.docs_alias)[f"{es_env.index_prefix}-docs-v1"]["mappings"]
    template = load_template("docs", es_env.index_prefix).body["template"]["mappings"]
    assert mapping["properties"]["text"] == template["properties"]["text"]
    assert mapping["properties"]["sellers"]["type"] == "keyword"
    assert mapping["properties"]["loss_cny"]["type"] == "double"
    assert mapping["properties"]["published"]["type"] == "date"


def _index(es, alias, docs):
    for number, doc in enumerate(docs):
        es.index(index=alias, id=str(number), document=doc)
    es.indices.refresh(index=alias)


def test_chinese_query_typed_without_spaces_matches(es, es_env):
    setup_indices(es, es_env.index_prefix)
    _index(es, es_env.docs_alias, [
        {"title": "亚马逊封店潮持续发酵", "text": "深圳多家大卖被封店，资金遭冻结。", "published": "2021-06-17T09:00:00+08:00"},
        {"title": "地铁新线开通", "text": "市民乘坐新线出行更方便。", "published": "2021-06-18T09:00:00+08:00"},
    ])
    # What an analyst types into Kibana's search bar: a Lucene query string, no spaces.
    hits = es.search(index=es_env.docs_alias, query={"query_string": {"query": "封店", "fields": ["title", "text"]}})["hits"]
    assert [hit["_source"]["title"] for hit in hits["hits"]] == ["亚马逊封店潮持续发酵"]
    phrase = es.search(index=es_env.docs_alias, query={"query_string": {"query": "亚马逊封店潮", "default_field": "title"}})
    assert phrase["hits"]["total"]["value"] == 1
    miss = es.search(index=es_env.docs_alias, query={"query_string": {"query": "封号", "fields": ["title", "text"]}})
    assert miss["hits"]["total"]["value"] == 0


def test_english_text_is_stemmed(es, es_env):
    setup_indices(es, es_env.index_prefix)
    _index(es, es_env.docs_alias, [{"title": "Amazon closes seller stores", "text": "Store closures hit Shenzhen sellers."}])
    hits = es.search(index=es_env.docs_alias, query={"multi_match": {"query": "store closure", "fields": ["text.en"]}})
    assert hits["hits"]["total"]["value"] == 1


def test_keyword_aggregations_on_entity_fields(es, es_env):
    setup_indices(es, es_env.index_prefix)
    _index(es, es_env.docs_alias, [
        {"sellers": ["Aukey", "Mpow"], "loss_cny": 1.0e8, "relevant": True},
        {"sellers": ["Aukey"], "governments": ["深圳市商务局"], "loss_cny": 5.0e7, "relevant": True},
        {"sellers": [], "relevant": False},
    ])
    result = es.search(
        index=es_env.docs_alias,
        size=0,
        aggs={
            "sellers": {"terms": {"field": "sellers"}},
            "governments": {"terms": {"field": "governments"}},
            "loss": {"sum": {"field": "loss_cny"}},
        },
    )["aggregations"]
    assert [(b["key"], b["doc_count"]) for b in result["sellers"]["buckets"]] == [("Aukey", 2), ("Mpow", 1)]
    assert [b["key"] for b in result["governments"]["buckets"]] == ["深圳市商务局"]
    assert result["loss"]["value"] == 1.5e8


def test_shards_and_replicas_come_from_the_settings(es, es_env):
    import config

    settings = config.crawl_settings(es_env, {"INDEX_SHARDS": "3", "INDEX_REPLICAS": "0"})
    setup_indices(es, es_env.index_prefix, settings)
    index = es.indices.get_settings(index=es_env.docs_alias)
    values = next(iter(index.values()))["settings"]["index"]
    assert (values["number_of_shards"], values["number_of_replicas"]) == ("3", "0")
    assert "auto_expand_replicas" not in values or values["auto_expand_replicas"] == "false"

"""Story ids on the crawled demo web (conftest's demo_index): its syndicated copies join their originals.

The demo web republishes three documents (gold.jsonl rows with ``story_of``): a cn-news article in
another column with an editor's note and an intro line, the same article reposted as a forum thread's
opening post, and an en-news article under another section with a "first published by" paragraph.
"""
from __future__ import annotations

from collections import defaultdict

import pytest
from elasticsearch import Elasticsearch

import demo
from conftest import demo_url, index_docs

GOLD = demo.gold()
COPIES = [g for g in GOLD if g.get("story_of")]

pytestmark = pytest.mark.es


@pytest.fixture(scope="module")
def by_url(demo_index, demo_web):
    client = Elasticsearch(demo_index.es_url, request_timeout=30)
    try:
        docs = index_docs(client, demo_index.docs_alias)
    finally:
        client.close()
    return {d["_source"]["url"]: d["_source"] for d in docs.values()}


def test_the_demo_web_has_its_three_kinds_of_copy():
    kinds = sorted((g["site"], g["doc_type"], g["story_of"].split("/")[2]) for g in COPIES)
    assert kinds == [("cn-news", "article", "127.0.0.1:8701"), ("en-news", "article", "127.0.0.1:8702"),
                     ("forum", "post", "127.0.0.1:8701")]
    originals = {g["url"]: g for g in GOLD if not g.get("story_of")}
    for copy in COPIES:
        assert copy["relevant"] == originals[copy["story_of"]]["relevant"]


def test_each_copy_shares_its_originals_story(by_url, demo_web):
    for copy in COPIES:
        mine, original = by_url[demo_url(demo_web, copy["url"])], by_url[demo_url(demo_web, copy["story_of"])]
        assert mine["id"] != original["id"]
        assert mine["story_id"] == original["story_id"], copy["url"]
        assert mine["story_id"] in (mine["id"], original["id"])  # a story's id is its first document's


def test_no_unrelated_documents_share_a_story(by_url, demo_web):
    story_of = {demo_url(demo_web, g["url"]): demo_url(demo_web, g.get("story_of") or g["url"]) for g in GOLD}
    stories = defaultdict(set)
    for url, source in by_url.items():
        stories[source["story_id"]].add(story_of[url])
    assert all(len(originals) == 1 for originals in stories.values()), \
        {story: originals for story, originals in stories.items() if len(originals) > 1}


def test_story_count_is_documents_minus_copies(by_url, demo_index):
    documents = list(by_url.values())
    assert len(documents) == len(GOLD)
    assert len({d["story_id"] for d in documents}) == len(GOLD) - len(COPIES) == len(GOLD) - 3
    client = Elasticsearch(demo_index.es_url, request_timeout=30)
    try:
        aggs = client.search(index=demo_index.docs_alias, size=0,
                             aggs={"stories": {"cardinality": {"field": "story_id"}}})["aggregations"]
    finally:
        client.close()
    assert aggs["stories"]["value"] == len(GOLD) - len(COPIES)  # what Kibana and `banwave demo` count

"""Eval gate for ``relevant`` on the real demo crawl (conftest's ``demo_index``) against the
labels of demo/sites/gold.jsonl: what analysts filter on in Kibana, forum threads included."""
from __future__ import annotations

import json

import pytest
from elasticsearch import Elasticsearch

import demo
from conftest import demo_url, index_docs

GOLD_PATH = demo.GOLD_PATH
ACCURACY_FLOOR = 0.95

pytestmark = pytest.mark.es


@pytest.fixture(scope="module")
def judged(demo_index, demo_web, es_url) -> list[tuple[dict, dict]]:
    """(gold, indexed _source) pairs, matched by URL; every gold document must be indexed."""
    gold = [json.loads(line) for line in GOLD_PATH.read_text("utf-8").splitlines() if line.strip()]
    client = Elasticsearch(es_url, request_timeout=30)
    try:
        by_url = {doc["_source"]["url"]: doc["_source"] for doc in index_docs(client, demo_index.docs_alias).values()}
    finally:
        client.close()
    missing = [g["url"] for g in gold if demo_url(demo_web, g["url"]) not in by_url]
    assert not missing, f"gold documents not indexed: {missing}"
    return [(g, by_url[demo_url(demo_web, g["url"])]) for g in gold]


def test_relevance_accuracy_on_the_demo_crawl(judged):
    wrong = [f"{doc['relevant']} ({doc['relevance']}) gold {g['relevant']}: {g['url']} {g['title']} | {g['text'][:40]}"
             for g, doc in judged if doc["relevant"] != g["relevant"]]
    accuracy = 1 - len(wrong) / len(judged)
    assert accuracy >= ACCURACY_FLOOR, f"relevance accuracy {accuracy:.3f} < {ACCURACY_FLOOR}\n" + "\n".join(wrong)
    assert all(0.0 <= doc["relevance"] <= 1.0 for _, doc in judged)


def test_unrelated_articles_stay_irrelevant(judged):
    unrelated = [(g, doc) for g, doc in judged if g["doc_type"] == "article" and not g["relevant"]]
    assert unrelated, "the demo web has unrelated articles (weather, metro, rainforest ...)"
    wrong = [f"{doc['relevance']} {g['title']}" for g, doc in unrelated if doc["relevant"]]
    assert not wrong, wrong


def test_replies_follow_a_relevant_opening_post(judged):
    """Thread context: every post of a thread whose opening post is relevant is relevant,
    short replies ("总结得好，这帖可以结了。") and later pages included."""
    posts = [doc for _, doc in judged if doc["doc_type"] == "post"]
    openers = {(doc["source"], doc["thread_id"]): doc for doc in posts if doc["floor"] == 1}
    replies = [doc for doc in posts if doc["floor"] > 1 and openers[doc["source"], doc["thread_id"]]["relevant"]]
    assert any(doc["url"].split("#")[0].endswith("-2-1.html") for doc in replies), "later pages are covered"
    for doc in replies:
        opener = openers[doc["source"], doc["thread_id"]]
        assert doc["relevant"] is True, doc["url"]
        assert doc["relevance"] >= opener["relevance"], doc["url"]

"""The demo web's documents in an index, for the search/report tests and bench_search.

The tests search the real crawl of the demo web (conftest's ``demo_index``) and
read its documents back with ``indexed_documents``. The bench, which should not
need a crawl, indexes demo/sites/gold.jsonl (every document that crawl yields)
run through the real NLP Tagger, ``derived_fields`` and the dedupe stage's story
ids: what the crawl pipeline writes. Judged queries identify documents by URL path (cli.search_quality.url_key),
so the demo web's port does not matter.
"""
from __future__ import annotations

import json
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk

from scrapy.utils.project import get_project_settings

from pipelines.canonical import doc_id
from pipelines.dedupe import MinHasher, StoryStore, tokens
from pipelines.elastic import drop_indices, setup_indices
from pipelines.enrich import derived_fields
import demo

GOLD = demo.GOLD_PATH
SOURCE_KINDS = {"cn-news": "news", "en-news": "news", "forum": "forum"}
FIELDS = ("url", "doc_type", "title", "text", "published", "author", "thread_id", "post_id", "floor", "quote", "reply_to")


def gold_documents(tagger, stories_db: Path) -> list[dict]:
    """One index document per gold line, with the NLP fields the enrich stage adds and the
    ``story_id`` of the dedupe stage (signatures kept in ``stories_db``)."""
    settings = get_project_settings()
    store = StoryStore(stories_db, settings.getfloat("DEDUPE_THRESHOLD"), settings.getint("DEDUPE_BANDS"))
    hasher = MinHasher(settings.getint("DEDUPE_PERMUTATIONS"))
    documents = []
    for line in GOLD.read_text("utf-8").splitlines():
        gold = json.loads(line)
        doc = {key: gold.get(key) for key in FIELDS}
        base_url = gold["url"].split("#")[0]
        doc.update(id=doc_id(base_url, gold.get("post_id")), canonical_url=base_url, source=gold["site"],
                   source_kind=SOURCE_KINDS[gold["site"]])
        if doc["doc_type"] == "post":
            doc["thread_title"] = gold["title"]
        title, text = doc["title"] or "", doc["text"] or ""
        tagged = tagger.tag(f"{title}\n{text}" if title else text)
        doc.update(tagged)
        doc.update(derived_fields(tagged))
        words = tokens(text, tagger.tokenizer)
        too_short = len(words) < settings.getint("DEDUPE_MIN_TOKENS")
        doc["story_id"] = doc["id"] if too_short else store.assign(doc["id"], hasher.signature(words))[0]
        documents.append(doc)
    store.close()
    return documents


def index_documents(client: Elasticsearch, prefix: str, documents: list[dict]) -> str:
    """Set up ``<prefix>-*`` indices, bulk-index the documents, refresh; returns the docs alias."""
    setup_indices(client, prefix)
    alias = f"{prefix}-docs"
    bulk(client, ({"_index": alias, "_id": doc["id"], "_source": doc} for doc in documents), refresh="wait_for")
    return alias


def indexed_documents(client: Elasticsearch, alias: str) -> list[dict]:
    """Every document's _source (the demo web has about a hundred)."""
    return [hit["_source"] for hit in client.search(index=alias, size=10_000)["hits"]["hits"]]


@contextmanager
def gold_index(es_url: str):
    """Index the tagged gold documents under a fresh prefix; yields (client, alias, documents).

    Everything under the prefix is deleted afterwards.
    """
    from nlp import Tagger  # jieba's dictionary: load only when an index is built

    prefix = f"t{uuid.uuid4().hex[:10]}"
    client = Elasticsearch(es_url, request_timeout=30)
    with tempfile.TemporaryDirectory() as tmp:
        documents = gold_documents(Tagger(keywords=10), Path(tmp) / "stories.sqlite")
    try:
        yield client, index_documents(client, prefix, documents), documents
    finally:
        drop_indices(client, prefix)
        client.close()

"""End to end on the real dev Elasticsearch: the demo web crawled by `banwave crawl`.

``demo_index`` (conftest) crawls all three demo sources once through the real
spiders and pipelines; these tests check what landed in ``<prefix>-docs`` and
``<prefix>-runs`` against demo/sites/gold.jsonl, then re-crawl and check that
nothing was duplicated or rewritten.
"""
from __future__ import annotations

import shutil
import uuid
from collections import Counter

import pytest
from elasticsearch import Elasticsearch

import demo
from conftest import REPO, banwave, crawl_environ, delete_prefix, demo_url, index_docs

GOLD = demo.gold()

pytestmark = pytest.mark.es


@pytest.fixture
def client(es_url):
    client = Elasticsearch(es_url, request_timeout=30)
    yield client
    client.close()


def test_every_gold_document_indexed_once(demo_index, demo_web, client):
    docs = index_docs(client, demo_index.docs_alias)
    by_url = {doc["_source"]["url"]: doc["_source"] for doc in docs.values()}
    assert len(by_url) == len(docs) == len(GOLD), "one document per article or post, no duplicates"
    assert sorted(by_url) == sorted(demo_url(demo_web, gold["url"]) for gold in GOLD)
    for gold in GOLD:
        source = by_url[demo_url(demo_web, gold["url"])]
        assert source["title"] == gold["title"]
        assert source["doc_type"] == gold["doc_type"]
        assert (source.get("post_id"), source.get("floor")) == (gold["post_id"], gold["floor"])
    for doc_id, doc in docs.items():
        assert doc["_source"]["id"] == doc_id  # the item's stable id is the _id
        assert doc["_source"]["content_hash"] and doc["_source"]["indexed_at"]


def test_entities_figures_and_stories_searchable(demo_index, client):
    alias = demo_index.docs_alias
    aggs = client.search(index=alias, size=0, aggs={
        "sellers": {"terms": {"field": "sellers", "size": 50}},
        "platforms": {"terms": {"field": "platforms", "size": 20}},
        "stores": {"max": {"field": "stores_max"}},
        "loss": {"max": {"field": "loss_cny"}},
        "stories": {"cardinality": {"field": "story_id"}},
        "figures": {"terms": {"field": "figures.kind"}},
    })["aggregations"]
    sellers = {b["key"] for b in aggs["sellers"]["buckets"]}
    assert {"傲基", "帕拓逊", "泽宝"} <= sellers
    assert "Amazon" in {b["key"] for b in aggs["platforms"]["buckets"]}
    assert aggs["stores"]["value"] >= 50000          # "5万多家店铺" / "50,000 stores"
    assert aggs["loss"]["value"] > 0
    assert {"count", "money"} <= {b["key"] for b in aggs["figures"]["buckets"]}
    # Every document is its own story but the demo web's republished copies (gold "story_of",
    # tests/test_stories_demo.py): each of those joins its original's.
    docs = index_docs(client, alias)
    copies = sum(1 for gold in GOLD if gold.get("story_of"))
    assert aggs["stories"]["value"] == len(docs) - copies
    assert sum(doc["_source"]["story_id"] != doc_id for doc_id, doc in docs.items()) == copies
    hits = client.search(index=alias, query={"match": {"text": "封号"}}, size=1)["hits"]["total"]["value"]
    assert hits > 0, "Chinese full text is searchable through the cjk analyzer"


def test_run_records(demo_index, client):
    client.indices.refresh(index=demo_index.runs_alias)
    runs = [hit["_source"] for hit in client.search(index=demo_index.runs_alias, size=100)["hits"]["hits"]]
    by_source = {run["source"]: run for run in runs}
    assert sorted(by_source) == ["cn-news", "en-news", "forum"] and len(runs) == 3
    expected = Counter(gold["site"] for gold in GOLD)
    for name, run in by_source.items():
        assert run["status"] in ("ok", "partial")
        assert run["items"] == run["indexed"] == expected[name]
        assert run["spooled"] == run["dead_lettered"] == run["unchanged"] == 0
        assert run["started_at"] <= run["finished_at"] and run["pages"] > 0
        assert run["errors_total"] == sum(run["errors"].values())
        assert sorted(run["errors"]) == run["error_kinds"]
    assert by_source["cn-news"]["errors"] == {"http_404": 1, "http_500": 1, "non_html": 1, "redirect_loop": 1}
    assert by_source["forum"]["status"] == "ok" and by_source["forum"]["source_kind"] == "forum"
    out = (demo_index.data_dir / "crawl.out").read_text("utf-8").splitlines()
    assert [line.split(":")[0] for line in out] == ["cn-news", "en-news", "forum"]  # one summary line each
    assert f"{expected['forum']} indexed" in out[2]


def test_recrawl_neither_duplicates_nor_rewrites(es_url, demo_sources, tmp_path, client):
    prefix = f"t{uuid.uuid4().hex[:10]}"
    try:
        environ = crawl_environ(es_url, prefix, tmp_path / "data", demo_sources)
        first = banwave(["crawl", "cn-news"], environ)
        before = index_docs(client, f"{prefix}-docs")
        articles = Counter(g["site"] for g in GOLD)["cn-news"]
        assert len(before) == articles
        assert f"{articles} indexed" in first.stdout

        again = banwave(["crawl", "cn-news"], environ)   # same crawl state: content pages are skipped
        assert "0 items" in again.stdout

        fresh = crawl_environ(es_url, prefix, tmp_path / "fresh", demo_sources)
        refetched = banwave(["crawl", "cn-news"], fresh)  # new crawl state: every page fetched again
        assert f"{articles} items, 0 indexed, {articles} unchanged" in refetched.stdout
        after = index_docs(client, f"{prefix}-docs")
        assert after.keys() == before.keys()
        for doc_id, doc in after.items():  # unchanged content hash: not rewritten
            assert (doc["_seq_no"], doc["_version"]) == (before[doc_id]["_seq_no"], before[doc_id]["_version"])
        client.indices.refresh(index=f"{prefix}-runs")
        runs = client.search(index=f"{prefix}-runs", size=10, sort=[{"started_at": "asc"}])["hits"]["hits"]
        assert [(r["_source"]["indexed"], r["_source"]["unchanged"]) for r in runs] == [(articles, 0), (0, 0), (0, articles)]
    finally:
        delete_prefix(es_url, prefix)


def test_crawl_exit_codes(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "- name: gone\n  kind: news\n  start: [{type: feed, url: 'http://127.0.0.1:9/rss.xml'}]\n"
        "  politeness: {download_delay: 0, autothrottle_start_delay: 0, download_timeout: 1, retry_backoff: 0}\n"
        "- name: paused\n  kind: news\n  enabled: false\n  start: [{type: feed, url: 'http://127.0.0.1:9/x.xml'}]\n",
        "utf-8")
    environ = crawl_environ("", "tcodes", tmp_path / "data", sources)
    down = banwave(["crawl", "--all", "-s", "RETRY_TIMES=0"], environ, check=False)
    assert down.returncode == 1, down.stderr[-2000:]
    assert down.stdout.startswith("gone: failed, 0 pages") and "connection_refused" in down.stdout
    assert "paused:" not in down.stdout, "--all crawls enabled sources only"
    unknown = banwave(["crawl", "nosuch"], environ, check=False)
    assert unknown.returncode == 2 and "no source named 'nosuch'" in unknown.stderr
    disabled = banwave(["crawl", "paused"], environ, check=False)
    assert disabled.returncode == 1 and "paused: failed: source 'paused' is disabled" in disabled.stdout


def test_syndicated_copy_gets_the_original_story(es_url, tmp_path, client):
    """A copy of an article under another URL, with a republication note, is one story with it."""
    from conftest import start_demo_web

    sites = tmp_path / "sites"
    shutil.copytree(demo.SITES_DIR, sites)
    news = sites / "en-news" / "news" / "2021"
    original = news / "05" / "10" / "aukey-products-pulled-from-amazon.html"
    copy = news / "05" / "12" / "aukey-chargers-pulled-republished.html"
    copy.parent.mkdir(parents=True, exist_ok=True)
    html = original.read_text("utf-8").replace(
        "05/10/aukey-products-pulled-from-amazon.html", "05/12/aukey-chargers-pulled-republished.html")
    html = html.replace("<p>Aukey, a Chinese maker", "<p>This story first appeared in The Commerce Ledger and is "
                        "republished with permission.</p>\n<p>Aukey, a Chinese maker", 1)
    copy.write_text(html, "utf-8")
    sitemap = sites / "en-news" / "sitemaps" / "news-2021-h1.xml"
    sitemap.write_text(sitemap.read_text("utf-8").replace("</urlset>", (
        "<url><loc>http://127.0.0.1:8702/news/2021/05/12/aukey-chargers-pulled-republished.html</loc>"
        "<lastmod>2021-05-12</lastmod></url>\n</urlset>")), "utf-8")

    web = start_demo_web(sites)
    prefix = f"t{uuid.uuid4().hex[:10]}"
    try:
        sources = tmp_path / "sources.yaml"
        sources.write_text(demo_url(web, (REPO / "sources.demo.yaml").read_text("utf-8")), "utf-8")
        out = banwave(["crawl", "en-news"], crawl_environ(es_url, prefix, tmp_path / "data", sources))
        en_news = Counter(g["site"] for g in GOLD)["en-news"]
        assert f"{en_news + 1} indexed" in out.stdout
        docs = {d["_source"]["url"]: d["_source"] for d in index_docs(client, f"{prefix}-docs").values()}
        first = docs[demo_url(web, "http://127.0.0.1:8702/news/2021/05/10/aukey-products-pulled-from-amazon.html")]
        second = docs[demo_url(web, "http://127.0.0.1:8702/news/2021/05/12/aukey-chargers-pulled-republished.html")]
        assert first["id"] != second["id"] and first["content_hash"] != second["content_hash"]
        assert first["story_id"] == second["story_id"] in (first["id"], second["id"])
        stories = {d["story_id"] for d in docs.values()}
        own_copies = sum(1 for g in GOLD if g["site"] == "en-news" and g.get("story_of"))
        assert len(stories) == len(docs) - 1 - own_copies, "no other document joined a story"
    finally:
        web.stop()
        delete_prefix(es_url, prefix)

import asyncio
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

import settings as project
from pipelines.canonical import content_hash, doc_id
from pipelines.clean import CleanPipeline, clean_text
from pipelines.extract import ExtractMiddleware

DATA = Path(__file__).parent / "data" / "extract"


def raw_page(name, url, page_kind="article", **extra):
    return {"url": url, "status": 200, "headers": {"content-type": "text/html"},
            "body": (DATA / name).read_bytes(), "source": "demo", "source_kind": "news" if page_kind == "article" else "forum",
            "page_kind": page_kind, "thread_id": extra.pop("thread_id", None), "thread_page": None, "rules": None,
            "lang": None, "crawled_at": "2021-10-01T00:00:00+00:00", **extra}


# the project's defaults (settings.py), as a crawl would have them: components keep none of their own
DEFAULTS = {name: getattr(project, name) for name in dir(project) if name.startswith(("EXTRACT_", "CLEAN_"))}


def crawler_with(**settings):
    return get_crawler(settings_dict={**DEFAULTS, **settings})


def middleware(**settings):
    crawler = crawler_with(**settings)
    return ExtractMiddleware.from_crawler(crawler), crawler.stats


@pytest.mark.parametrize("name,value", [("EXTRACT_FALLBACK_TABLE_SHARE", 1.5), ("EXTRACT_CJK_RATIO", -0.1)])
def test_out_of_range_fraction_is_an_error_naming_the_setting(name, value):
    with pytest.raises(ValueError, match=name):
        middleware(**{name: value})


def test_article_becomes_one_document():
    mw, stats = middleware()
    url = "http://x.test/a/1.html?utm_source=feed"
    [doc] = list(mw.process_spider_output(None, [raw_page("article_gbk.html", url)]))
    assert doc["doc_type"] == "article" and doc["url"] == url
    assert doc["canonical_url"] == "http://x.test/a/1.html"
    assert doc["id"] == doc_id("http://x.test/a/1.html")
    assert doc["content_hash"] == content_hash(doc["text"])
    assert doc["published"] == "2021-08-15T10:23:00+08:00" and doc["lang"] == "zh"
    assert doc["source"] == "demo" and doc["source_kind"] == "news"
    assert stats.get_value("extract/documents/article") == 1


def test_thread_page_fans_out_into_posts():
    mw, stats = middleware()
    url = "http://x.test/thread-100-1-1.html"
    docs = list(mw.process_spider_output(None, [raw_page("thread_discuz_gbk.html", url, "thread", thread_id="100")]))
    assert [d["post_id"] for d in docs] == ["1001", "1002", "1003"]
    second = docs[1]
    assert second["url"] == url + "#pid1002" and second["id"] == doc_id(url, "1002")
    assert second["doc_type"] == "post" and second["floor"] == 2 and second["thread_id"] == "100"
    assert second["title"] == second["thread_title"] == "亚马逊封号了怎么办？"
    assert second["quote"] and second["quote"] not in second["text"] and second["reply_to"] == "1001"
    assert stats.get_value("extract/documents/post") == 3


def test_requests_and_other_items_pass_through_and_drops_are_counted():
    mw, stats = middleware(EXTRACT_MIN_CHARS=10_000)
    request, other = Request("http://x.test/next"), {"kind": "run-stats"}
    items = [request, other, raw_page("binary.png", "http://x.test/b.png"),
             raw_page("article_gbk.html", "http://x.test/a.html"),
             {**raw_page("article_gbk.html", "http://x.test/404"), "status": 404}]
    assert list(mw.process_spider_output(None, items)) == [request, other]
    assert stats.get_value("extract/dropped/decode_error") == 1
    assert stats.get_value("extract/dropped/boilerplate") == 1
    assert stats.get_value("extract/dropped/http_status") == 1


def test_async_output():
    mw, _ = middleware()

    async def source():
        yield raw_page("thread_phpbb.html", "http://x.test/viewtopic.php?t=77", "thread")

    async def collect():
        return [d async for d in mw.process_spider_output_async(None, source())]

    assert [d["post_id"] for d in asyncio.run(collect())] == ["501", "502"]


def test_disabled_raises_not_configured_naming_the_setting():
    with pytest.raises(NotConfigured, match="EXTRACT_ENABLED"):
        middleware(EXTRACT_ENABLED=False)


def test_clean_pipeline_normalises_and_rehashes():
    crawler = crawler_with(CLEAN_TITLE_MAX_CHARS=10)
    pipeline = CleanPipeline.from_crawler(crawler)
    item = {"doc_type": "article", "title": "  很长很长很长很长的标题\u3000超过十个字 ", "text": "e\u0301 第一段\u200b\u3000\u3000文字 \n\n\n 第二段",
            "content_hash": "stale", "author": " 林晓\u00a0"}
    out = pipeline.process_item(item)
    assert out["text"] == "\u00e9 第一段 文字\n第二段"  # NFC-composed, spaces collapsed
    assert out["text"] == clean_text(item["text"]) and out["content_hash"] == content_hash(out["text"])
    assert out["title"] == "很长很长很长很长的…" and out["author"] == "林晓"


def test_clean_pipeline_dates_undated_documents_at_their_crawl_time_flagged():
    pipeline = CleanPipeline.from_crawler(crawler_with())
    dated = pipeline.process_item({"doc_type": "article", "text": "正文", "published": "2021-06-01T10:00:00+08:00",
                                   "crawled_at": "2021-06-02T00:00:00+00:00"})
    undated = pipeline.process_item({"doc_type": "post", "text": "正文", "published": None,
                                     "crawled_at": "2021-06-02T00:00:00+00:00"})
    assert (dated["timeline_at"], dated["published_estimated"]) == ("2021-06-01T10:00:00+08:00", False)
    assert (undated["timeline_at"], undated["published_estimated"]) == ("2021-06-02T00:00:00+00:00", True)
    assert undated["published"] is None


def test_clean_pipeline_drops_empty_and_counts():
    crawler = crawler_with()
    pipeline = CleanPipeline.from_crawler(crawler)
    with pytest.raises(DropItem):
        pipeline.process_item({"doc_type": "post", "text": "\u200b\u3000 \n"})
    assert crawler.stats.get_value("clean/dropped/empty") == 1
    assert pipeline.process_item({"kind": "not-a-document"}) == {"kind": "not-a-document"}


def test_thread_page_without_recognisable_posts_becomes_one_counted_document():
    mw, stats = middleware()
    page = raw_page("article_gbk.html", "http://x.test/thread-9-1-1.html", "thread")
    [doc] = list(mw.process_spider_output(None, [page]))
    assert doc["doc_type"] == "article" and "五万个店铺" in doc["text"]
    assert stats.get_value("extract/thread_as_article") == 1


def test_extraction_bug_is_counted_and_output_continues(monkeypatch):
    import pipelines.extract.middleware as module

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(module, "extract_page", broken)
    mw, stats = middleware()
    request = Request("http://x.test/next")
    assert list(mw.process_spider_output(None, [raw_page("article_gbk.html", "http://x.test/a"), request])) == [request]
    assert stats.get_value("extract/dropped/internal_error") == 1

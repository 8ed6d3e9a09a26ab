"""The Coverage panel's data: run records list the pages a crawl could not fetch, with the reason.

The demo web has three relevant articles a crawl cannot get: one over DOWNLOAD_MAXSIZE, one
slower than the source's download timeout, one behind robots.txt. Each must appear in its run
record's ``failed_pages`` ("reason url"), which the Crawl health dashboard's Coverage table lists.
"""
from __future__ import annotations

from datetime import datetime, timezone

from elasticsearch import Elasticsearch

from cli.search_quality import url_key
from pipelines.runs import build_record, failed_pages_of


def test_the_demo_crawl_records_its_failed_pages_with_reasons(demo_index):
    client = Elasticsearch(demo_index.es_url, request_timeout=30)
    try:
        runs = [hit["_source"] for hit in client.search(index=demo_index.runs_alias, size=100)["hits"]["hits"]]
    finally:
        client.close()
    failed = {(page.split(" ", 1)[0], url_key(page.split(" ", 1)[1]), run["source"])
              for run in runs for page in run.get("failed_pages", [])}
    assert {("too_large", "/news/2021/07/06/tomtop-youkeshu-disclose-closures.html", "en-news"),
            ("timeout", "/news/2021/10/12/what-amazon-counts-as-review-abuse.html", "en-news"),
            ("robots", "/a/zt/20210701/900001.html", "cn-news")} <= failed
    for run in runs:  # every counted error has its page listed
        assert len([p for p in run.get("failed_pages", []) if not p.startswith("robots ")]) <= run["errors_total"]


class Spider:
    failed_pages = ["timeout http://a/1", "robots http://a/2", "timeout http://a/1", "too_large http://a/3"]


def test_failed_pages_are_unique_and_capped():
    assert failed_pages_of(Spider(), 10) == ["timeout http://a/1", "robots http://a/2", "too_large http://a/3"]
    assert failed_pages_of(Spider(), 2) == ["timeout http://a/1", "robots http://a/2"]
    assert failed_pages_of(object(), 2) == []
    now = datetime.now(timezone.utc)
    record = build_record({}, "s", "news", "finished", now, now, "r", ["timeout http://a/1"])
    assert record["failed_pages"] == ["timeout http://a/1"]

"""Crawl building blocks on their own: link rules, feed and sitemap parsing, the seen store, backoff."""
from __future__ import annotations

import asyncio
import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.settings import Settings

from crawlers.links import LinkRules, feed_links, page_links, sitemap_entries
from crawlers.middlewares import BackoffRetryMiddleware
from crawlers.sources import Source
from crawlers.state import SeenStore
from pipelines.canonical import canonical_url


def forum_source(**links) -> Source:
    return Source.model_validate({"name": "f", "kind": "forum", "start": [{"type": "board", "url": "http://f.org/"}],
                                  "links": links})


def test_link_rules_deny_beats_follow_beats_allow():
    rules = LinkRules(Source.model_validate({
        "name": "n", "kind": "news", "start": [{"type": "listing", "url": "http://n.org/"}],
        "links": {"allow": [r"/a/\d+\.html$", r"/list_\d+\.html$"], "follow": [r"/list_\d+\.html$"], "deny": ["/a/9"]}}))
    assert rules.is_content("http://n.org/a/1.html")
    assert not rules.is_content("http://n.org/a/91.html")
    assert not rules.is_content("http://n.org/list_2.html") and rules.is_index("http://n.org/list_2.html")
    assert not rules.is_content("http://n.org/about.html")


def test_thread_links_capture_id_and_page_and_build_other_pages():
    rules = LinkRules(forum_source(allow=[r"/thread-(?P<thread>\d+)-(?P<page>\d+)-\d+\.html$",
                                          r"viewthread&tid=(?P<thread>\d+)"], deny=["tid=666"]))
    link = rules.thread("http://f.org/thread-1201-3-1.html")
    assert (link.thread_id, link.page) == ("1201", 3)
    assert link.page_url(2) == "http://f.org/thread-1201-2-1.html"
    dynamic = rules.thread("http://f.org/forum.php?mod=viewthread&tid=77")
    assert (dynamic.thread_id, dynamic.page, dynamic.page_url(2)) == ("77", 1, None)
    assert rules.thread("http://f.org/forum.php?mod=viewthread&tid=666") is None
    assert rules.thread("http://f.org/forum-38-1.html") is None


def test_page_links_are_absolute_unique_and_without_fragments():
    body = '<a href="/a/1.html#c">x</a><a href="a/2.html">y</a><a href="/a/1.html">z</a><a href="javascript:void(0)">j</a>'
    response = HtmlResponse("http://n.org/list/", body=body.encode(), encoding="utf-8")
    assert page_links(response) == ["http://n.org/a/1.html", "http://n.org/list/a/2.html"]
    assert page_links(Response("http://n.org/x.png", body=b"\x89PNG")) == []


def test_page_links_follow_base_and_leave_out_binary_files_and_other_schemes():
    body = ('<base href="http://n.org/news/"><a href="b.html">b</a><area href="/map.html">'
            '<a href="/report.pdf">pdf</a><a href="/photo.JPG">jpg</a><a href="mailto:x@n.org">m</a>'
            '<a href="ftp://n.org/f">f</a><a href=" /c.html ">c</a>')
    response = HtmlResponse("http://n.org/list/", body=body.encode(), encoding="utf-8")
    assert page_links(response) == ["http://n.org/news/b.html", "http://n.org/map.html", "http://n.org/c.html"]


def test_feed_links_from_gbk_rss_and_atom():
    rss = ('<?xml version="1.0" encoding="gbk"?><rss version="2.0"><channel><title>滚动</title>'
           '<item><title>封店</title><link>http://n.org/a/1.html</link></item>'
           '<item><title>无链接</title><guid>http://n.org/a/2.html</guid></item></channel></rss>').encode("gbk")
    assert feed_links(XmlResponse("http://n.org/rss.xml", body=rss)) == ["http://n.org/a/1.html", "http://n.org/a/2.html"]
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="alternate" href="/p/1"/>'
            b'<link rel="enclosure" href="/img.jpg"/></entry></feed>')
    assert feed_links(XmlResponse("http://n.org/atom", body=atom)) == ["http://n.org/p/1"]


def test_sitemap_entries_index_urlset_gzip_and_robots():
    index = (b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             b'<sitemap><loc>http://n.org/s1.xml</loc></sitemap></sitemapindex>')
    assert sitemap_entries(XmlResponse("http://n.org/sitemap.xml", body=index), 1 << 20) == ("sitemapindex", ["http://n.org/s1.xml"])
    urlset = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://n.org/a/1.html</loc></url>'
              b'</urlset>')
    gz = Response("http://n.org/s1.xml.gz", body=gzip.compress(urlset))
    assert sitemap_entries(gz, 1 << 20) == ("urlset", ["http://n.org/a/1.html"])
    robots = TextResponse("http://n.org/robots.txt", body=b"User-agent: *\nSitemap: /sitemap.xml\n", encoding="utf-8")
    assert sitemap_entries(robots, 1 << 20) == ("sitemapindex", ["http://n.org/sitemap.xml"])


def test_seen_store_persists_pages_and_thread_page_counts(tmp_path):
    path = tmp_path / "crawl" / "f" / "seen.sqlite"
    store = SeenStore(path)
    store.mark("http://F.org/thread-1-2-1.html#pid5", "1", 2)
    store.mark("http://f.org/thread-1-1-1.html", "1", 1)
    store.mark("http://f.org/thread-2-1-1.html", "2", 1)
    store.mark("http://f.org/thread-2-3-1.html", "2", 3)  # page 2 failed: thread 2 counts one page
    store.mark("http://f.org/a/1.html")
    store.close()
    again = SeenStore(path)
    assert again.seen("http://f.org/thread-1-2-1.html") and again.seen("http://f.org/a/1.html#top")
    assert not again.seen("http://f.org/a/2.html")
    assert (again.thread_pages("1"), again.thread_pages("2"), again.thread_pages("3"), again.count()) == (2, 1, 0, 5)
    assert canonical_url("HTTP://f.org") == "http://f.org/"


@pytest.mark.parametrize("attempt, retry_after, expected", [(1, None, 2.0), (2, None, 4.0), (3, None, 5.0),
                                                            (1, b"3", 3.0), (1, b"100", 5.0), (1, b"soon", 2.0)])
def test_backoff_doubles_honours_retry_after_and_is_capped(monkeypatch, attempt, retry_after, expected):
    waits = []

    async def fake_sleep(seconds):
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    middleware = BackoffRetryMiddleware(Settings({"BANWAVE_RETRY_BACKOFF_BASE": 2, "BANWAVE_RETRY_BACKOFF_MAX": 5,
                                                  "RETRY_ENABLED": True}))
    headers = {"Retry-After": retry_after} if retry_after else {}
    response = Response("http://n.org/", status=429, headers=headers)
    asyncio.run(middleware._wait(Request("http://n.org/", meta={"retry_times": attempt}), response))
    assert waits == [expected]


@given(thread=st.integers(1, 10**9), page=st.integers(1, 9999), other=st.integers(1, 9999),
       host=st.sampled_from(["bbs.example.com", "127.0.0.1:8703"]))
def test_thread_page_urls_round_trip(thread, page, other, host):
    rules = LinkRules(forum_source(allow=[r"/thread-(?P<thread>\d+)-(?P<page>\d+)-\d+\.html$"]))
    link = rules.thread(f"http://{host}/thread-{thread}-{page}-1.html")
    again = rules.thread(link.page_url(other))
    assert (link.thread_id, link.page, again.thread_id, again.page) == (str(thread), page, str(thread), other)


@given(path=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e, exclude_characters="#?"), max_size=30),
       fragment=st.text(max_size=10))
def test_canonical_url_ignores_fragment_and_is_idempotent(path, fragment):
    url = f"http://Example.org/{path}"
    assert canonical_url(f"{url}#{fragment}") == canonical_url(url) == canonical_url(canonical_url(url))

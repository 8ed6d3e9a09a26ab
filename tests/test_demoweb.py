"""The offline demo web: the static server's special routes and the generated content."""
from __future__ import annotations

import filecmp
import http.client
import json
import socket
import sys

import pytest

import demo
from demo.web import DemoWeb, DemoWebError

pytestmark = pytest.mark.slow  # the demo web servers

SITES = demo.SITES_DIR
BASE = 8721  # away from the crawl tests' default ports


def get(port: int, path: str, timeout: float = 5) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path)
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


@pytest.fixture(scope="module")
def web():
    with DemoWeb(SITES, base_port=BASE) as server:
        yield server


def test_each_site_has_its_own_port_and_robots(web):
    assert web.base_url("forum") == f"http://127.0.0.1:{BASE + 2}"
    robots = [get(BASE + i, "/robots.txt").body for i in range(3)]
    assert len(set(robots)) == 3
    assert b"Disallow: /a/zt/" in robots[0]
    assert f"Sitemap: http://127.0.0.1:{BASE + 1}/sitemap.xml".encode() in robots[1]  # origin rewritten


def test_static_pages_keep_their_bytes_and_charset_headers(web):
    page = get(BASE, "/a/20210617/310617.html")
    assert page.status == 200 and page.getheader("Content-Type") == "text/html"
    assert page.body == (SITES / "cn-news/a/20210617/310617.html").read_bytes()
    assert "泽宝" in page.body.decode("gbk")
    big5 = get(BASE + 2, "/thread-1205-1-1.html")
    assert big5.getheader("Content-Type") == "text/html; charset=gbk"  # wrong on purpose
    assert "亞馬遜" in big5.body.decode("big5")
    assert get(BASE, "/a/20210603/310603.html").getheader("Content-Type") == "text/html; charset=utf-8"


def test_special_routes(web):
    assert get(BASE, "/a/20210601/900002.html").status == 500
    loop = get(BASE, "/a/20210602/900003.html")
    assert loop.status == 302 and loop.getheader("Location") == "/a/20210602/900004.html"
    assert get(BASE, "/a/20210602/900004.html").getheader("Location") == "/a/20210602/900003.html"
    assert get(BASE, "/a/20210603/900005.html").getheader("Content-Type") == "image/png"
    assert get(BASE, "/no/such/page.html").status == 404
    assert get(BASE, "/_routes.json").status == 404
    huge = get(BASE + 1, "/news/2021/07/06/tomtop-youkeshu-disclose-closures.html")
    assert len(huge.body) > 10_000_000 and huge.body.startswith(b"<!doctype html>")


def test_429_then_ok_is_counted_per_server():
    with DemoWeb(SITES, base_port=BASE + 10) as fresh:
        first, second = (get(BASE + 10, "/a/20210512/310512.html") for _ in range(2))
        assert (first.status, first.getheader("Retry-After"), second.status) == (429, "1", 200)
        assert fresh.paths("cn-news") == ["/a/20210512/310512.html"] * 2


def test_slow_route_times_out_a_short_client(web):
    with pytest.raises((socket.timeout, TimeoutError)):
        get(BASE + 1, "/news/2021/10/12/what-amazon-counts-as-review-abuse.html", timeout=0.5)


def test_taken_port_gives_one_line_error(web):
    with pytest.raises(DemoWebError) as info:
        DemoWeb(SITES, base_port=BASE).start()
    assert f"127.0.0.1:{BASE}" in str(info.value) and "\n" not in str(info.value)


def test_generated_files_are_up_to_date(tmp_path):
    """The committed sites and gold.jsonl are exactly what build.py renders from the content files."""
    sys.path.insert(0, str(SITES))
    try:
        import build
    finally:
        sys.path.remove(str(SITES))
    build.build(tmp_path)
    for site in ("cn-news", "en-news", "forum"):
        compare = filecmp.dircmp(SITES / site, tmp_path / site)
        stack, differing = [compare], []
        while stack:
            node = stack.pop()
            differing += node.left_only + node.right_only + node.diff_files
            stack += node.subdirs.values()
        assert differing == [], f"{site}: run demo/sites/build.py"
    assert (tmp_path / "gold.jsonl").read_bytes() == (SITES / "gold.jsonl").read_bytes()


def test_gold_covers_the_demo_web():
    rows = [json.loads(line) for line in (SITES / "gold.jsonl").read_text("utf-8").splitlines()]
    articles = [r for r in rows if r["doc_type"] == "article"]
    posts = [r for r in rows if r["doc_type"] == "post"]
    # the 2021 wave and the quiet months around it (docs/waves.md)
    assert 50 <= len(articles) <= 70 and 100 <= len(posts) <= 130
    assert len({r["url"] for r in rows}) == len(rows)
    assert {r["relevant"] for r in articles} == {True, False} and {r["relevant"] for r in posts} == {True, False}
    assert len({r["thread_id"] for r in posts}) >= 8
    assert all(r["url"].split("#")[1] == f"pid{r['post_id']}" for r in posts)
    relative = [r for r in posts if r["published"] is None]
    assert relative and all(r["published_relative"] for r in relative)
    assert all(r["published"].endswith("+08:00") or len(r["published"]) == 10
               for r in rows if r["site"] != "en-news" and r["published"])

"""Issue 14, defect 4 and the SSRF guard: hostile pages cost bounded memory, count as errors,
and never make the crawler reach into the machine it runs on."""
from __future__ import annotations

import gzip
import tracemalloc

import pytest
from scrapy.http import Response

from conftest import REPO, crawl_environ
from crawlers.guard import address_problem
from crawlers.links import TooLarge, sitemap_entries
from hostile_web import HostileWeb, gzip_bomb, run_measured
from pipelines.spool import Spool

MIB = 1 << 20


def test_a_gzipped_sitemap_is_decompressed_within_the_page_cap():
    bomb = gzip_bomb(256, b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
                     b"</urlset>")
    assert len(bomb) < MIB // 2
    response = Response("http://example.com/sitemap.xml.gz", body=bomb)
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge, match="more than 8388608 bytes"):
            sitemap_entries(response, 8 * MIB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * 8 * MIB, f"{peak / MIB:.0f} MiB held for a sitemap capped at 8 MiB"
    small = Response("http://example.com/s.xml.gz", body=gzip_bomb(
        0, b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://e.com/a</loc></url>',
        b"</urlset>"))
    assert sitemap_entries(small, 8 * MIB) == ("urlset", ["http://e.com/a"])
    members = gzip.compress(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">') + gzip.compress(
        b"<url><loc>http://e.com/b</loc></url></urlset>")  # two gzip members, one after the other
    assert sitemap_entries(Response("http://example.com/m.xml.gz", body=members), 8 * MIB)[1] == ["http://e.com/b"]
    many = gzip.compress(b" " * MIB) * 20  # a bomb of many small members
    with pytest.raises(TooLarge):
        sitemap_entries(Response("http://example.com/many.xml.gz", body=many), 8 * MIB)


@pytest.mark.slow
def test_hostile_pages_are_counted_errors_in_bounded_memory(tmp_path):
    with HostileWeb(articles=5, bomb_mib=256) as web:
        sources = tmp_path / "sources.yaml"
        sources.write_text(web.sources_yaml(), "utf-8")
        data_dir = tmp_path / "data"
        result, peak_mib = run_measured(["crawl", "hostile"], crawl_environ("", "thostile", data_dir, sources), REPO)
    assert result.returncode == 0 and result.stdout.startswith("hostile: partial"), result.stdout + result.stderr[-3000:]
    assert "too_large 2" in result.stdout, "the sitemap bomb and the Content-Encoding bomb are counted as errors"
    assert peak_mib < 600, f"peak RSS {peak_mib} MiB for 256 MiB bombs capped at 8 MiB (before: 874 MiB)"
    urls = {action.doc["url"] for action in Spool(data_dir).read() if action.index.endswith("-docs")}
    assert {web.url(f"/articles/{i}.html") for i in range(5)} <= urls
    assert not [url for url in urls if "/etc/" in url or "lol" in url], "no entity was expanded"
    assert web.canary_hits == []


@pytest.mark.slow
def test_links_and_redirects_to_other_ports_of_the_host_are_refused_even_for_a_private_source(tmp_path):
    """allow_private (the demo's opt-out) still keeps a source to its own ports: a page on
    127.0.0.1:P cannot make the crawler fetch 127.0.0.1:9200 or any other local service."""
    with HostileWeb(articles=0, bomb_mib=1) as web:
        sources = tmp_path / "sources.yaml"
        sources.write_text(web.sources_yaml(start="/hostile/ssrf.html", start_type="listing"), "utf-8")
        result, _ = run_measured(["crawl", "hostile"], crawl_environ("", "tssrf", tmp_path / "data", sources), REPO)
    assert web.canary_hits == [], "nothing reached the other port"
    assert "/hostile/redirect" in web.hits, "the redirect was fetched, its target was not"
    assert "unsafe_destination" in result.stdout, result.stdout
    assert "not fetched, unsafe destination" in result.stderr


@pytest.mark.slow
def test_a_public_source_never_reaches_a_loopback_address(tmp_path):
    """Without allow_private, a source whose host is (or resolves to) a loopback address is refused
    before any request, robots.txt included."""
    with HostileWeb(articles=3, hostile=False) as web:
        for host in ("127.0.0.1", "localhost"):
            sources = tmp_path / f"{host}.yaml"
            sources.write_text(web.sources_yaml(allow_private=False).replace("127.0.0.1", host), "utf-8")
            result, _ = run_measured(["crawl", "hostile"],
                                     crawl_environ("", "tpublic", tmp_path / host, sources), REPO)
            assert result.returncode == 1 and "unsafe_destination 1" in result.stdout, result.stdout
            assert "is a loopback address" in result.stderr or "resolves to a loopback address" in result.stderr
        assert web.hits == []


@pytest.mark.parametrize("address, problem", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"), ("10.1.2.3", "private"),
    ("172.16.0.9", "private"), ("192.168.1.1", "private"), ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"), ("fd00::1", "private"), ("100.64.0.1", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"), ("240.0.0.1", "reserved"),
])
def test_addresses_a_public_source_may_not_reach(address, problem):
    assert problem in address_problem(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"])
def test_public_addresses_pass(address):
    assert address_problem(address) is None

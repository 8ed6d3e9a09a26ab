"""Finding URLs in pages: link rules, feed entries, sitemap entries, thread pages."""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from urllib.parse import urldefrag

from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawlers.sources import Source


@dataclass(frozen=True)
class ThreadLink:
    """A forum thread page URL and what the source's pattern captured from it."""

    url: str
    thread_id: str
    page: int
    page_span: tuple[int, int] | None  # where the page number sits in the URL, if captured

    def page_url(self, page: int) -> str | None:
        """The URL of another page of the same thread, when the pattern captured the page number."""
        if self.page_span is None:
            return None
        start, end = self.page_span
        return f"{self.url[:start]}{page}{self.url[end:]}"


class LinkRules:
    """A source's allow/follow/deny patterns, compiled."""

    def __init__(self, source: Source):
        self.allow = [re.compile(p) for p in source.links.allow]
        self.follow = [re.compile(p) for p in source.links.follow]
        self.deny = [re.compile(p) for p in source.links.deny]

    def denied(self, url: str) -> bool:
        return any(p.search(url) for p in self.deny)

    def is_content(self, url: str) -> bool:
        """Allowed (or no allow rules), not denied, and not an index page: deny > follow > allow."""
        return (not self.denied(url) and not any(p.search(url) for p in self.follow)
                and (not self.allow or any(p.search(url) for p in self.allow)))

    def is_index(self, url: str) -> bool:
        return not self.denied(url) and any(p.search(url) for p in self.follow)

    def thread(self, url: str) -> ThreadLink | None:
        if not self.is_content(url):
            return None
        for pattern in self.allow:
            match = pattern.search(url)
            if match and match.group("thread"):
                page = match.groupdict().get("page")
                span = match.span("page") if page else None
                return ThreadLink(url, match.group("thread"), int(page) if page else 1, span)
        return None


# Scrapy's link extractor: <a>/<area> hrefs resolved against <base>, stripped, and links to binary
# files (images, archives, office documents, media: scrapy.linkextractors.IGNORED_EXTENSIONS) left
# out, since no document can be extracted from them.
_LINKS = LinkExtractor(tags=("a", "area"), attrs=("href",), canonicalize=False, strip=True, unique=False)


def page_links(response: Response) -> list[str]:
    """Absolute http(s) URLs of a page's links, without fragments, in page order, once each."""
    if not isinstance(response, TextResponse):
        return []
    seen: dict[str, None] = {}
    for link in _LINKS.extract_links(response):
        url = urldefrag(link.url)[0]
        if url.startswith(("http://", "https://")):
            seen.setdefault(url, None)
    return list(seen)


def feed_links(response: Response) -> list[str]:
    """Entry links of an RSS 0.9x/1.0/2.0 or Atom feed."""
    if not isinstance(response, TextResponse):
        return []
    selector = response.selector
    selector.remove_namespaces()
    links = selector.xpath("//item/link/text()").getall()
    links += selector.xpath("//entry/link[not(@rel) or @rel='alternate']/@href").getall()
    links += selector.xpath("//item[not(link)]/guid[not(@isPermaLink='false')]/text()").getall()
    return [response.urljoin(link.strip()) for link in links if link.strip()]


class TooLarge(ValueError):
    """A compressed body expands beyond the page size cap."""


def gunzip(body: bytes, max_size: int) -> bytes:
    """Decompress a gzip body in one stream, stopping as soon as it passes ``max_size`` bytes:
    a 1 MB file may expand to gigabytes (a decompression bomb), which must never be held in memory."""
    data, rest = bytearray(), body
    while rest:  # a gzip file may hold several members, one after another
        stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            data += stream.decompress(rest, max_size + 1 - len(data))
        except zlib.error as exc:
            raise ValueError(f"bad gzip data: {exc}") from None
        if len(data) > max_size:
            raise TooLarge(f"expands to more than {max_size} bytes (DOWNLOAD_MAXSIZE) once decompressed")
        if not stream.eof:  # cut short: keep what it held, as a browser would
            break
        rest = stream.unused_data
    return bytes(data)


def sitemap_entries(response: Response, max_size: int) -> tuple[str, list[str]]:
    """("sitemapindex", child sitemaps) or ("urlset", page URLs) of a sitemap or robots.txt.

    A gzipped sitemap is decompressed up to ``max_size`` bytes (TooLarge beyond); not XML or
    bad gzip raise ValueError.
    """
    if response.url.endswith("/robots.txt"):
        return "sitemapindex", list(sitemap_urls_from_robots(response.body, base_url=response.url))
    body = response.body
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body, max_size)
    sitemap = Sitemap(body)
    return sitemap.type or "", [entry["loc"] for entry in sitemap if entry.get("loc")]

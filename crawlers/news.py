"""News spider: articles found through feeds, sitemaps, listing pages and site search.

    scrapy crawl news -a source=cn-news [-s BANWAVE_SOURCES=sources.demo.yaml]

Feeds and sitemaps give article URLs directly (filtered by the source's link
rules); listing and search pages give article links (``links.allow``) and more
listing pages (``links.follow``, up to ``max_index_pages`` deep). Each article
page becomes one RAW PAGE item with page_kind "article".
"""
from __future__ import annotations

from typing import Any, AsyncIterator, Iterator

from scrapy.http import Response

from crawlers.base import SourceSpider
from crawlers.links import TooLarge, feed_links, page_links, sitemap_entries


class NewsSpider(SourceSpider):
    name = "news"
    kind = "news"

    async def start_points(self) -> AsyncIterator[Any]:
        callbacks = {"feed": self.parse_feed, "sitemap": self.parse_sitemap,
                     "listing": self.parse_listing, "search": self.parse_listing}
        for point in self.source.start:
            for url in point.urls():
                yield self.index_request(url, callbacks[point.type], depth=1)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        links = feed_links(response)
        if not links:
            self.count_error("empty_feed", response.url)
        yield from self._articles(links)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        max_size = response.meta.get("download_maxsize", self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        try:
            kind, urls = sitemap_entries(response, max_size)
        except TooLarge as exc:  # a decompression bomb: counted like a page over the cap
            self.count_error("too_large", response.url, str(exc))
            return
        except (ValueError, OSError) as exc:  # not XML, bad gzip
            self.count_error("bad_sitemap", response.url, str(exc))
            return
        if kind == "sitemapindex":
            depth = response.meta["index_depth"] + 1
            for url in urls:
                if depth <= self.source.max_index_pages:
                    yield self.index_request(url, self.parse_sitemap, depth=depth)
        else:
            yield from self._articles(urls)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        if not self.is_text(response):
            self.count_error("non_html", response.url)
            return
        links = page_links(response)
        yield from self._articles(links)
        depth = response.meta["index_depth"] + 1
        if depth <= self.source.max_index_pages:
            for url in links:
                if self.rules.is_index(url):
                    yield self.index_request(url, self.parse_listing, depth=depth)

    def parse_article(self, response: Response) -> Iterator[Any]:
        if self.page_usable(response):
            yield self.raw_page(response, "article")

    def _articles(self, urls: list[str]) -> Iterator[Any]:
        for url in urls:
            if self.rules.is_content(url):
                yield self.content_request(url, self.parse_article)

"""Forum spider: board -> thread list -> thread pages (Discuz!-style and similar).

    scrapy crawl forum -a source=forum [-s BANWAVE_SOURCES=sources.demo.yaml]

Board, search and feed pages give thread links, recognised by the source's
``links.allow`` patterns, which capture the thread id and, if present, the
page number. More board pages come from ``links.follow``. Each thread page is
one RAW PAGE item (page_kind "thread", thread_id, thread_page); the extraction
middleware splits it into one document per post.

Incremental rule: a thread never fetched starts at page 1 and follows its
pagination. A thread fetched before is fetched again only when the board lists,
or its own pages linked to, more pages than were fetched (from page 1 without
a gap); then its last fetched page (which may have gained posts) and the pages
after it are fetched. Remembering the linked pages matters where boards show
no page links: a later page that failed, or sat in the queue of a killed
crawl, is fetched next run instead of never.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, AsyncIterator, Iterator

from scrapy.http import Response

from crawlers.base import SourceSpider
from crawlers.links import ThreadLink, feed_links, page_links


class ForumSpider(SourceSpider):
    name = "forum"
    kind = "forum"

    async def start_points(self) -> AsyncIterator[Any]:
        for point in self.source.start:
            callback = self.parse_feed if point.type == "feed" else self.parse_board
            for url in point.urls():
                yield self.index_request(url, callback, depth=1)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        yield from self._threads(feed_links(response))

    def parse_board(self, response: Response) -> Iterator[Any]:
        if not self.is_text(response):
            self.count_error("non_html", response.url)
            return
        links = page_links(response)
        yield from self._threads(links)
        depth = response.meta["index_depth"] + 1
        if depth <= self.source.max_index_pages:
            for url in links:
                if self.rules.is_index(url):
                    yield self.index_request(url, self.parse_board, depth=depth)

    def parse_thread(self, response: Response) -> Iterator[Any]:
        thread_id, page = response.meta["thread_id"], response.meta["thread_page"]
        if not self.page_usable(response):
            return
        yield self.raw_page(response, "thread", thread_id, page)
        later = []
        for url in page_links(response):
            link = self.rules.thread(url)
            if link and link.thread_id == thread_id and link.page > page:
                later.append(link)
        if later:
            self.store.note_pages(thread_id, max(link.page for link in later))
        for link in later:
            yield self._thread_request(link)

    def _threads(self, urls: list[str]) -> Iterator[Any]:
        """Requests for listed threads that are new or gained pages since last fetched."""
        listed: dict[str, list[ThreadLink]] = defaultdict(list)
        for url in urls:
            link = self.rules.thread(url)
            if link:
                listed[link.thread_id].append(link)
        for thread_id, links in listed.items():
            links.sort(key=lambda link: link.page)
            fetched = self.store.thread_pages(thread_id)
            if fetched == 0:
                first = links[0]
                url = first.page_url(1) if first.page > 1 else None
                yield self._thread_request(ThreadLink(url, thread_id, 1, None) if url else first)
            elif max(links[-1].page, self.store.known_pages(thread_id)) > fetched:
                again = next((link for link in links if link.page == fetched), None)
                url = again.url if again else links[0].page_url(fetched)
                if url:
                    yield self._thread_request(ThreadLink(url, thread_id, fetched, None), refresh=True)
                else:  # the page URL cannot be built: start over from the first listed page
                    yield self._thread_request(links[0], refresh=True)
            else:
                self.crawler.stats.inc_value("banwave/skipped/thread_unchanged")

    def _thread_request(self, link: ThreadLink, refresh: bool = False):
        return self.content_request(link.url, self.parse_thread, refresh=refresh,
                                    thread_id=link.thread_id, thread_page=link.page)

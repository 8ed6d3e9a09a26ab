"""Scrapy middlewares for incremental crawling and polite retries.

- IncrementalMiddleware (downloader): content pages already fetched in an
  earlier run, or already requested in this one, are not downloaded; redirect
  loops fail as RedirectLoop (counted) instead of vanishing as duplicates.
- MarkSeenMiddleware (spider): records a content page in the SeenStore only
  after every item made from it was handed on (scraped or dropped); a page
  with an item that failed is not recorded, so nothing unsaved is skipped later.
- BackoffRetryMiddleware (downloader): Scrapy's retries, waiting between
  attempts (exponential backoff, honouring Retry-After on 429/503), except
  while the crawl stops (crawlers.stop).

They act only on spiders that carry a ``store`` (the banwave spiders).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator
from urllib.parse import urljoin

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawlers.frontier import REQUEST_HANDLED
from crawlers.stop import STOPPING
from pipelines.canonical import canonical_url

logger = logging.getLogger(__name__)


class AlreadyFetched(IgnoreRequest):
    """The content page was fetched before; not an error."""


class RedirectLoop(IgnoreRequest):
    """A redirect led back to a URL of the same redirect chain."""


class IncrementalMiddleware:
    """Skip content pages fetched in an earlier run or already requested in this one.

    Sits after RedirectMiddleware (order > 600) so it also sees 3xx responses:
    a redirect back into its own chain fails as a RedirectLoop, and a content
    URL that redirects to a page already fetched is recorded as fetched itself,
    so the next run does not follow the same redirect again.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self._requested: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _store(self, request: Request):
        if request.meta.get("banwave_role") != "content":
            return None
        return getattr(self.crawler.spider, "store", None)

    def process_request(self, request: Request) -> None:
        store = self._store(request)
        if store is None or request.meta.get("retry_times"):
            return None
        stats, key = self.crawler.stats, canonical_url(request.url)
        if key in self._requested:
            stats.inc_value("banwave/skipped/duplicate")
            raise AlreadyFetched(f"already requested in this run: {request.url}")
        if not request.meta.get("banwave_refresh") and store.seen(key):
            stats.inc_value("banwave/skipped/seen")
            raise AlreadyFetched(f"fetched in an earlier run: {request.url}")
        self._requested.add(key)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get("Location")
        if not (300 <= response.status < 400 and location):
            return response
        target = canonical_url(urljoin(request.url, location.decode("latin-1")))
        if target in {canonical_url(u) for u in (*request.meta.get("redirect_urls", ()), request.url)}:
            raise RedirectLoop(f"redirect loop: {request.url} -> {target}")
        store = self._store(request)
        if store is None:
            return response
        if store.seen(target):
            store.mark(request.meta.get("banwave_url", request.url))
            self.crawler.stats.inc_value("banwave/skipped/seen")
            raise AlreadyFetched(f"redirects to a page fetched before: {request.url} -> {target}")
        if target in self._requested:
            self.crawler.stats.inc_value("banwave/skipped/duplicate")
            raise AlreadyFetched(f"redirects to a page requested in this run: {request.url} -> {target}")
        return response


class MarkSeenMiddleware:
    """Mark a content page fetched once all of its items were handed on.

    Handed on means scraped (the index stage acknowledged it: indexed, unchanged,
    spooled or dead-lettered) or dropped on purpose. An item that failed
    (``item_error``: a stage raised, or its batch could be neither indexed nor
    spooled) or a callback that raised leaves the page unrecorded, so the next
    run fetches it again. Must sit closer to the engine (lower order) than the
    extraction middleware, so it counts the final items that the item signals report. Every
    finished page, recorded or not, is announced as ``REQUEST_HANDLED`` (crawlers.frontier).
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self._pending: dict[Response, int] = {}   # items of the page not yet handed on
        self._finished: set[Response] = set()     # pages whose callback output is exhausted
        self._failed: set[Response] = set()       # pages with an item that failed: never recorded
        for signal in (signals.item_scraped, signals.item_dropped):
            crawler.signals.connect(self._item_done, signal=signal)
        crawler.signals.connect(self._item_failed, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        # Every page is followed to its end (REQUEST_HANDLED releases its frontier lease); only a
        # content page is recorded. An error response (404, 500 after its retries) reaches here
        # through the errback: not recorded, so the page is tried again next run.
        self._pending[response] = 0
        try:
            async for obj in result:
                if not isinstance(obj, Request):
                    self._pending[response] += 1
                yield obj
        except BaseException:
            self._failed.add(response)
            raise
        finally:
            self._finished.add(response)
            self._maybe_mark(response)

    def _item_done(self, item: Any, response: Response | None = None, **_: Any) -> None:
        if response in self._pending:
            self._pending[response] -= 1
            self._maybe_mark(response)

    def _item_failed(self, item: Any, response: Response | None = None, **_: Any) -> None:
        if response in self._pending:
            self._failed.add(response)
            self._item_done(item, response)

    def _maybe_mark(self, response: Response) -> None:
        if response not in self._finished or self._pending[response] > 0:
            return
        del self._pending[response]
        self._finished.discard(response)
        failed = response in self._failed
        self._failed.discard(response)
        recorded = (getattr(self.crawler.spider, "store", None) is not None
                    and response.meta.get("banwave_role") == "content" and response.status < 400)
        if recorded and failed:
            self.crawler.stats.inc_value("banwave/pages_not_recorded")
            logger.info("page %s not recorded as fetched: one of its items failed; the next run fetches it again",
                        response.url)
        elif recorded:
            meta, store = response.meta, self.crawler.spider.store
            # Both the URL asked for and where it redirected to: either may be linked next time.
            for url in {meta.get("banwave_url", response.url), response.url}:
                store.mark(url, meta.get("thread_id"), meta.get("thread_page"))
        self.crawler.signals.send_catch_log(REQUEST_HANDLED, request=response.request)


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware that waits before each retry: base * 2**(attempt-1), capped.

    A Retry-After header (seconds) on the failed response wins when larger, up
    to the same cap. Settings: BANWAVE_RETRY_BACKOFF_BASE, BANWAVE_RETRY_BACKOFF_MAX.
    """

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("BANWAVE_RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("BANWAVE_RETRY_BACKOFF_MAX")
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler):
        middleware = super().from_crawler(crawler)
        crawler.signals.connect(middleware._stop, signal=STOPPING)
        return middleware

    def _stop(self, reason: str = "") -> None:
        self.stopping = True

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._wait(result, response)
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result, None)
        return result

    async def _wait(self, retry: Request, response: Response | None) -> None:
        if self.stopping:  # the retry goes to the job dir's queue at once
            return
        delay = self.base * 2 ** (retry.meta.get("retry_times", 1) - 1)
        if response is not None:
            try:
                delay = max(delay, float(response.headers.get("Retry-After", b"0").decode()))
            except ValueError:
                pass  # an HTTP-date Retry-After: keep the backoff
        delay = min(delay, self.cap)
        if delay > 0:
            logger.debug("waiting %.1fs before retrying %s", delay, retry.url)
            await asyncio.sleep(delay)

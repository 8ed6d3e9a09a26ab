"""Stopping a crawl promptly: on SIGTERM a crawl closes within the scheduler's grace time.

Scrapy's graceful stop waits for every download in flight, each up to
``DOWNLOAD_TIMEOUT``, and for the retries and backoff waits that follow; a
site that hangs keeps a SIGTERMed crawl open for minutes, until the scheduler
SIGKILLs it and no run record is written. ``banwave crawl`` (cli/crawl.py)
therefore sends :data:`STOPPING` to each running crawler before asking Scrapy
to stop it: :class:`StoppableDownloadHandler` cancels the downloads in flight,
the retry middleware stops waiting and retrying, and the spider does not count
the cancelled requests as errors. Their pages are not recorded as fetched, so
the next run fetches them. Everything else closes as usual: batches are
flushed, the job dir is written, the run record says why the crawl stopped.
"""
from __future__ import annotations

import asyncio
import logging

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Request, Response
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.exceptions import DownloadCancelledError
from twisted.internet.defer import CancelledError, Deferred

logger = logging.getLogger(__name__)

STOPPING = object()
"""Signal: the crawl was asked to stop (argument ``reason``, e.g. ``SIGTERM``); sent before Scrapy's stop."""


def request_stop(crawler, reason: str) -> None:
    """Tell the crawl's components that it stops (before Scrapy is asked to stop it)."""
    crawler.stats.set_value("banwave/stop_reason", reason)
    crawler.signals.send_catch_log(STOPPING, reason=reason)


def stop_reason(crawler) -> str | None:
    """Why the crawl is stopping (``request_stop``'s reason), or None while it runs normally."""
    return crawler.stats.get_value("banwave/stop_reason")


class StoppableDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, whose downloads in flight are cancelled on STOPPING."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self._downloads: set[Deferred] = set()
        self._stopping = False
        crawler.signals.connect(self._cancel_all, signal=STOPPING)

    async def download_request(self, request: Request) -> Response:
        download = deferred_from_coro(super().download_request(request))
        self._downloads.add(download)
        if self._stopping:  # started by a middleware after the stop: not worth waiting for
            download.cancel()
        try:
            return await maybe_deferred_to_future(download)
        except (asyncio.CancelledError, CancelledError):
            if not self._stopping:
                raise
            # Scrapy's error for a cancelled download: an asyncio CancelledError (a BaseException)
            # would get past the downloader's error handling and leave the request active forever.
            raise DownloadCancelledError(f"cancelled, the crawl is stopping: {request.url}") from None
        finally:
            self._downloads.discard(download)

    def _cancel_all(self, reason: str = "") -> None:
        self._stopping = True
        if self._downloads:
            logger.info("stopping (%s): %s download(s) in flight cancelled; their pages are fetched next run",
                        reason, len(self._downloads))
        for download in list(self._downloads):
            download.cancel()

"""Politeness across workers: each site's concurrency and delay hold for all workers together.

Scrapy enforces ``CONCURRENT_REQUESTS_PER_DOMAIN`` and ``DOWNLOAD_DELAY`` per
process; N workers of the shared frontier (crawlers/frontier.py) would hit a
site N times as hard. With ``BANWAVE_REDIS_URL``, :class:`PoliteDownloadHandler`
takes a slot of the request's site in Redis (:class:`SiteLimiter`) right before
the download starts, after Scrapy's own per-process slot, and frees it when the
download ends. A site is its host and port (``netloc``). Taking a slot is one
Lua script: at most ``limit`` slots at a time (a sorted set of holders by lease
expiry, so the slot of a worker that died frees itself after
``FRONTIER_SLOT_LEASE_SECONDS``), and none within ``delay`` of the last one taken
(a key with a ``PX`` expiry of the delay). Without Redis the handler is
crawlers.stop's handler unchanged.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from urllib.parse import urlsplit

from scrapy.exceptions import DownloadCancelledError
from scrapy.http import Request, Response

import config
from crawlers.stop import StoppableDownloadHandler

logger = logging.getLogger(__name__)

# KEYS[1] holders (zset token -> lease expiry, ms), KEYS[2] delay key; ARGV token, limit, delay ms, lease ms.
# Returns 0 when the slot is taken, else the milliseconds to wait before trying again.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 20 end
local gap = redis.call('PTTL', KEYS[2])
if gap > 0 then return gap end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3]) end
return 0
"""


def site_of(url: str) -> str:
    """The politeness key of a URL: its host and port."""
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


class SiteLimiter:
    """Per-site slots in Redis shared by every worker of one deployment (index prefix)."""

    def __init__(self, server, prefix: str, lease_seconds: float):
        self.server, self.prefix = server, prefix
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self._acquire = server.register_script(_ACQUIRE)

    def _keys(self, site: str) -> list[str]:
        return [f"{self.prefix}:site:{site}:slots", f"{self.prefix}:site:{site}:next"]

    def try_acquire(self, site: str, token: str, limit: int, delay: float) -> float:
        """Take a slot of ``site`` for ``token``: 0.0 when taken, else seconds to wait before trying again."""
        wait_ms = self._acquire(keys=self._keys(site), args=[token, limit, int(delay * 1000), self.lease_ms])
        return int(wait_ms) / 1000

    def release(self, site: str, token: str) -> None:
        self.server.zrem(self._keys(site)[0], token)


class PoliteDownloadHandler(StoppableDownloadHandler):
    """The project's download handler; with the shared frontier each download first waits for a
    slot of its site (CONCURRENT_REQUESTS_PER_DOMAIN at a time, DOWNLOAD_DELAY apart, across all
    workers). A per-source politeness override applies to that source's requests."""

    def __init__(self, crawler):
        super().__init__(crawler)
        settings = crawler.settings
        env = config.crawl_env(settings)
        self.limiter = None
        if env.redis_url:
            from crawlers.frontier import connect

            config.check_settings(settings, "FRONTIER_")
            self.limiter = SiteLimiter(connect(env), env.index_prefix, settings.getfloat("FRONTIER_SLOT_LEASE_SECONDS"))
        self.crawler = crawler

    async def download_request(self, request: Request) -> Response:
        if self.limiter is None:
            return await super().download_request(request)
        settings = self.crawler.settings  # the spider's politeness overrides are in the crawler's settings
        site, token = site_of(request.url), uuid.uuid4().hex
        limit, delay = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), settings.getfloat("DOWNLOAD_DELAY")
        while (wait := self.limiter.try_acquire(site, token, limit, delay)) > 0:
            if self._stopping:
                raise DownloadCancelledError(f"cancelled, the crawl is stopping: {request.url}")
            await asyncio.sleep(wait)
        try:
            return await super().download_request(request)
        finally:
            self.limiter.release(site, token)

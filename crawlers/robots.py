"""robots.txt for every request that waits for it.

Scrapy's RobotsTxtMiddleware (2.19) fetches a site's robots.txt once and lets the
requests that arrive meanwhile await one Deferred through ``asFuture``. Twisted
passes a Deferred's result down its callback chain, and ``asFuture``'s callback
returns None: the first waiter gets the parser, every later one gets None, which
the middleware reads as "no robots.txt, allowed". Several requests to a site at
start-up (a shared frontier's workers, a sitemap's first entries) then fetch
pages robots.txt disallows. This subclass reads the parser stored once robots.txt
was parsed instead of the value that reached its waiter.
"""
from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.http import Request
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> RobotParser | None:
        parser = await super().robot_parser(request)
        stored = self._parsers.get(urlparse_cached(request).netloc)
        # None only where robots.txt could not be had (Scrapy then allows, as before)
        return parser if parser is not None or isinstance(stored, Deferred) else stored

"""robots.txt holds for every request that waited for it (crawlers/robots.py)."""
import asyncio

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, TextResponse
from scrapy.utils.test import get_crawler

from crawlers.robots import RobotsTxtMiddleware

ROBOTS = b"User-agent: *\nDisallow: /amp/\n"


class SlowSite:
    """An engine stand-in whose robots.txt answers after the requests have lined up."""

    def __init__(self, body: bytes | None):
        self.body, self.fetches = body, 0

    async def download_async(self, request):
        self.fetches += 1
        await asyncio.sleep(0.05)
        if self.body is None:
            raise IgnoreRequest("robots.txt refused")
        return TextResponse(request.url, body=self.body, encoding="utf-8")


def outcomes(body: bytes | None, urls: list[str]) -> tuple[list[str], int]:
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    crawler.engine = SlowSite(body)
    middleware = RobotsTxtMiddleware.from_crawler(crawler)

    async def check(url):
        try:
            await middleware.process_request(Request(url))
        except IgnoreRequest:
            return "forbidden"
        return "allowed"

    async def together():
        return await asyncio.gather(*(check(url) for url in urls))

    return asyncio.run(together()), crawler.engine.fetches


def test_every_request_waiting_for_robots_txt_is_held_to_it():
    urls = ["http://n.org/news/1.html", "http://n.org/amp/1.html", "http://n.org/amp/2.html"]
    assert outcomes(ROBOTS, urls) == (["allowed", "forbidden", "forbidden"], 1)


def test_a_site_without_a_readable_robots_txt_stays_open_to_all_its_waiters():
    assert outcomes(None, ["http://n.org/amp/1.html", "http://n.org/amp/2.html"]) == (["allowed", "allowed"], 1)


@pytest.mark.parametrize("middleware", ["scrapy", "banwave"])
def test_scrapys_own_middleware_lets_later_waiters_through(middleware, monkeypatch):
    """The defect this module works around: the first request fetches robots.txt, the next two
    wait for it; without the fix the second waiter gets no parser and is allowed."""
    if middleware == "scrapy":
        monkeypatch.setattr(RobotsTxtMiddleware, "robot_parser", RobotsTxtMiddleware.__mro__[1].robot_parser)
    got, _ = outcomes(ROBOTS, ["http://n.org/amp/1.html", "http://n.org/amp/2.html", "http://n.org/amp/3.html"])
    assert got == (["forbidden", "forbidden", "allowed"] if middleware == "scrapy" else ["forbidden"] * 3)

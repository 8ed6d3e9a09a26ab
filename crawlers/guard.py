"""Destination guard: a crawl of a public source never reaches into the network it runs in.

A page (or a redirect, or a DNS record) can point the crawler at
``http://169.254.169.254/`` (a cloud metadata service), ``http://localhost:9200/``
(Elasticsearch itself) or any intranet host: server-side request forgery.
``DestinationGuard`` (downloader middleware, before robots.txt is fetched)
refuses, for every request of a banwave spider, including redirects (which
come back through the middlewares as new requests) and robots.txt:

- a port of one of the source's hosts other than its start URLs' ports and
  80/443 (``http://site:8080/admin`` when the source starts at ``https://site/``);
- unless the source says ``allow_private: true``: a host that is, or resolves
  to, a loopback, private, link-local, carrier-grade NAT, multicast, reserved
  or unspecified address. The name is resolved through the crawl's own DNS
  resolver, whose cache the download then uses, and the address actually
  connected to (``response.ip_address``) is checked again, so a record that
  changes between the check and the connection is caught too.

A refused request fails with :class:`UnsafeDestination`, counted as the error
kind ``unsafe_destination``. Sources on a private network (the offline demo web
on 127.0.0.1) opt out with ``allow_private: true``; the port rule stays on.
"""
from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
# Not "global" but not caught by the ipaddress flags below: carrier-grade NAT space (RFC 6598).
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class UnsafeDestination(IgnoreRequest):
    """The request would reach an address or port this source may not reach."""


def address_problem(address: str) -> str | None:
    """Why a crawl of a public source must not connect to ``address``, or None."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for flag, kind in (("is_loopback", "loopback"), ("is_link_local", "link-local"), ("is_multicast", "multicast"),
                       ("is_unspecified", "unspecified"), ("is_reserved", "reserved"), ("is_private", "private")):
        if getattr(ip, flag):
            return f"a {kind} address ({ip})"
    if ip in _SHARED:
        return f"a carrier-grade NAT address ({ip})"
    return None


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


class DestinationGuard:
    """Refuses requests to other ports of a source's hosts and, unless allowed, to private addresses."""

    def __init__(self, crawler):
        self.crawler = crawler
        self._ports: dict[str, set[int]] | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _source(self):
        return getattr(self.crawler.spider, "source", None)

    def _start_ports(self, source) -> dict[str, set[int]]:
        """host -> the ports its start URLs name (computed once per crawl: one source per spider)."""
        if self._ports is None:
            self._ports = {}
            for point in source.start:
                parts = urlsplit(point.url)
                self._ports.setdefault(parts.hostname, set()).add(parts.port or DEFAULT_PORTS[parts.scheme])
        return self._ports

    async def process_request(self, request: Request) -> None:
        source = self._source()
        if source is None:
            return None
        parts = urlsplit(request.url)
        host, port = parts.hostname or "", parts.port or DEFAULT_PORTS.get(parts.scheme)
        allowed = {80, 443} | self._start_ports(source).get(host, set())
        if port not in allowed:
            self._refuse(request, f"port {port} of {host} is none of the source's ports ({', '.join(map(str, sorted(allowed)))})")
        if source.allow_private:
            return None
        address = _ip_literal(host)
        if address is None:
            from twisted.internet import reactor

            try:
                address = await maybe_deferred_to_future(reactor.resolve(host))
            except Exception:  # noqa: BLE001 - the download itself will fail and count the DNS error
                return None
        problem = address_problem(address)
        if problem:
            self._refuse(request, f"{host} is {problem}" if address == host else f"{host} resolves to {problem}")
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        source = self._source()
        if source is not None and not source.allow_private and response.ip_address is not None:
            problem = address_problem(str(response.ip_address))
            if problem:
                self._refuse(request, f"{urlsplit(request.url).hostname} was reached at {problem}")
        return response

    @staticmethod
    def _refuse(request: Request, why: str) -> None:
        raise UnsafeDestination(f"not fetched, unsafe destination: {request.url}: {why}")

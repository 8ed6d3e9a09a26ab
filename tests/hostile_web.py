"""A local web of broken and malicious pages, for the fault tests and bench/bench_faults.py.

One server (``HostileWeb``) on 127.0.0.1 serves a news site of ``articles``
generated articles (written from templates for these tests: seller names,
cities and figures vary, the sentences are this module's own) found through a
sitemap index, next to hostile content:

- ``/bomb.xml.gz``: a gzipped sitemap of about 1 MB that expands to ``bomb_mib`` MiB;
- ``/laughs.xml`` (billion laughs) and ``/xxe.xml`` (an external entity naming a local file);
- ``/hostile/gzip-bomb.html``: an article sent with ``Content-Encoding: gzip`` that expands to ``bomb_mib`` MiB;
- ``/hostile/deep.html``: 100,000 nested elements;
- ``/hostile/ssrf.html``: links into the machine (another port of this host, the cloud metadata
  address, ``localhost``) and ``/hostile/redirect``, a 302 to another port of this host;
- ``/hang-list.html``: a listing whose ten links (``/hang/N.html``) accept the connection and never answer.

A second server, the *canary*, answers anything and records every request:
nothing may ever reach it. ``sources_yaml`` writes a sources file for the site.
"""
from __future__ import annotations

import gzip
import io
import json
import random
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SELLERS = ["Aukey", "Mpow", "RavPower", "Tomtop", "Youkeshu", "Vava", "TaoTronics", "Patozon", "Sunvalley",
           "Anker-style Trading", "Shenzhen Lianchuang", "Huaqiang Goods"]
CITIES = ["Shenzhen", "Guangzhou", "Dongguan", "Xiamen", "Hangzhou", "Ningbo", "Foshan", "Yiwu"]
PRODUCTS = ["power banks", "earphones", "phone cases", "kitchen scales", "LED strips", "pet feeders",
            "car chargers", "yoga mats"]


def article(number: int) -> tuple[str, str]:
    """Title and HTML body of generated article ``number`` (deterministic)."""
    rng = random.Random(number)
    seller, city, product = rng.choice(SELLERS), rng.choice(CITIES), rng.choice(PRODUCTS)
    frozen, staff = rng.randint(2, 900), rng.randint(20, 3000)
    day = 1 + number % 28
    title = f"Report {number}: {seller} counts the cost of a closed store"
    paragraphs = [
        f"{seller}, which sells {product} from {city}, confirmed on 2021-06-{day:02d} that its marketplace "
        f"store had been shut, case file {number} in this series of reports.",
        f"The company put the money held back by the platform at about {frozen} million yuan and said "
        f"{staff} employees were waiting to hear whether their jobs would survive the summer.",
        f"Managers at {seller} told suppliers in {city} that orders for {product} were on hold until the "
        f"appeal was answered, and that a second storefront was being prepared on another platform.",
        f"Trade groups in {city} said report {number} matched what other members had described: warnings "
        f"about reviews, then a closed account and frozen balances within days.",
    ]
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    html = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='article:published_time' content='2021-06-{day:02d}T08:00:00Z'></head>"
            f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>"
            f"<p class='byline'>By Staff Reporter {number % 7}</p>{body}</article>"
            f"<footer>Generated for banwave's fault tests.</footer></body></html>")
    return title, html


def gzip_bomb(mib: int, prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    """``prefix`` + ``mib`` MiB of spaces + ``suffix``, gzipped (about 1 MB per GiB)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as f:
        f.write(prefix)
        chunk = b" " * (1 << 20)
        for _ in range(mib):
            f.write(chunk)
        f.write(suffix)
    return out.getvalue()


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&lol9;</loc></url></urlset>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://127.0.0.1/&xxe;</loc></url></urlset>
"""


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
             headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Canary(_Recorder):
    def do_GET(self):
        self.server.web.canary_hits.append(self.path)
        self.send(200, b"<html><body><p>internal service</p></body></html>")

    do_POST = do_HEAD = do_GET


class _Site(_Recorder):
    def do_GET(self):  # noqa: C901 - one route per hostile case
        web: HostileWeb = self.server.web
        path = self.path.split("?")[0]
        with web.lock:
            web.hits.append(path)
        base = web.url("")
        if path == "/robots.txt":
            return self.send(200, f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n".encode(), "text/plain")
        if path == "/sitemap.xml":
            children = ["/sitemap-articles.xml", *(["/bomb.xml.gz", "/laughs.xml", "/xxe.xml"] if web.hostile else [])]
            entries = "".join(f"<sitemap><loc>{base}{child}</loc></sitemap>" for child in children)
            return self.send(200, f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
                                  f'sitemap/0.9">{entries}</sitemapindex>'.encode(), "application/xml")
        if path == "/sitemap-articles.xml":
            pages = [f"/articles/{i}.html" for i in range(web.articles)]
            if web.hostile:
                pages += ["/hostile/gzip-bomb.html", "/hostile/deep.html", "/hostile/ssrf.html"]
            entries = "".join(f"<url><loc>{base}{page}</loc></url>" for page in pages)
            return self.send(200, f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                                  f'sitemap/0.9">{entries}</urlset>'.encode(), "application/xml")
        if path.startswith("/articles/") and path.endswith(".html"):
            number = int(path[len("/articles/"):-len(".html")])
            if number >= web.articles:
                return self.send(404, b"not found")
            return self.send(200, article(number)[1].encode())
        if path == "/bomb.xml.gz":
            return self.send(200, web.sitemap_bomb, "application/x-gzip")
        if path == "/laughs.xml":
            return self.send(200, LAUGHS, "application/xml")
        if path == "/xxe.xml":
            return self.send(200, XXE, "application/xml")
        if path == "/hostile/gzip-bomb.html":
            return self.send(200, web.page_bomb, headers={"Content-Encoding": "gzip"})
        if path == "/hostile/deep.html":
            depth = 100_000
            html = "<html><body><article>" + "<div>" * depth + "<p>deep text</p>" + "</div>" * depth + "</article></body></html>"
            return self.send(200, html.encode())
        if path == "/hostile/ssrf.html":
            canary = web.canary_url("")
            links = [f"{canary}/articles/1.html", "http://169.254.169.254/latest/meta-data/articles/2.html",
                     f"http://localhost:{web.canary_port}/articles/3.html", f"{base}/hostile/redirect",
                     f"http://[::1]:{web.canary_port}/articles/4.html"]
            anchors = "".join(f'<a href="{link}">more</a>' for link in links)
            return self.send(200, f"<html><body><article><h1>Links inward</h1><p>{'word ' * 30}</p>{anchors}"
                                  f"</article></body></html>".encode())
        if path == "/hostile/redirect":
            return self.send(302, b"", headers={"Location": web.canary_url("/articles/5.html")})
        if path == "/hang-list.html":
            anchors = "".join(f'<a href="/hang/{i}.html">story {i}</a>' for i in range(10))
            return self.send(200, f"<html><body>{anchors}</body></html>".encode())
        if path.startswith("/hang"):
            time.sleep(3600)
            return None
        return self.send(404, b"not found")


class HostileWeb:
    """The hostile site and its canary, each on a free port of 127.0.0.1 (a context manager)."""

    def __init__(self, articles: int = 20, hostile: bool = True, bomb_mib: int = 1024):
        self.articles, self.hostile, self.bomb_mib = articles, hostile, bomb_mib
        self.hits: list[str] = []
        self.canary_hits: list[str] = []
        self.lock = threading.Lock()
        self._site = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
        self._canary = ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
        for server in (self._site, self._canary):
            server.daemon_threads = True
            server.web = self
        self.port, self.canary_port = self._site.server_address[1], self._canary.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def canary_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.canary_port}{path}"

    def start(self) -> "HostileWeb":
        if self.hostile:  # made before serving: compressing a GiB takes seconds, longer than a download timeout
            self.sitemap_bomb = gzip_bomb(self.bomb_mib, (
                f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f'<url><loc>{self.url("/articles/0.html")}</loc></url>').encode(), b"</urlset>")
            self.page_bomb = gzip_bomb(self.bomb_mib, b"<html><head><title>bomb</title></head><body><article><p>",
                                       b"</p></article></body></html>")
        for server in (self._site, self._canary):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in (self._site, self._canary):
            server.shutdown()
            server.server_close()

    def __enter__(self) -> "HostileWeb":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def sources_yaml(self, name: str = "hostile", allow_private: bool = True, start: str = "/sitemap.xml",
                     start_type: str = "sitemap") -> str:
        """A sources file with one news source for this site (fast politeness, like the demo's)."""
        return (f"sources:\n- name: {name}\n  kind: news\n  lang: en\n"
                f"  start: [{{type: {start_type}, url: \"{self.url(start)}\"}}]\n"
                f"  links: {{allow: ['/articles/\\d+\\.html$', '/hostile/', '/hang/']}}\n"
                f"  allow_private: {'true' if allow_private else 'false'}\n"
                f"  politeness: {{download_delay: 0, autothrottle_start_delay: 0, concurrency: 8, "
                f"download_timeout: 5, retry_backoff: 0.1}}\n")


# Runs a command and prints its exit code and peak RSS (KiB, the largest of its process tree's
# waited-for processes) as JSON on the last line of stderr.
_MEASURE = ("import json, resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
            "print(json.dumps({'code': code, 'peak_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}), "
            "file=sys.stderr)")


def run_measured(args: list[str], env: dict, cwd, timeout: float = 600) -> tuple[subprocess.CompletedProcess, int]:
    """``python -m cli.main ARGS`` in a subprocess; its result and peak resident memory in MiB."""
    proc = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "cli.main", *args], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)
    *log, last = proc.stderr.rstrip("\n").split("\n")
    measured = json.loads(last)
    proc.returncode, proc.stderr = measured["code"], "\n".join(log)
    return proc, measured["peak_kib"] // 1024

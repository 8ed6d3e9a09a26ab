"""The offline demo web: static sites from demo/sites served on 127.0.0.1.

Each site directory (cn-news, en-news, forum) gets its own port, base_port + i,
so each has its own robots.txt. Pages are plain files; a per-site _routes.json
declares the special responses a static file cannot express:

    {"content_types": {"html": "text/html", "xml": "application/xml"},
     "routes": {"/a/x.html": {"status": 500}, ...}}

Route keys: status (send that status), redirect (to a path; 302 unless status
says otherwise), content_type
(override the header), fail_first + fail_status (first N requests fail, e.g.
429, then the file is served), delay (seconds before answering), pad_bytes
(append that many bytes of filler to make a huge page).

Pages were generated for base port 8701; with another base port the server
rewrites the absolute 127.0.0.1:870x origins in text bodies on the fly.

Run it for humans with ``python -m demo [--port 8701]``.
"""
from __future__ import annotations

import argparse
import json
import logging
import mimetypes
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from demo import SITES_DIR
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

DEFAULT_ROOT = SITES_DIR  # the bundled sites
SITES = ("cn-news", "en-news", "forum")
GENERATED_BASE_PORT = 8701
_FILLER = b"<!-- " + b"padding " * 127 + b"-->\n"  # 1024 bytes


class DemoWebError(RuntimeError):
    """The demo web cannot start; the message is one line."""


class _Site:
    """One site's files, routes and request counters."""

    def __init__(self, name: str, root: Path, port: int, base_port: int):
        self.name, self.root, self.port = name, root, port
        config = json.loads((root / "_routes.json").read_text("utf-8")) if (root / "_routes.json").is_file() else {}
        self.content_types: dict[str, str] = config.get("content_types", {})
        self.routes: dict[str, dict] = config.get("routes", {})
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        self.rewrites = [(f"127.0.0.1:{GENERATED_BASE_PORT + i}".encode(), f"127.0.0.1:{base_port + i}".encode())
                         for i in range(len(SITES))] if base_port != GENERATED_BASE_PORT else []

    def count(self, path: str) -> int:
        """Return how many times ``path`` was requested before, counting this one."""
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]

    def content_type(self, path: Path) -> str:
        ext = path.suffix.lstrip(".")
        if ext in ("html", "htm", "php"):
            return self.content_types.get("html", "text/html")
        if ext == "xml":
            return self.content_types.get("xml", "application/xml")
        if ext == "txt":
            return "text/plain"
        return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoWeb/1.0"
    protocol_version = "HTTP/1.1"
    site: _Site  # set on the per-site subclass
    web: "DemoWeb"

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        arrived = time.monotonic()
        try:
            self._get()
        finally:  # before the body is written: the client cannot have finished with this request yet
            self.web._visited(self.site.name, self.path, arrived, self._answered or time.monotonic())

    def _get(self) -> None:
        self._answered = None
        path = unquote(urlsplit(self.path).path) or "/"
        self.web._record(self.site.name, self.path)
        route = self.site.routes.get(path, {})
        hit = self.site.count(path)
        if route.get("delay"):
            self.web._stopping.wait(route["delay"])
        if hit <= route.get("fail_first", 0):
            return self._send(route.get("fail_status", 503), b"<html><body>Too many requests</body></html>",
                              "text/html", {"Retry-After": "1"})
        if "redirect" in route:
            return self._send(route.get("status", 302), b"", "text/html", {"Location": route["redirect"]})
        if "status" in route:
            return self._send(route["status"], b"<html><body><h1>Server Error</h1></body></html>", "text/html")
        file = self._file(path)
        if file is None:
            return self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
        body = file.read_bytes()
        ctype = route.get("content_type") or self.site.content_type(file)
        if self.site.rewrites and ctype.startswith(("text/", "application/xml")):
            for old, new in self.site.rewrites:
                body = body.replace(old, new)
        self._send(200, body, ctype, pad=route.get("pad_bytes", 0))

    def _file(self, path: str) -> Path | None:
        target = (self.site.root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file() or self.site.root not in target.parents or target.name == "_routes.json":
            return None
        return target

    def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None, pad: int = 0) -> None:
        self._answered = time.monotonic()
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) + pad))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            for _ in range(pad // len(_FILLER)):
                self.wfile.write(_FILLER)
            self.wfile.write(b" " * (pad % len(_FILLER)))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (size cap, timeout): expected in tests

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server signature
        logger.debug("%s %s", self.site.name, format % args)


class DemoWeb:
    """Serve the demo sites, one port each; use as a context manager or start()/stop()."""

    def __init__(self, root: str | os.PathLike = DEFAULT_ROOT, base_port: int = GENERATED_BASE_PORT,
                 host: str = "127.0.0.1"):
        self.root, self.base_port, self.host = Path(root).resolve(), base_port, host
        self.requests: list[tuple[str, str]] = []  # (site, path with query) in arrival order
        # (site, path, arrived, answered): monotonic seconds of the request's arrival and of the start of
        # its answer (after any route delay), for politeness checks
        self.visits: list[tuple[str, str, float, float]] = []
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._log_lock = threading.Lock()

    def base_url(self, site: str) -> str:
        return f"http://{self.host}:{self.base_port + SITES.index(site)}"

    def paths(self, site: str) -> list[str]:
        """Paths requested from ``site`` so far, in arrival order."""
        with self._log_lock:
            return [p for s, p in self.requests if s == site]

    def clear_log(self) -> None:
        with self._log_lock:
            self.requests.clear()
            self.visits.clear()

    def _record(self, site: str, path: str) -> None:
        with self._log_lock:
            self.requests.append((site, path))

    def _visited(self, site: str, path: str, arrived: float, answered: float) -> None:
        with self._log_lock:
            self.visits.append((site, path, arrived, answered))

    def start(self) -> "DemoWeb":
        self._stopping.clear()
        for i, name in enumerate(SITES):
            port = self.base_port + i
            site = _Site(name, self.root / name, port, self.base_port)
            handler = type(f"Handler_{i}", (_Handler,), {"site": site, "web": self})
            try:
                server = ThreadingHTTPServer((self.host, port), handler)
            except OSError as exc:
                self.stop()
                raise DemoWebError(f"demo site {name!r} cannot listen on {self.host}:{port}: {exc.strerror}"
                                   " (port taken? choose another base port)") from None
            server.daemon_threads = True
            thread = threading.Thread(target=server.serve_forever, name=f"demoweb-{name}", daemon=True)
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
            logger.info("demo site %s at %s", name, self.base_url(name))
        return self

    def stop(self) -> None:
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> "DemoWeb":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(DEFAULT_ROOT), help="directory holding the site folders")
    parser.add_argument("--port", type=int, default=GENERATED_BASE_PORT,
                        help=f"base port; sites get base, base+1, base+2 (default {GENERATED_BASE_PORT})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        web = DemoWeb(args.root, args.port).start()
    except DemoWebError as exc:
        print(f"error: {exc}")
        return 2
    for name in SITES:
        print(f"{name:8} {web.base_url(name)}/")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        web.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

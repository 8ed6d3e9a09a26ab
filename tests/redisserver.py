"""A real redis-server (Debian's, installed by `make install`) on a free port, for the frontier tests."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


class RedisServerError(RuntimeError):
    """redis-server is missing or did not start; the message is one line."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """``redis-server`` on 127.0.0.1 at a free port, data in ``directory``, no persistence; stop() ends it."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisServerError("redis-server is not installed (make install installs Debian's redis-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(5):  # the free port may be taken between the probe and the start
            self.port = free_port()
            log = open(self.directory / "redis.log", "ab")
            self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                          "--appendonly", "no", "--dir", str(self.directory)],
                                         stdout=log, stderr=subprocess.STDOUT)
            log.close()
            if self._ready():
                return self
            self.stop()
        raise RedisServerError(f"redis-server did not start; see {self.directory / 'redis.log'}")

    def _ready(self) -> bool:
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    return bool(client.ping())
                except redis.ConnectionError:
                    time.sleep(0.05)
            return False
        finally:
            client.close()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

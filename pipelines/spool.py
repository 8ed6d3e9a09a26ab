"""On-disk spool and dead-letter file: what Elasticsearch did not take, kept safe.

Both are JSON Lines files under ``<BANWAVE_DATA_DIR>/spool/``:

- ``spool.jsonl``: one bulk action per line, ``{"index", "id", "doc", "reason",
  "spooled_at"}``, for batches Elasticsearch could not take for a transient
  reason (unreachable, 429, 5xx, no Elasticsearch configured). Replayed by
  ``banwave index replay`` and at the start of every crawl.
- ``dead-letter.jsonl``: documents rejected for a permanent reason (mapping
  conflict, malformed value), with the reason; never retried automatically.

Appends are one ``write`` per batch followed by ``fsync``, so a kill leaves at
most a torn last line, which the next writer cuts off (its actions were never
acknowledged to Scrapy, so their pages are crawled again). Every change holds
an exclusive ``flock`` on ``spool.lock``, which is what lets several crawl
processes and a replay share one spool. Removing replayed lines rewrites the
file to a temporary name, fsyncs it and renames it over the original, so a
kill leaves either the old or the new file, never a half one; re-sending a
line is harmless because document ids are deterministic.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

logger = logging.getLogger(__name__)

SPOOL_FILE = "spool.jsonl"
DEAD_LETTER_FILE = "dead-letter.jsonl"
LOCK_FILE = "spool.lock"


def spool_dir(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / "spool"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class SpooledAction:
    """One spooled bulk action and the exact line it was read from."""

    line: str
    index: str
    id: str
    doc: dict


class Spool:
    """The spool and dead-letter files of one data directory."""

    def __init__(self, data_dir: str | os.PathLike):
        self.dir = spool_dir(data_dir)
        self.path = self.dir / SPOOL_FILE
        self.dead_letter_path = self.dir / DEAD_LETTER_FILE
        self._lock_path = self.dir / LOCK_FILE

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ writing

    def append(self, actions: list[tuple[str, str, dict]], reason: str) -> None:
        """Durably add ``(index, id, doc)`` actions; returns once they are fsynced."""
        at = now_iso()
        lines = [_dumps({"index": index, "id": doc_id, "doc": doc, "reason": reason, "spooled_at": at})
                 for index, doc_id, doc in actions]
        self._append_lines(self.path, lines)

    def dead_letter(self, entries: list[tuple[str, str, dict, str]]) -> None:
        """Durably record ``(index, id, doc, reason)`` for documents rejected for good."""
        at = now_iso()
        lines = [_dumps({"index": index, "id": doc_id, "reason": reason, "at": at, "doc": doc})
                 for index, doc_id, doc, reason in entries]
        self._append_lines(self.dead_letter_path, lines)

    def _append_lines(self, path: Path, lines: list[str]) -> None:
        if not lines:
            return
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        with self._locked(), open(path, "ab+") as f:
            _cut_torn_tail(f)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    # ------------------------------------------------------------------ reading

    def read(self) -> list[SpooledAction]:
        """The spooled actions, oldest first; unreadable lines are logged and kept in the file."""
        with self._locked():
            return self._parse(self._lines())

    def remove(self, acknowledged: list[SpooledAction]) -> int:
        """Remove exactly these lines (one occurrence each) by an atomic rewrite; return how many.

        Lines appended since they were read survive: the file is re-read under the lock.
        """
        todo = Counter(action.line for action in acknowledged)
        if not todo:
            return 0
        with self._locked():
            kept, removed = [], 0
            for line in self._lines():
                if todo[line] > 0:
                    todo[line] -= 1
                    removed += 1
                else:
                    kept.append(line)
            tmp = self.path.with_suffix(".jsonl.tmp")
            with open(tmp, "wb") as f:
                f.write("".join(line + "\n" for line in kept).encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            _fsync_dir(self.dir)
        return removed

    def _lines(self) -> list[str]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        if data and not data.endswith(b"\n"):  # torn by a kill mid-append: never acknowledged
            data = data[: data.rfind(b"\n") + 1]
        return [line for line in data.decode("utf-8", errors="replace").split("\n") if line]

    def _parse(self, lines: list[str]) -> list[SpooledAction]:
        actions = []
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
                actions.append(SpooledAction(line, record["index"], record["id"], record["doc"]))
            except (ValueError, KeyError, TypeError) as exc:
                logger.error("spool %s line %s is unreadable and stays in the file: %s", self.path, number, exc)
        return actions

    def count(self) -> int:
        return len(self._lines())

    def dead_letter_reasons(self) -> Counter:
        """Dead-lettered documents counted by reason (the first words, before any detail)."""
        reasons: Counter = Counter()
        try:
            with open(self.dead_letter_path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        reasons[json.loads(line)["reason"].split(":")[0]] += 1
                    except (ValueError, KeyError, TypeError, AttributeError):
                        reasons["unreadable line"] += 1
        except FileNotFoundError:
            pass
        return reasons


def _dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)


def _cut_torn_tail(f) -> None:
    """Truncate a last line without its newline, left by a writer killed mid-append."""
    size = f.seek(0, os.SEEK_END)
    if size == 0:
        return
    f.seek(size - 1)
    if f.read(1) == b"\n":
        return
    tail = min(size, 1 << 20)
    while True:
        f.seek(size - tail)
        cut = f.read(tail).rfind(b"\n")
        if cut >= 0 or tail == size:
            break
        tail = min(size, tail * 2)
    keep = size - tail + cut + 1 if cut >= 0 else 0
    logger.warning("%s: cutting a torn last line (%s bytes) left by an interrupted write", f.name, size - keep)
    f.truncate(keep)
    f.seek(keep)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""On-disk spool and dead-letter file: what Elasticsearch did not take, kept safe.

Both are JSON Lines files under ``<BANWAVE_DATA_DIR>/spool/``:

- ``spool.jsonl``: one bulk action per line, ``{"index", "id", "doc", "reason",
  "spooled_at"}``, for batches Elasticsearch could not take for a transient
  reason (unreachable, 429, 5xx, no Elasticsearch configured). Replayed by
  ``banwave index replay`` and at the start of every crawl.
- ``dead-letter.jsonl``: documents rejected for a permanent reason (mapping
  conflict, malformed value), with the reason, and spool lines that cannot be
  replayed (``"line"``: the raw text); never retried automatically.

Appends are one ``write`` per batch followed by ``fsync``. A writer killed
mid-write (or a full disk) leaves a last line without its newline: the next
writer ends it, so a complete record is kept and a cut one becomes a line of
its own. Nothing in the file is ever dropped: a line that is not a valid
action (not JSON or UTF-8, ``doc`` not an object, a missing or invalid id, a
cut record) is *unreadable*; ``quarantine`` moves unreadable lines to the
dead-letter file with the reason, so one bad line never blocks the good ones.
Every change holds an exclusive ``flock`` on ``spool.lock``, which is what
lets several crawl processes and a replay share one spool. Removing lines
rewrites the file to a temporary name, fsyncs it and renames it over the
original, so a kill leaves either the old or the new file, never a half one;
re-sending a line is harmless because document ids are deterministic.
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

from pipelines.bulk import action_problem

logger = logging.getLogger(__name__)

SPOOL_FILE = "spool.jsonl"
DEAD_LETTER_FILE = "dead-letter.jsonl"
LOCK_FILE = "spool.lock"
UNREADABLE = "unreadable spool line"  # the dead-letter reason of a line that cannot be replayed


def spool_dir(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / "spool"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class SpooledAction:
    """One spooled bulk action and the exact line it was read from."""

    line: bytes
    index: str
    id: str
    doc: dict


@dataclass(frozen=True)
class UnreadableLine:
    """A spool line that is not a valid action, and why."""

    line: bytes
    number: int
    problem: str


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
        with self._locked():
            _append_lines(self.path, lines)

    def dead_letter(self, entries: list[tuple[str, str, dict, str]]) -> None:
        """Durably record ``(index, id, doc, reason)`` for documents rejected for good."""
        with self._locked():
            self._dead_letter(entries)

    def _dead_letter(self, entries: list[tuple[str, str, dict, str]]) -> None:
        at = now_iso()
        lines = [_dumps({"index": index, "id": doc_id, "reason": reason, "at": at, "doc": doc})
                 for index, doc_id, doc, reason in entries]
        _append_lines(self.dead_letter_path, lines)

    # ------------------------------------------------------------------ reading

    def read(self) -> list[SpooledAction]:
        """The replayable actions, oldest first (unreadable lines stay in the file; see quarantine)."""
        return self.scan()[0]

    def scan(self) -> tuple[list[SpooledAction], list[UnreadableLine]]:
        """Every line of the spool: the replayable actions and the unreadable lines."""
        with self._locked():
            return _parse(self._lines())

    def count(self) -> int:
        """Lines in the spool, unreadable ones included: what is really there."""
        with self._locked():
            return len(self._lines())

    def quarantine(self) -> int:
        """Move every unreadable line to the dead-letter file with its reason; return how many.

        The dead letters are written (fsynced) before the spool is rewritten, so a
        kill in between leaves a line in both files, never in neither.
        """
        with self._locked():
            lines = self._lines()
            unreadable = _parse(lines)[1]
            if not unreadable:
                return 0
            at = now_iso()
            _append_lines(self.dead_letter_path, [
                _dumps({"index": None, "id": None, "reason": f"{UNREADABLE}: {bad.problem}", "at": at,
                        "line": bad.line.decode("utf-8", errors="replace")}) for bad in unreadable])
            for bad in unreadable:
                logger.error("spool %s line %s moved to the dead letters %s: %s", self.path, bad.number,
                             self.dead_letter_path, bad.problem)
            gone = {bad.number for bad in unreadable}
            self._rewrite([line for number, line in enumerate(lines, 1) if number not in gone])
        return len(unreadable)

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
            self._rewrite(kept)
        return removed

    def _rewrite(self, lines: list[bytes]) -> None:
        tmp = self.path.with_suffix(".jsonl.tmp")
        with open(tmp, "wb") as f:
            f.write(b"".join(line + b"\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.dir)

    def _lines(self) -> list[bytes]:
        """The file's non-empty lines; a last line without its newline is a line too."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return [line for line in data.split(b"\n") if line.strip()]

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


def _parse(lines: list[bytes]) -> tuple[list[SpooledAction], list[UnreadableLine]]:
    actions, unreadable = [], []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            unreadable.append(UnreadableLine(line, number, "not UTF-8"))
            continue
        except ValueError as exc:
            unreadable.append(UnreadableLine(line, number, f"not JSON ({exc})"))
            continue
        if not isinstance(record, dict):
            unreadable.append(UnreadableLine(line, number, "not a JSON object"))
            continue
        problem = action_problem(record.get("index"), record.get("id"), record.get("doc"))
        if problem:
            unreadable.append(UnreadableLine(line, number, problem))
        else:
            actions.append(SpooledAction(line, record["index"], record["id"], record["doc"]))
    return actions, unreadable


def _dumps(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def _append_lines(path: Path, lines: list[bytes]) -> None:
    """Append lines with one write and fsync; the caller holds the lock."""
    if not lines:
        return
    data = b"".join(line + b"\n" for line in lines)
    with open(path, "ab+") as f:
        if _ends_without_newline(f):
            # Left by a writer killed mid-write: end that line here, so a complete record is
            # kept and a cut one stays as an unreadable line (for the dead letters), not glued to ours.
            logger.warning("%s: the last line had no newline (an interrupted write); ending it", path)
            data = b"\n" + data
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _ends_without_newline(f) -> bool:
    size = f.seek(0, os.SEEK_END)
    if size == 0:
        return False
    f.seek(size - 1)
    last = f.read(1)
    f.seek(size)
    return last != b"\n"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

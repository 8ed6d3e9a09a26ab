"""The on-disk spool and dead-letter file (pipelines/spool.py): durable, exact, safe against kills."""
from __future__ import annotations

import json
import multiprocessing

from pipelines.spool import Spool


def actions(n: int, start: int = 0, index: str = "t-docs") -> list[tuple[str, str, dict]]:
    return [(index, f"id{i}", {"id": f"id{i}", "text": f"正文 {i}", "content_hash": f"h{i}"})
            for i in range(start, start + n)]


def test_append_read_and_count(tmp_path):
    spool = Spool(tmp_path)
    spool.append(actions(3), "HTTP 503: unavailable")
    spool.append(actions(2, 3, index="t-runs"), "cannot reach Elasticsearch")
    read = spool.read()
    assert [(a.index, a.id) for a in read] == [("t-docs", "id0"), ("t-docs", "id1"), ("t-docs", "id2"),
                                               ("t-runs", "id3"), ("t-runs", "id4")]
    assert read[0].doc["text"] == "正文 0"
    assert spool.count() == 5
    line = json.loads(spool.path.read_text("utf-8").splitlines()[0])
    assert line["reason"] == "HTTP 503: unavailable" and line["spooled_at"]
    assert "正文" in spool.path.read_text("utf-8"), "JSON Lines keep Chinese readable"


def test_remove_only_the_acknowledged_lines(tmp_path):
    spool = Spool(tmp_path)
    spool.append(actions(4), "down")
    read = spool.read()
    spool.append(actions(1, 10), "down")  # arrives after the replay read the spool
    assert spool.remove([read[0], read[2]]) == 2
    assert [a.id for a in spool.read()] == ["id1", "id3", "id10"]
    assert not list(tmp_path.glob("spool/*.tmp")), "the rewrite's temp file was renamed"


def test_remove_counts_identical_lines(tmp_path):
    spool = Spool(tmp_path)
    spool.append(actions(1), "down")
    first = spool.read()
    spool.path.write_text(spool.path.read_text() * 2)  # the same line twice
    assert spool.remove(first) == 1
    assert spool.count() == 1


def test_torn_last_line_is_ended_before_the_next_append(tmp_path):
    spool = Spool(tmp_path)
    spool.append(actions(2), "down")
    with open(spool.path, "ab") as f:
        f.write(b'{"index": "t-docs", "id": "half')  # a kill in the middle of a write
    assert [a.id for a in spool.read()] == ["id0", "id1"]
    spool.append(actions(1, 5), "down")
    assert [a.id for a in spool.read()] == ["id0", "id1", "id5"]
    lines = spool.path.read_text().splitlines()
    assert lines[2] == '{"index": "t-docs", "id": "half', "the cut record is kept on a line of its own"
    assert json.loads(lines[3])["id"] == "id5"


def test_unreadable_line_stays_until_quarantined(tmp_path, caplog):
    spool = Spool(tmp_path)
    spool.append(actions(1), "down")
    with open(spool.path, "a") as f:
        f.write("not json\n")
    read = spool.read()
    assert [a.id for a in read] == ["id0"]
    spool.remove(read)
    assert spool.path.read_text() == "not json\n"
    assert spool.quarantine() == 1
    assert spool.path.read_text() == "" and spool.dead_letter_reasons() == {"unreadable spool line": 1}
    assert "moved to the dead letters" in caplog.text


def test_dead_letters_with_reason(tmp_path):
    spool = Spool(tmp_path)
    spool.dead_letter([("t-docs", "id1", {"floor": "x"}, "400 mapper_parsing_exception: failed to parse [floor]"),
                       ("t-docs", "id2", {"floor": "y"}, "400 mapper_parsing_exception: failed to parse [floor]")])
    assert spool.dead_letter_reasons() == {"400 mapper_parsing_exception": 2}
    entry = json.loads(spool.dead_letter_path.read_text().splitlines()[0])
    assert entry["id"] == "id1" and entry["doc"] == {"floor": "x"} and "failed to parse" in entry["reason"]
    assert spool.count() == 0


def _append_many(data_dir: str, worker: int) -> None:
    spool = Spool(data_dir)
    for batch in range(20):
        spool.append(actions(5, start=worker * 1000 + batch * 5), "down")


def test_concurrent_writers_and_a_replay_lose_nothing(tmp_path):
    spool = Spool(tmp_path)
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_append_many, args=(str(tmp_path), w)) for w in range(3)]
    for p in workers:
        p.start()
    removed = 0
    while any(p.is_alive() for p in workers):
        removed += spool.remove(spool.read()[:7])  # a replay acknowledging a few lines at a time
    for p in workers:
        p.join()
    assert removed + spool.count() == 3 * 20 * 5
    assert len({a.id for a in spool.read()}) == spool.count()

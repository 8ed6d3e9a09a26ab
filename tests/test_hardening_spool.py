"""Issue 14, defects 2 and 3: the spool never stops collection and never drops a record.

A bad spool line (not JSON, not UTF-8, ``doc`` not an object, a missing or
invalid id) goes to the dead-letter file with its reason while the good lines
are replayed; a complete last record without its newline is replayed; a record
cut mid-write is dead-lettered and counted; ``banwave index status`` counts
what is really in the file.
"""
from __future__ import annotations

import json

import pytest

from conftest import banwave, crawl_environ, index_docs
from pipelines.spool import Spool
from test_index import EN_NEWS, doc


def line(index: str, doc_id, document) -> bytes:
    return json.dumps({"index": index, "id": doc_id, "doc": document, "reason": "down",
                       "spooled_at": "2026-01-01T00:00:00+00:00"}, ensure_ascii=False).encode() + b"\n"


def bad_lines(alias: str) -> dict[str, bytes]:
    """One spool line per way a line can be unusable, by what is wrong with it."""
    return {
        "doc not an object": line(alias, "bad-doc", "just a string"),
        "doc a list": line(alias, "bad-list", [1, 2]),
        "empty id": line(alias, "", doc(90)),
        "id too long": line(alias, "x" * 600, doc(91)),
        "id not a string": line(alias, 42, doc(92)),
        "id missing": json.dumps({"index": alias, "doc": doc(93)}).encode() + b"\n",
        "index missing": json.dumps({"id": "no-index", "doc": doc(94)}).encode() + b"\n",
        "not JSON": b"{this is not json\n",
        "not UTF-8": b'{"index": "\xff\xfe", "id": "latin"}\n',
        "not an object": b"[1, 2, 3]\n",
    }


@pytest.mark.es
@pytest.mark.slow
def test_bad_lines_are_dead_lettered_and_the_good_ones_replayed(es_env, es):
    alias = es_env.docs_alias
    spool = Spool(es_env.data_dir)
    spool.dir.mkdir(parents=True)
    bad = bad_lines(alias)
    spool.path.write_bytes(line(alias, "doc0", doc(0)) + b"".join(bad.values()) + line(alias, "doc1", doc(1)))
    environ = crawl_environ(es_env.es_url, es_env.index_prefix, es_env.data_dir, "x")

    status = banwave(["index", "status"], environ)
    assert f"spool: {2 + len(bad)} line(s) (2 for {alias}, {len(bad)} unreadable)" in status.stdout

    out = banwave(["index", "replay"], environ)
    assert "Traceback" not in out.stderr
    assert "2 sent" in out.stdout and f"{len(bad)} unreadable" in out.stdout and "0 left" in out.stdout
    assert sorted(index_docs(es, alias)) == ["doc0", "doc1"]
    assert spool.path.read_bytes() == b""
    letters = [json.loads(text) for text in spool.dead_letter_path.read_text("utf-8").splitlines()]
    assert len(letters) == len(bad)
    assert all(letter["reason"].startswith("unreadable spool line: ") for letter in letters)
    assert spool.dead_letter_reasons() == {"unreadable spool line": len(bad)}
    # the raw line is kept, so nothing that was in the spool is gone
    assert {letter["line"] for letter in letters} == {raw.decode("utf-8", "replace").rstrip("\n")
                                                      for raw in bad.values()}
    again = banwave(["index", "replay"], environ)
    assert "0 sent" in again.stdout and "0 left" in again.stdout


@pytest.mark.es
@pytest.mark.slow
def test_a_crawl_starts_and_indexes_despite_a_bad_spool_line(demo_sources, es_env, es):
    alias = es_env.docs_alias
    spool = Spool(es_env.data_dir)
    spool.dir.mkdir(parents=True)
    spool.path.write_bytes(line(alias, "bad-doc", "just a string") + line(alias, "doc0", doc(0)))
    out = banwave(["crawl", "en-news"], crawl_environ(es_env.es_url, es_env.index_prefix, es_env.data_dir,
                                                        demo_sources))
    assert f"{EN_NEWS} items, {EN_NEWS} indexed" in out.stdout, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    assert "doc0" in index_docs(es, alias)
    assert spool.count() == 0 and spool.dead_letter_reasons() == {"unreadable spool line": 1}


@pytest.mark.es
def test_a_complete_last_record_without_newline_is_replayed(es_env, es):
    alias = es_env.docs_alias
    spool = Spool(es_env.data_dir)
    spool.dir.mkdir(parents=True)
    spool.path.write_bytes(line(alias, "doc0", doc(0)) + line(alias, "doc1", doc(1)).rstrip(b"\n"))
    environ = crawl_environ(es_env.es_url, es_env.index_prefix, es_env.data_dir, "x")
    assert f"spool: 2 line(s) (2 for {alias})" in banwave(["index", "status"], environ).stdout
    out = banwave(["index", "replay"], environ)
    assert "2 sent" in out.stdout and "0 left" in out.stdout
    assert sorted(index_docs(es, alias)) == ["doc0", "doc1"]


@pytest.mark.es
def test_a_record_cut_mid_write_is_dead_lettered_and_counted(es_env, es):
    alias = es_env.docs_alias
    spool = Spool(es_env.data_dir)
    spool.dir.mkdir(parents=True)
    cut = line(alias, "doc1", doc(1))[:40]
    spool.path.write_bytes(line(alias, "doc0", doc(0)) + cut)
    environ = crawl_environ(es_env.es_url, es_env.index_prefix, es_env.data_dir, "x")
    assert f"spool: 2 line(s) (1 for {alias}, 1 unreadable)" in banwave(["index", "status"], environ).stdout
    out = banwave(["index", "replay"], environ)
    assert "1 sent" in out.stdout and "1 unreadable" in out.stdout and "0 left" in out.stdout
    [letter] = [json.loads(text) for text in spool.dead_letter_path.read_text("utf-8").splitlines()]
    assert letter["line"] == cut.decode() and "unreadable spool line" in letter["reason"]
    assert sorted(index_docs(es, alias)) == ["doc0"]


def test_an_append_keeps_a_complete_last_record_without_newline(tmp_path):
    spool = Spool(tmp_path)
    spool.dir.mkdir(parents=True)
    spool.path.write_bytes(line("t-docs", "doc0", doc(0)).rstrip(b"\n"))
    spool.append([("t-docs", "doc1", doc(1))], "down")
    assert [a.id for a in spool.read()] == ["doc0", "doc1"]


def test_an_append_after_a_cut_record_keeps_it_for_the_dead_letters(tmp_path):
    spool = Spool(tmp_path)
    spool.dir.mkdir(parents=True)
    spool.path.write_bytes(line("t-docs", "doc0", doc(0)) + b'{"index": "t-docs", "id": "ha')
    spool.append([("t-docs", "doc2", doc(2))], "down")
    assert [a.id for a in spool.read()] == ["doc0", "doc2"]
    assert spool.count() == 3, "the cut record is still there, on a line of its own"
    assert spool.quarantine() == 1
    assert spool.count() == 2 and spool.dead_letter_reasons() == {"unreadable spool line": 1}

"""Eval gate: extraction quality on the demo web must not fall below its floors.

Scores come from bench/bench_extract.py (same code as the reported figures):
body-text token F1 of every gold document in demo/sites/gold.jsonl.
"""
import statistics
from pathlib import Path

import pytest

from conftest import load_script

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_extract.py"
F1_FLOOR = 0.95          # the bar, for articles and for forum posts
DOC_FLOOR = 0.80         # no single gold document may be badly wrong
METADATA_FLOOR = 0.95    # share of gold documents with the right date / author


@pytest.fixture(scope="module")
def bench():
    return load_script(BENCH)


@pytest.fixture(scope="module")
def result(bench):
    return bench.evaluate(bench.load_gold())


@pytest.mark.parametrize("kind", ["article", "post"])
def test_mean_f1_floor(result, kind):
    scores = result["scores"]["pipeline", kind]
    assert scores, f"no gold {kind}s evaluated"
    assert statistics.mean(scores) >= F1_FLOOR
    assert min(scores) >= DOC_FLOOR, result["worst"]


def test_pipeline_beats_bare_trafilatura_on_thread_pages(result):
    scores = result["scores"]
    assert statistics.mean(scores["pipeline", "thread page"]) > statistics.mean(scores["trafilatura", "thread page"])


def test_metadata_floor(result):
    meta = result["meta"]
    assert meta["published"] / meta["n"] >= METADATA_FLOOR
    assert meta["author"] / meta["n"] >= METADATA_FLOOR
    assert meta["title"] / meta["articles"] >= METADATA_FLOOR


def test_f1_metric(bench):
    assert bench.f1("亚马逊封号 Amazon bans", "亚马逊封号 amazon bans") == 1.0
    assert bench.f1("", "") == 1.0 and bench.f1(None, "x") == 0.0
    assert bench.f1("亚马逊", "亚马逊封号潮") == pytest.approx(2 * 1 * 0.5 / 1.5)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8701/index.html", "http://127.0.0.1:8701/roll/index.html",
    "http://127.0.0.1:8701/roll/index_3.html", "http://127.0.0.1:8702/index.html",
    "http://127.0.0.1:8703/forum.php", "http://127.0.0.1:8703/forum-38-1.html", "http://127.0.0.1:8703/forum-39-1.html",
])
def test_index_and_board_pages_are_not_documents(bench, url):
    path, headers = bench.page_file(url)
    result = bench.run_pipeline(path.read_bytes(), url, headers, bench.ExtractConfig())
    assert result["kind"] == "other" and result["text"] == "" and result["posts"] == []


def test_feeds_and_mislabelled_binary_are_errors(bench):
    for url in ("http://127.0.0.1:8701/rss/roll.xml", "http://127.0.0.1:8702/sitemap.xml",
                "http://127.0.0.1:8701/a/20210603/900005.html"):
        path, headers = bench.page_file(url)
        assert bench.run_pipeline(path.read_bytes(), url, {}, bench.ExtractConfig()) is None, url

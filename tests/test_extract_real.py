"""Gate: extraction quality on real third-party pages (../shared/evaldata, issue 9).

Scores come from bench/bench_extract.py (same code as the reported figures).
Per set, the pipeline's mean token F1 must reach bare ``trafilatura.extract``'s
on the same decoded pages, lose to it by more than 0.1 on at most 2% of the
pages, and stay above a floor set just under the figure reached when this
gate was written. The evaldata directory is required: without it the gate
FAILS, it never skips.
"""
from pathlib import Path

import pytest

from conftest import load_script

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_extract.py"
# Floors: a little under the figures of docs/extraction.md (pipeline F1 per set); zh_forum at
# issue 9's target itself (0.883 reached), so no change may take it below the target.
FLOORS = {
    "en_article_magichtml": 0.86, "en_forum_magichtml": 0.86, "en_news_scrapinghub": 0.96,
    "xx_article_magichtml": 0.835, "xx_forum_magichtml": 0.76, "xx_news_scrapinghub": 0.94,
    "zh_article_magichtml": 0.97, "zh_forum_magichtml": 0.88, "zh_web_cwced": 0.94,
}
# Issue 9 item 4 on the hand-labelled pages of zh_web_cwced (reached: dates 27/28, authors 22/25).
DATE_FLOOR, AUTHOR_FLOOR = 0.95, 0.8
MAX_LOST_SHARE = 0.02
# Float noise only: identical texts score identically, so "at least trafilatura" is exact.
TOLERANCE = 1e-9

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench():
    return load_script(BENCH)


@pytest.fixture(scope="module")
def rows(bench):
    root = bench.evaldata_dir()
    if not (root / "pages").is_dir() or not (root / "score_pages.py").is_file():
        pytest.fail(f"evaldata not found at {root}: set BANWAVE_EVALDATA or put shared/evaldata beside the "
                    "checkout", pytrace=False)
    return {row["set"]: row for row in bench.real_table(bench.evaluate_real(root, readability=False))}


def test_every_set_is_scored(rows):
    assert set(FLOORS) <= set(rows), f"sets missing from the evaldata: {set(FLOORS) - set(rows)}"


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_never_worse_than_trafilatura(rows, name):
    row = rows[name]
    assert row["pipeline"] >= row["trafilatura"] - TOLERANCE, row
    # a set of n pages may lose floor(0.02 n) pages, and always at least none
    assert row["lost"] * row["pages"] <= int(MAX_LOST_SHARE * row["pages"]) + TOLERANCE, row


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_floor(rows, name):
    assert rows[name]["pipeline"] >= FLOORS[name], rows[name]


def test_byline_dates_and_authors(rows):
    row = rows["zh_web_cwced"]
    (dates, dated), (authors, authored) = row["date"], row["author"]
    assert dated and dates / dated >= DATE_FLOOR, row["date"]
    assert authored and authors / authored >= AUTHOR_FLOOR, row["author"]

"""Gate: extraction quality on real third-party pages (../shared/evaldata, issue 9).

Scores come from bench/bench_extract.py (same code as the reported figures).
Per set, the pipeline's mean token F1 must reach bare ``trafilatura.extract``'s
on the same decoded pages, lose to it by more than 0.1 on at most 2% of the
pages, and stay above a floor set just under the figure reached when this
gate was written. The evaldata directory is required: without it the gate
FAILS, it never skips.
"""
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_extract.py"
# Floors: a little under the figures of docs/extraction.md (pipeline F1 per set).
FLOORS = {
    "en_article_magichtml": 0.845, "en_forum_magichtml": 0.745, "en_news_scrapinghub": 0.96,
    "xx_article_magichtml": 0.83, "xx_forum_magichtml": 0.71, "xx_news_scrapinghub": 0.94,
    "zh_article_magichtml": 0.93, "zh_forum_magichtml": 0.79, "zh_web_cwced": 0.86,
}
MAX_LOST_SHARE = 0.02
# Float noise only: identical texts score identically, so "at least trafilatura" is exact.
TOLERANCE = 1e-9

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_extract", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows(bench):
    root = bench.evaldata_dir()
    if not (root / "pages").is_dir() or not (root / "score_pages.py").is_file():
        pytest.fail(f"evaldata not found at {root}: set BANWAVE_EVALDATA or put shared/evaldata beside the "
                    "checkout", pytrace=False)
    return {row["set"]: row for row in bench.real_table(bench.evaluate_real(root, readability=False))}


def test_every_set_is_scored(rows):
    assert set(FLOORS) <= set(rows), f"sets missing from the evaldata: {set(FLOORS) - set(rows)}"


# Requirement not met yet on these sets (docs/extraction.md "Figures"): strict, so the
# marker must go as soon as they pass.
KNOWN_GAPS = {"en_forum_magichtml", "xx_forum_magichtml", "zh_forum_magichtml"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(
    strict=True, reason="issue 9: forum posts not yet at trafilatura's level on this set")) if n in KNOWN_GAPS
    else n for n in sorted(FLOORS)])
def test_never_worse_than_trafilatura(rows, name):
    row = rows[name]
    assert row["pipeline"] >= row["trafilatura"] - TOLERANCE, row
    # a set of n pages may lose floor(0.02 n) pages, and always at least none
    assert row["lost"] * row["pages"] <= int(MAX_LOST_SHARE * row["pages"]) + TOLERANCE, row


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_floor(rows, name):
    assert rows[name]["pipeline"] >= FLOORS[name], rows[name]

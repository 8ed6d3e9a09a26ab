"""Property tests: extraction never crashes, whatever the bytes."""
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipelines.extract import ExtractError, extract_page

pytestmark = pytest.mark.slow  # hypothesis runs hundreds of pages

CRAWL = datetime(2021, 10, 1, tzinfo=timezone.utc)
TAGS = st.sampled_from(["<html>", "<body>", "<p>", "</p>", "<div id='post_1'>", "<td id='postmessage_1'>",
                        "<br>", "<h1>", "<blockquote>", "<meta charset='gbk'>", "<!--", "-->", "<script>", "</div>"])
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
HTMLISH = st.lists(st.one_of(TAGS, TEXT), max_size=40).map("".join)


def check(body: bytes, headers=None):
    try:
        result = extract_page(body, "http://x.test/a.html", headers, crawled_at=CRAWL)
    except ExtractError as exc:
        assert exc.reason in {"decode_error", "not_html"}
        return
    assert result["kind"] in {"article", "forum", "other"}
    assert isinstance(result["text"], str) and isinstance(result["posts"], list)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(body):
    check(body)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HTMLISH, st.sampled_from(["utf-8", "gb18030", "big5hkscs", "utf-16"]),
       st.sampled_from([None, {"content-type": "text/html; charset=gbk"}, {"Content-Type": "text/html"}]))
def test_html_like_input_in_various_encodings(text, encoding, headers):
    check(text.encode(encoding, "replace"), headers)


FIXTURES = [p.read_bytes() for p in sorted((Path(__file__).parent / "data" / "extract").glob("*.html"))]


BYTES = st.one_of(st.sampled_from([0x01, 0x0B, 0x1F, 0x7F, 0x80, 0xFF, ord("<"), ord(">")]), st.integers(0, 255))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIXTURES), st.lists(st.tuples(st.floats(0, 1, exclude_max=True), BYTES), min_size=1, max_size=40),
       st.floats(0.05, 1))
def test_corrupted_real_pages(page, edits, keep):
    """Byte flips (control characters, broken multibyte sequences) and truncation of real pages."""
    body = bytearray(page)
    for where, value in edits:
        body[int(where * len(body))] = value
    check(bytes(body[: max(1, int(len(body) * keep))]))

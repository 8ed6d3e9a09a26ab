"""Property tests: extraction never crashes, whatever the bytes."""
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from pipelines.extract import ExtractError, extract_page

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

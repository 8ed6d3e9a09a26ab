import re

from hypothesis import given, strategies as st

from pipelines.canonical import canonical_url, content_hash, doc_id


def test_tracking_parameters_fragment_and_default_port_are_stripped():
    url = "HTTP://News.Example.COM:80/a/1.html?utm_source=wx&spm=a.b&id=7&from=timeline#comments"
    assert canonical_url(url) == "http://news.example.com/a/1.html?id=7"


def test_query_is_sorted_and_content_parameters_kept():
    a = canonical_url("https://bbs.example.com/forum.php?tid=9&mod=viewthread&page=2&extra=page%3D1")
    b = canonical_url("https://bbs.example.com/forum.php?page=2&mod=viewthread&tid=9")
    assert a == b == "https://bbs.example.com/forum.php?mod=viewthread&page=2&tid=9"


def test_non_default_port_and_empty_path():
    assert canonical_url("http://127.0.0.1:8701") == "http://127.0.0.1:8701/"


def test_doc_id_is_sha1_with_post_suffix():
    base = doc_id("http://x.test/a")
    assert re.fullmatch(r"[0-9a-f]{40}", base)
    assert doc_id("http://x.test/a", "1002") == base + "#1002"
    assert doc_id("http://x.test/a", 7) == base + "#7"


def test_content_hash_ignores_cosmetic_whitespace():
    assert content_hash("亚马逊\u3000封号\n\n潮\u200b") == content_hash("亚马逊 封号 潮")
    assert content_hash("a") != content_hash("b")


@given(st.text(max_size=200))
def test_canonical_url_is_idempotent_and_total(url):
    once = canonical_url(url)
    assert canonical_url(once) == once

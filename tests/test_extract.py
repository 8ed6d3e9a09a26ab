import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipelines.extract import ExtractError, extract_page

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "extract"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
CRAWL = datetime(2021, 10, 1, tzinfo=timezone.utc)
ARTICLES = [name for name, want in EXPECTED.items() if want["kind"] == "article"]


@pytest.mark.parametrize("name", ARTICLES)
def test_article_fixtures(name):
    want = EXPECTED[name]
    got = extract_page((DATA / name).read_bytes(), "http://x.test/a/1.html", crawled_at=CRAWL)
    for key in ("kind", "title", "text", "published", "author", "lang"):
        assert got[key] == want[key], key
    assert got["posts"] == []
    assert "相关新闻" not in got["text"] and "网友评论" not in got["text"] and "Reader1" not in got["text"]


@pytest.mark.parametrize("name", ["thread_discuz_gbk.html", "thread_phpbb.html"])
def test_thread_fixtures_are_forum_pages(name):
    got = extract_page((DATA / name).read_bytes(), "http://x.test/t/1.html", crawled_at=CRAWL)
    assert got["kind"] == "forum"
    assert got["title"] == EXPECTED[name]["title"]
    assert got["lang"] == EXPECTED[name]["lang"]
    assert [p["text"] for p in got["posts"]] == [p["text"] for p in EXPECTED[name]["posts"]]


def test_binary_and_non_html_raise_with_reason():
    with pytest.raises(ExtractError) as err:
        extract_page((DATA / "binary.png").read_bytes(), "http://x.test/a.png")
    assert err.value.reason == "decode_error"
    with pytest.raises(ExtractError) as err:
        extract_page(b"<html></html>", "http://x.test/a.pdf", {"Content-Type": "application/pdf"})
    assert err.value.reason == "not_html"
    with pytest.raises(ExtractError) as err:
        extract_page(b"just some plain words", "http://x.test/a.txt")
    assert err.value.reason == "not_html"


def test_listing_page_is_other():
    links = "".join(f'<li><a href="/a/{i}.html">第{i}条新闻标题：亚马逊卖家动态更新</a></li>' for i in range(30))
    page = f"<html><body><h1>新闻列表</h1><ul>{links}</ul></body></html>".encode("utf-8")
    got = extract_page(page, "http://x.test/list.html")
    assert got["kind"] == "other" and got["text"] == ""


def test_canonical_link_on_same_host_is_used_and_stripped():
    page = (b'<html><head><link rel="canonical" href="/a/1.html?utm_medium=x"></head>'
            b"<body><p>" + "正文内容。".encode() * 40 + b"</p></body></html>")
    got = extract_page(page, "http://x.test/a/1.html?from=groupmessage")
    assert got["canonical_url"] == "http://x.test/a/1.html"


@pytest.mark.slow  # a `banwave` subprocess
def test_cli_one_line_per_input_in_order_with_errors(tmp_path):
    lines = [
        {"id": "a", "url": "http://x.test/a.html", "path": str(DATA / "article_gbk.html")},
        {"id": "b", "url": "http://x.test/b.png", "path": str(DATA / "binary.png")},
        {"id": "c", "url": "http://x.test/c.html", "path": str(tmp_path / "missing.html")},
        {"id": "d", "url": "http://x.test/t.html", "path": str(DATA / "thread_discuz_gbk.html"),
         "headers": {"Content-Type": "text/html; charset=utf-8"}},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    run = subprocess.run([sys.executable, "-m", "pipelines.extract"], input=stdin, capture_output=True,
                         text=True, cwd=ROOT, check=True, timeout=120)
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c", "d", None]
    assert set(out[0]) == {"id", "kind", "title", "text", "published", "author", "lang", "posts"}
    assert out[0]["kind"] == "article" and out[0]["title"] == "亚马逊封号潮波及深圳大卖"
    assert out[1]["error"].startswith("decode_error") and out[2]["error"].startswith("io_error")
    assert out[3]["kind"] == "forum" and len(out[3]["posts"]) == 3
    assert set(out[3]["posts"][0]) == {"post_id", "author", "published", "text", "quote"}
    assert "error" in out[4]


def test_readability_replaces_table_layout_rows():
    """trafilatura renders a table layout as markdown rows with the paragraphs run
    together; the vote picks the density text, which keeps them apart."""
    from pipelines.extract import ExtractConfig
    from pipelines.extract.article import ArticleConfig

    body = (DATA / "article_table_layout_gbk.html").read_bytes()
    without = extract_page(body, "http://x.test/a.html", config=ExtractConfig(article=ArticleConfig(fallback=False)))
    with_fallback = extract_page(body, "http://x.test/a.html")
    assert "|" in without["text"] and without["text"].count("\n") < 2
    assert with_fallback["text"] == EXPECTED["article_table_layout_gbk.html"]["text"]


def test_site_rules_override_article_extraction():
    page = """<html><head><title>T</title></head><body><div id="hd">站点导航 首页 新闻</div>
    <div class="art"><h2 class="tt">规则标题</h2><span class="when">2021年6月3日 14:20</span><span class="by">王喆</span>
    <div class="txt"><p>第一段正文。</p><div class="ad">广告内容</div><p>第二段正文。</p></div></div></body></html>"""
    rules = {"title": "//h2[@class='tt']", "body": "//div[@class='txt']", "date": "//span[@class='when']",
             "author": "//span[@class='by']", "drop": ["//div[@class='ad']"]}
    got = extract_page(page.encode("utf-8"), "http://x.test/a.html", rules=rules, crawled_at=CRAWL)
    assert (got["kind"], got["title"], got["text"], got["published"], got["author"]) == (
        "article", "规则标题", "第一段正文。\n第二段正文。", "2021-06-03T14:20:00+08:00", "王喆")


@pytest.mark.parametrize("text,lang", [("亚马逊封号潮 Amazon", "zh"), ("Amazon bans sellers", "en"),
                                       ("アマゾンのセラー", "ja"), ("아마존 판매자 계정", "ko"), ("", None)])
def test_detect_lang(text, lang):
    from nlp.lang import detect

    assert detect(text) == lang


def test_invalid_site_rules_do_not_break_extraction():
    rules = {"drop": ["//div[", "//div[@class='related']"], "title": "//h1[", "body": "///"}
    got = extract_page((DATA / "article_gbk.html").read_bytes(), "http://x.test/a.html", rules=rules, crawled_at=CRAWL)
    assert got["kind"] == "article" and got["text"] == EXPECTED["article_gbk.html"]["text"]


def test_control_characters_in_text_do_not_break_extraction():
    """lxml keeps control characters it parsed but refuses them on assignment: never write text back."""
    from pipelines.extract.dom import element_text, parse_html

    tree = parse_html("<html><body><div><p>a</p>x\x0by</div></body></html>")
    assert element_text(tree.find(".//p")) == "a"
    body = (DATA / "thread_discuz_gbk.html").read_bytes().replace("</blockquote></div>".encode(), b"</blockquote></div>\x0b")
    got = extract_page(body, "http://x.test/t.html", crawled_at=CRAWL)
    assert got["posts"][1]["quote"] == EXPECTED["thread_discuz_gbk.html"]["posts"][1]["quote"]


@pytest.mark.parametrize("page", [
    "<!DOCTYPE html><html><head><title>t</title></head><body><p>x</p><div><span>y</span></div></body></html>",
    '<?xml version="1.0" encoding="utf-8"?><html><body><p>declared</p></body></html>',
    "<html/><body><p>self-closed html tag</p></body>",
    "<div>fragment only</div><p>second</p>",
    # the repairs parse_html runs only when they change something, and the UTF-8 parse of a document
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">'
    "\n<html><body><p>doctype with a slash</p></body></html>",
    "<!DOCTYPE html><html><body><p>no line break after the doctype</p></body></html>",
    "<html><body><p>control\x01 char\x1f acters</p></body></html>",
    "<html><body><p>non\ufffe char\uffffacters</p></body></html>",
    "<html><body><p>中文正文，全角标点。</p><p>e\u0301 \U0001f600</p></body></html>",
    "\u3000<html><body><p>a document after a wide space</p></body></html>",
    "<html>\n<head></head></html>",
])
def test_parse_builds_the_tree_trafilatura_builds(page):
    """Same tree as trafilatura's loader (its prologue repairs and checks), with HtmlElement nodes."""
    from lxml import etree, html
    from trafilatura.utils import load_html

    from pipelines.extract.dom import parse_html

    ours, theirs = parse_html(page), load_html(page.split("?>", 1)[-1])
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert etree.tostring(ours) == etree.tostring(theirs)
        assert all(isinstance(e, html.HtmlElement) for e in ours.iter() if isinstance(e.tag, str))


def test_link_lines():
    from pipelines.extract.dom import LinkCaptions, parse_html

    captions = LinkCaptions(parse_html("<html><body><a href='/a'>Sellers lose their stores overnight</a>"
                                       "<a href='/b'>Home</a></body></html>"))
    assert captions.is_link_line("Home")
    assert captions.is_link_line("2024-05-01 Sellers lose their stores overnight")
    assert not captions.is_link_line("Reports say that sellers lose their stores overnight, and that appeals "
                                     "take weeks to be answered by the platform's support staff.")


def test_metadata_from_one_pass_over_meta_tags_and_json_ld():
    from pipelines.extract.dom import parse_html
    from pipelines.extract.metadata import PageMeta

    meta = PageMeta(parse_html(
        '<html><head><meta property="og:site_name" content="Example Daily">'
        '<meta name="author" content="Example Daily"><meta property="article:published_time" content="2021-05-03">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Stores closed"}</script></head>'
        '<body><h1>Other heading</h1><span class="author">Li Wei</span></body></html>'))
    assert (meta.date(), meta.site_name(), meta.title()) == ("2021-05-03", "Example Daily", "Stores closed")
    assert meta.author() == "Li Wei"  # the meta author names the site: the byline element is taken

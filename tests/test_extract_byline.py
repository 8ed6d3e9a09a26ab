"""Byline dates and authors, site-name suffixes, and the new post heuristics, on small pages written here."""
from datetime import datetime, timezone

from pipelines.extract import extract_page
from pipelines.extract.byline import Byline
from pipelines.extract.metadata import strip_site_name
from pipelines.extract.dates import normalise_date
from pipelines.extract.forum import drop_template_lines, segment_posts

CRAWL = datetime(2024, 6, 1, 4, 0, tzinfo=timezone.utc)
BODY = "".join(f"<p>第{i}段：跨境卖家反映，平台以评论操纵为由冻结了店铺资金，协会正在收集案例并向监管部门反映情况。</p>"
               for i in range(1, 6))


def article(head="", tail="", above="", bar="<span>2024年5月1日 星期三</span>",
            related="<ul><li><a href='/x'>另一篇报道的标题在这里</a> 2023-01-02</li></ul>"):
    return (f"<html><head><title>卖家店铺被封调查--示例网</title></head><body><div class='nav'><a href='/'>首页</a>"
            f"{bar}</div>{above}<h1>卖家店铺被封调查</h1>{head}<div class='text'>{BODY}</div>"
            f"{tail}{related}</body></html>").encode()


def extract(page):
    return extract_page(page, "http://news.test/a/1.html", crawled_at=CRAWL)


def test_date_closest_to_the_headline_beats_the_date_bar_above_it():
    got = extract(article(head="<div class='info'>2024-05-20 10:30 来源：示例日报</div>"))
    assert got["published"].startswith("2024-05-20T10:30")


def test_date_after_the_crawl_is_rejected():
    got = extract(article(head="<div class='info'>2031-05-20 10:30</div>"))
    assert got["published"] is None or not got["published"].startswith("2031")


def test_date_at_the_body_end_when_none_near_the_headline():
    got = extract(article(tail="<p class='src'>——《示例月刊》2019年3月号</p>", bar="", related=""))
    assert got["published"].startswith("2019-03")


def test_reporter_byline_near_the_headline():
    got = extract(article(head="<div class='info'>2024-05-20 本报记者 李明 王芳</div>"))
    assert got["author"] == "李明 王芳"


def test_reporter_in_parentheses_closing_the_text():
    got = extract(article(tail="<p>（张伟 深圳报道）</p>"))
    assert got["author"] == "张伟"


def test_a_headline_ending_in_a_bracketed_word_is_no_closing_byline():
    # the page's headline line "示例新闻网_(新闻)" ends like "（张伟）", but only the text's end signs it
    page = article(tail="<p>（张伟）</p>").replace("<h1>卖家店铺被封调查</h1>".encode(),
                                                "<h1>卖家店铺被封调查</h1><div>示例新闻网_(新闻)</div>".encode())
    assert extract(page)["author"] == "张伟"
    assert extract(page.replace("<p>（张伟）</p>".encode(), b""))["author"] is None


def test_editor_line_after_the_body_when_no_writer_is_named():
    got = extract(article(tail="<div>责任编辑：赵强</div>"))
    assert got["author"] == "赵强"


def test_paragraphs_indented_with_ideographic_spaces_are_located_for_their_credits():
    # the main text as a fallback extractor returns it, indentation kept; the page's text nodes collapsed
    paragraphs = [f"第{i}段：跨境卖家反映，平台以评论操纵为由冻结了店铺资金，协会正在收集案例。" for i in (1, 2, 3)]
    lines = ["首页", "卖家店铺被封调查", *paragraphs, "来源：示例日报 编辑：苏亮", "相关报道"]
    text = "\n".join("\u3000\u3000" + paragraph for paragraph in paragraphs)
    assert Byline(lines, text, "卖家店铺被封调查").author() == "苏亮"


def test_writer_beats_editor():
    got = extract(article(head="<p>作者：陈静</p>", tail="<div>编辑：赵强</div>"))
    assert got["author"] == "陈静"


def test_byline_split_by_inline_tags():
    got = extract(article(tail="<div>本贴由<b>老王</b>于2024年5月2日10:11:12发表</div>"))
    assert got["author"] == "老王"


def test_poster_line_after_layout_cells_of_no_break_spaces():
    """Table-layout blogs put &nbsp; cells between the body and its "由X张贴" footer: not text nodes,
    so the footer stays within the few nodes after the body that are searched."""
    from pipelines.extract.byline import Byline, page_lines
    from pipelines.extract.dom import parse_html
    body = "跨境卖家反映，平台以评论操纵为由冻结了店铺资金，协会正在收集案例。"
    cells = "".join("<tr><td>&nbsp;</td></tr>" for _ in range(4))
    tree = parse_html(f"<html><body><table><tr><td>{body}</td></tr>{cells}<tr><td>[<a href='/p'>打印</a>]</td></tr>"
                      "<tr><td>由海边人张贴 @ 2024-05-02 10:00</td></tr></table></body></html>")
    assert Byline(page_lines(tree), body, None).author() == "海边人"


def test_navigation_words_are_not_a_reporter():
    got = extract(article(above="<div><a href='/r'>新华社记者看东北</a></div>"))
    assert got["author"] is None


def test_meta_author_naming_the_site_is_not_an_author():
    page = article().replace(b"<head>", "<head><meta name='author' content='示例网 新闻中心'>".encode())
    assert extract(page)["author"] is None


def test_title_loses_site_name_suffix():
    assert strip_site_name("卖家店铺被封调查--示例网", None) == "卖家店铺被封调查"
    assert strip_site_name("Stores closed | Example Times", "Example Times") == "Stores closed"
    assert strip_site_name("A - B", None) == "A - B"


def test_month_precision_and_day_first_dates():
    assert normalise_date("1998年3月号", CRAWL).startswith("1998-03-01")
    assert normalise_date("Topic starter 25/05/2024 9:58 pm", CRAWL).startswith("2024-05-25T21:58")
    assert normalise_date("05/25/2024", CRAWL).startswith("2024-05-25")


def forum(posts):
    items = "".join(
        f"<div class='post-wrap' data-n='{i}'><div class='author-box'><a href='/members/{who}/'>{who}</a>"
        f"<div>Joined: 4 months ago</div><div>Posts: {i * 7}</div></div><div class='post-content'>"
        f"<div class='when'>{when}</div>{text}<div class='post-actions'><span>Reply</span> <span>Quote</span></div>"
        f"</div></div>" for i, (who, when, text) in enumerate(posts, start=1))
    return f"<html><body><h1>Appeal advice</h1><div class='topic'>{items}</div></body></html>"


POSTS = [("ann", "2024-05-30 10:00", "<p>Our store was suspended after a review audit.</p><p>Any advice?</p>"),
         ("bob", "2024-05-30 12:00", "<p>Write a plan of action, it took us three weeks.</p>"),
         ("cat", "2024-05-31 08:00", "<p>Still waiting for seller support to answer.</p>")]


def test_post_body_is_the_content_box_beside_the_author_box():
    _, posts = segment_posts(forum(POSTS), crawled_at=CRAWL)
    assert [p["text"] for p in posts] == ["Our store was suspended after a review audit.\nAny advice?",
                                          "Write a plan of action, it took us three weeks.",
                                          "Still waiting for seller support to answer."]
    assert [p["author"] for p in posts] == ["ann", "bob", "cat"]
    assert posts[0]["published"].startswith("2024-05-30T10:00")  # not "Joined: 4 months ago"


def test_lines_in_half_the_posts_are_chrome_but_a_whole_short_post_stays():
    posts = [{"text": t} for t in ("点赞\n第一条回复", "点赞\n第二条回复", "点赞\n第三条回复", "点赞")]
    drop_template_lines(posts)
    assert [p["text"] for p in posts] == ["第一条回复", "第二条回复", "第三条回复", "点赞"]


def test_generic_post_ids_only_outermost():
    items = "".join(f"<div id='post-{i}'><div id='p{i}0'><span class='author'>u{i}</span>"
                    f"<div class='message'>message number {i} with words</div></div></div>" for i in range(1, 4))
    _, posts = segment_posts(f"<html><body>{items}</body></html>", crawled_at=CRAWL)
    assert [p["post_id"] for p in posts] == ["1", "2", "3"]

import json
from datetime import datetime, timezone
from pathlib import Path

from pipelines.extract.decode import decode_body
from pipelines.extract.forum import is_thread, segment_posts, thread_id_from_url

DATA = Path(__file__).parent / "data" / "extract"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
CRAWL = datetime(2021, 5, 13, 4, 0, tzinfo=timezone.utc)


def html(name):
    return decode_body((DATA / name).read_bytes())


def test_thread_pages_are_recognised_and_articles_are_not():
    assert is_thread(html("thread_discuz_gbk.html"))
    assert is_thread(html("thread_phpbb.html"))
    assert not is_thread(html("article_gbk.html"))
    assert not is_thread(html("article_en_comments.html"))


def test_discuz_posts_exclude_quotes_signatures_edit_notes_and_hidden_text():
    title, posts = segment_posts(html("thread_discuz_gbk.html"), crawled_at=CRAWL)
    expected = EXPECTED["thread_discuz_gbk.html"]
    assert title == expected["title"]
    for post, want in zip(posts, expected["posts"], strict=True):
        for key in ("post_id", "floor", "author", "text", "quote", "reply_to"):
            assert post[key] == want[key], key
    first = posts[0]["text"]
    assert "专注亚马逊运营" not in first and "本帖最后由" not in first
    assert "copyright" not in first and "abc123" not in first


def test_discuz_dates_prefer_absolute_title_and_resolve_relative_forms():
    _, posts = segment_posts(html("thread_discuz_gbk.html"), crawled_at=CRAWL)
    assert posts[0]["published"] == "2021-05-12T09:30:00+08:00"
    assert posts[1]["published"] == "2021-05-12T10:05:00+08:00"  # <span title> beats "昨天"
    assert posts[2]["published"] == "2021-05-13T09:00:00+08:00"  # "3 小时前" before crawl


def test_phpbb_quote_from_cite():
    title, posts = segment_posts(html("thread_phpbb.html"), crawled_at=CRAWL)
    assert title == "Store suspended after review abuse notice"
    assert [p["post_id"] for p in posts] == ["501", "502"]
    assert posts[1]["quote"] == "Has anyone got their account back?"
    assert posts[1]["reply_to"] == "501"  # the quoted post, linked from <cite>
    assert posts[1]["text"] == "Yes, it took us three weeks and a detailed plan of action."
    assert "selling since" not in posts[0]["text"]


def test_site_rules_override_profiles():
    page = """<html><body><h1>Thread</h1>
    <div class="msg" data-id="1"><b class="who">ann</b><div class="txt">first post text</div></div>
    <div class="msg" data-id="2"><b class="who">bob</b><div class="txt">second post text</div></div></body></html>"""
    rules = {"post": "//div[@class='msg']", "body": ".//div[@class='txt']", "author": ".//b[@class='who']",
             "post_id": r"(\d+)", "title": "//h1"}
    assert not is_thread(page)
    title, posts = segment_posts(page, rules=rules)
    assert title == "Thread"
    assert [(p["author"], p["text"], p["floor"]) for p in posts] == [
        ("ann", "first post text", 1), ("bob", "second post text", 2)]


def test_reply_to_falls_back_to_quoted_author_without_link():
    page = """<html><body><div id="post_7"><td id="postmessage_7"><div class="quote"><blockquote>
    张三 发表于 2021-5-12 09:30<br/>原来的话</blockquote></div>我的回复</td></div></body></html>"""
    _, [post] = segment_posts(page)
    assert (post["text"], post["quote"], post["reply_to"]) == ("我的回复", "原来的话", "张三")


def test_thread_id_from_url():
    assert thread_id_from_url("http://127.0.0.1:8703/thread-1202-2-1.html") == "1202"
    assert thread_id_from_url("https://bbs.x/forum.php?mod=viewthread&tid=77&page=2") == "77"
    assert thread_id_from_url("https://x/viewtopic.php?t=5") == "5"
    assert thread_id_from_url("https://x/news/1.html") is None


def test_site_title_and_drop_rules_extend_builtin_profiles():
    rules = {"title": "//title", "drop": [".//div[@class='quote']"], "body": None}
    title, posts = segment_posts(html("thread_discuz_gbk.html"), rules=rules)
    assert title.startswith("亚马逊封号了怎么办？ - 跨境卖家交流")
    assert posts[1]["quote"] is None and posts[1]["text"].startswith("先别慌")


def test_wordpress_archive_is_not_a_thread():
    entries = "".join(f'<article id="post-{i}" class="post-{i} post type-post hentry"><div class="entry-content">'
                      f"<p>Excerpt {i}</p></div></article>" for i in range(5))
    assert not is_thread(f"<html><body>{entries}</body></html>")


def test_generic_profile_needs_two_posts():
    one = '<html><body><div id="reply-1"><div class="content">only one</div></div></body></html>'
    two = one.replace("</body>", '<div id="reply-2"><div class="content">second</div></div></body>')
    assert not is_thread(one) and is_thread(two)
    assert [p["text"] for p in segment_posts(two)[1]] == ["only one", "second"]


def _discuz_post(pid, when_html):
    return (f'<div id="post_{pid}"><em id="authorposton{pid}">发表于 {when_html}</em>'
            f'<td id="postmessage_{pid}">第{pid}楼的内容</td></div>')


def test_empty_title_attribute_never_beats_visible_relative_date():
    """Discuz prints relative dates as <span title="">昨天 14:05</span> on some pages (issue 11):
    the empty attribute must not hide the visible text, which counts back from the crawl time."""
    page = "<html><body>" + _discuz_post(1, '<span title="">昨天&nbsp;14:05</span>') + \
        _discuz_post(2, '<span title="">3 小时前</span>') + \
        _discuz_post(3, '<span title="2021-5-10 08:00">3&nbsp;天前</span>') + \
        _discuz_post(4, '<span title="not a date">3个月前</span>') + "</body></html>"
    _, posts = segment_posts(page, crawled_at=CRAWL)  # CRAWL = 2021-05-13 12:00 in Shanghai
    assert [p["published"] for p in posts] == [
        "2021-05-12T14:05:00+08:00", "2021-05-13T09:00:00+08:00",
        "2021-05-10T08:00:00+08:00",  # a real absolute date in the attribute still wins
        "2021-02-12T12:00:00+08:00"]  # 3 months of 30 days back, not 3 hours


def _comment(cid, who, when, text, replies=""):
    """A comment box whose post-like id sits on an empty anchor beside it; nested replies
    carry the id on their own box."""
    return (f'<div class="comment"><div id="reply{cid}"></div><a class="author" href="/users/{who}">{who}</a>'
            f'<span class="when">{when}</span><div class="text">{text}</div>'
            f'<div class="comments">{replies}</div></div>')


def _reply(cid, who, text):
    return f'<div class="reply" id="reply{cid}"><a href="/users/{who}">{who}</a><div class="content">{text}</div></div>'


def test_ids_only_on_nested_replies_do_not_hide_the_comment_boxes():
    comments = (_comment(1, "ann", "2021-05-12 10:00", "Our shop was closed after the review audit last week.",
                         _reply(11, "bob", "Did they freeze the funds too?"))
                + _comment(2, "cat", "2021-05-12 11:00", "Same here, the appeal took three weeks.",
                           _reply(21, "ann", "Three weeks is quick, ours is still open."))
                + _comment(3, "dan", "2021-05-12 12:00", "Check the account health page before anything else."))
    _, posts = segment_posts(f"<html><body><div class='list'>{comments}</div></body></html>", crawled_at=CRAWL)
    assert [(p["post_id"], p["text"]) for p in posts] == [
        (None, "Our shop was closed after the review audit last week."), ("11", "Did they freeze the funds too?"),
        (None, "Same here, the appeal took three weeks."), ("21", "Three weeks is quick, ours is still open."),
        (None, "Check the account health page before anything else.")]
    assert [p["author"] for p in posts[::2]] == ["ann", "cat", "dan"]

"""The structural forum-post detector (pipelines/extract/posts.py) on small pages written here."""
from datetime import datetime, timezone

from pipelines.extract import extract_page
from pipelines.extract.article import table_share
from pipelines.extract.dom import containment, tokens
from pipelines.extract.dom import parse_html
from pipelines.extract.forum import segment_posts
from pipelines.extract.posts import find_post_blocks

CRAWL = datetime(2024, 6, 1, 4, 0, tzinfo=timezone.utc)
POSTS = [("ann", "2024-05-30 10:00", "Our store was suspended after a review audit, any advice on the appeal?"),
         ("bob", "2 days ago", "Write a plan of action and list every order you checked, it took us three weeks."),
         ("cat", "May 31, 2024", "Same here, still waiting for an answer from seller support.")]


def thread(posts=POSTS, wrapper="div", extra=""):
    items = "".join(
        f'<{wrapper} class="message-{i}"><div class="meta"><a href="/members/{who}.{i}/">{who}</a>'
        f'<span class="when">{when}</span></div><div class="bbWrapper">{text}</div></{wrapper}>'
        for i, (who, when, text) in enumerate(posts, start=1))
    return f"<html><head><title>Store suspended</title></head><body><h1>Store suspended</h1>" \
           f"<nav><a href='/'>Home</a> <a href='/f/'>Forums</a></nav><div class='thread'>{items}</div>{extra}</body></html>"


def test_repeated_blocks_with_poster_time_and_body_are_posts():
    title, posts = segment_posts(thread(), crawled_at=CRAWL)
    assert title == "Store suspended"
    assert [(p["author"], p["text"], p["floor"]) for p in posts] == [(w, t, i) for i, (w, _, t) in enumerate(POSTS, 1)]
    assert [p["published"][:10] for p in posts] == ["2024-05-30", "2024-05-30", "2024-05-31"]


def test_link_list_with_dates_is_not_a_thread():
    items = "".join(f'<li class="item"><a href="/news/{i}.html">Headline number {i} about sellers</a>'
                    f'<span class="date">2024-05-{i:02d}</span></li>' for i in range(1, 9))
    assert find_post_blocks(parse_html(f"<html><body><ul>{items}</ul></body></html>")) == []


def test_blocks_without_posters_are_not_posts():
    items = "".join(f'<div class="card"><span>2024-05-0{i}</span><p>Some paragraph of text number {i} here.</p></div>'
                    for i in range(1, 5))
    assert find_post_blocks(parse_html(f"<html><body>{items}</body></html>")) == []


def test_two_blocks_are_not_enough():
    assert find_post_blocks(parse_html(thread(POSTS[:2]))) == []


def test_repeated_copy_of_a_post_is_dropped():
    _, posts = segment_posts(thread(POSTS + POSTS[:1]), crawled_at=CRAWL)
    assert len(posts) == 3


def test_short_post_keeps_no_poster_or_time_line():
    short = POSTS + [("dan", "2024-05-31 09:00", "+1")]
    _, posts = segment_posts(thread(short), crawled_at=CRAWL)
    assert posts[-1]["text"] == "+1" and posts[-1]["author"] == "dan"


def test_reader_comments_under_an_article_do_not_make_a_thread():
    article = "<article><p>" + "Amazon closed the stores of many sellers over review abuse this spring. " * 30 + \
              "</p></article>"
    page = thread(extra="").replace("<div class='thread'>", article + "<div class='thread'>")
    got = extract_page(page.encode(), "http://x.test/news/1.html", crawled_at=CRAWL)
    assert got["kind"] == "article" and got["posts"] == []


def test_thread_page_is_forum_and_main_text_outside_posts_is_the_opening_post():
    opener = "<div class='question'><p>" + "How do I appeal a suspension for review manipulation on Amazon? " + \
             "</p></div>"
    page = thread().replace("<div class='thread'>", opener + "<div class='thread'>")
    got = extract_page(page.encode(), "http://x.test/t/1", crawled_at=CRAWL)
    assert got["kind"] == "forum"
    assert "How do I appeal" in got["posts"][0]["text"] and got["posts"][0]["floor"] == 1
    assert [p["author"] for p in got["posts"][1:]] == ["ann", "bob", "cat"]


def test_opening_question_sharing_the_answers_words_is_still_the_opening_post():
    """Half the tokens of any English line are in a few answers ("the", "to", "store"); the question is not theirs."""
    question = "<div class='question'><p>Why was our store suspended after the review audit? What should the appeal " \
               "to seller support say, and how long does it take?</p></div>"
    page = thread().replace("<div class='thread'>", question + "<div class='thread'>")
    got = extract_page(page.encode(), "http://x.test/t/2", crawled_at=CRAWL)
    assert got["kind"] == "forum" and got["posts"][0]["text"].startswith("Why was our store suspended")


def test_table_share_and_containment():
    assert table_share("| a | b |\n| c | d |\nprose line") > 0.5
    assert table_share("just prose\nand more") == 0.0
    assert containment(tokens("亚马逊 sellers"), tokens("亚马逊封号 Sellers banned")) == 1.0
    assert containment(tokens("abc xyz"), tokens("abc")) == 0.5


def test_readability_replaces_table_rows_only_when_its_text_lies_inside():
    nav = "".join(f"<td><a href='/c{i}'>Channel {i}</a></td>" for i in range(12))
    body = "<p>" + "本报讯 亚马逊以不当使用评论功能为由对大量卖家进行封号处理，涉及多家头部大卖。" * 3 + "</p>" \
           "<p>" + "深圳市跨境电子商务协会统计约有五万个店铺受到影响，行业损失估计超过一千亿元。" * 3 + "</p>"
    page = f"<html><body><table><tr>{nav}</tr><tr><td>{body}</td></tr><tr>{nav}</tr></table></body></html>"
    got = extract_page(page.encode(), "http://x.test/a.html", crawled_at=CRAWL)
    assert "五万个店铺" in got["text"] and "Channel 3" not in got["text"] and "|" not in got["text"]


def test_sibling_without_a_time_or_a_poster_is_not_a_post():
    """The group qualifies as a whole (three of four members show both); the login box beside the posts does not."""
    page = thread().replace("</div></body>", '<div class="message-9"><div class="bbWrapper">You must log in or '
                                              'register to reply here.</div></div></div></body>')
    _, posts = segment_posts(page, crawled_at=CRAWL)
    assert [p["author"] for p in posts] == ["ann", "bob", "cat"]
    assert not any("register" in p["text"] for p in posts)


def _posts_are_content(text, posts):
    from pipelines.extract.dom import LinkCaptions
    from pipelines.extract.page import ExtractConfig, _posts_are_the_content

    captions = LinkCaptions(parse_html("<html><body><a href='/'>Home page of the forum</a></body></html>"))
    return _posts_are_the_content(text, [{"text": post} for post in posts], tokens("\n".join(posts)), captions,
                                  ExtractConfig().thread_coverage)


def test_posts_are_the_content_by_coverage_weight_or_chrome():
    answers = [text for _, _, text in POSTS]
    question = "How do I appeal a suspension for review manipulation?"
    article = "\n".join(f"Paragraph {i}: Amazon closed the stores of many sellers over review abuse this spring, "
                        f"the association said in its report number {i}." for i in range(8))
    # posts hold most of trafilatura's text, also when it printed the thread twice (a noscript copy)
    assert _posts_are_content("\n".join(answers), answers)
    assert _posts_are_content("\n".join(answers + ["Write a reply to this thread and join the talk"] + answers), answers)
    # trafilatura kept only the question: the answers outweigh it
    assert _posts_are_content(question, answers)
    # reader comments under a longer article are not the content
    assert not _posts_are_content(article, answers[:1])
    # trafilatura's text is mostly chrome (short lines, link captions): no article to prefer
    chrome = "\n".join(["Home", "Forums", "Reply", "Home page of the forum", "Share", "12", "|"] * 3)
    assert _posts_are_content(chrome + "\n" + question, answers[:2])
    assert not _posts_are_content(article + "\n" + chrome, answers[:2])
    # ... but the rows of a board index are no posts: their text is link captions, hence empty
    assert not _posts_are_content(chrome, ["", "", "", answers[0]])

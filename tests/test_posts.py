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


def test_a_page_frame_around_the_main_region_is_not_a_post():
    # A utility-class layout ("box-flex") gives the page frame and its modal dialogs one
    # kind; the frame shows a poster and a time (the one post inside <main>), and so do the
    # dialogs (a share box naming the user, a poll closing "in 3 days"), but they are no thread.
    frame = (f'<div class="box-flex frame"><main class="box-flex main"><a class="user" href="/u/1">newsdesk</a>'
             f'<span>24-5-13 17:07</span><p>{POSTS[0][2]} {POSTS[1][2]}</p></main>'
             '<aside><a href="/hot/1">Trending topic one</a></aside></div>')
    dialogs = "".join(f'<div class="box-flex modal"><span class="avatar"><a href="/u/me">me</a></span>'
                      f'<p>Poll {i} closes in 3 days, share your vote</p></div>' for i in range(1, 3))
    page = f"<html><body><div>{frame}{dialogs}</div></body></html>"
    assert find_post_blocks(parse_html(page)) == []
    without_main = page.replace("<main", "<section").replace("</main>", "</section>")
    assert len(find_post_blocks(parse_html(without_main))) == 3


def test_a_box_with_the_same_text_in_every_post_is_not_the_body():
    # Short answers beside a vote-and-share bar that is longer than each of them: the bar
    # shows one text in every post (its answer id aside), so the answers are the bodies.
    bar = ("<div class='share'>Was this answer helpful? Vote up, vote down, report it, or copy "
           "the link https://qa.example/answer/{i}.html to share it with friends</div>")
    answers = "".join(f'<div class="answer"><a class="user" href="/u/{who}">{who}</a><span>{when}</span>'
                      f'<div class="text">{text}</div>{bar.format(i=i)}</div>'
                      for i, (who, when, text) in enumerate(POSTS, start=1))
    _, posts = segment_posts(f"<html><body><h1>Store suspended</h1><div class='answers'>{answers}</div></body></html>",
                             crawled_at=CRAWL)
    assert [p["text"] for p in posts] == [text for _, _, text in POSTS]


def test_a_stream_of_story_cards_is_not_a_thread():
    # each card: a headline link to another story, its writer's author page, a time, a summary
    cards = "".join(f'<div class="card"><h3><a href="/2024/05/2{i}/story-{i}/">Marketplace story number {i}</a></h3>'
                    f'<a class="author" href="/author/writer-{i}/">Writer {i}</a><span>{i} hours ago</span>'
                    f'<p>{text}</p></div>' for i, (_, _, text) in enumerate(POSTS, start=1))
    assert find_post_blocks(parse_html(f"<html><body><div class='more'>{cards}</div></body></html>")) == []
    # the same blocks with the poster's name as the heading link (and a post's own "#p1" title) are posts
    posts = cards.replace('<h3><a href="/2024/05/2', '<h3><a href="/members/2').replace("story-", "user-")
    assert len(find_post_blocks(parse_html(f"<html><body><div class='t'>{posts}</div></body></html>"))) == 3
    own = cards.replace('href="/2024/05/2', 'href="#p2')
    assert len(find_post_blocks(parse_html(f"<html><body><div class='t'>{own}</div></body></html>"))) == 3


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


def test_a_side_list_on_a_page_the_spider_calls_a_thread_is_not_its_posts():
    # a one-post thread (no repeated blocks) beside a "related threads" list with posters and
    # times: the list fails the content test here too, and the page is one document, counted
    post = "<div class='first'><p>" + "Our store was closed after a review audit and the funds are frozen. " * 20 + \
           "</p></div>"
    page = thread(extra="").replace("<div class='thread'>", post + "<div class='thread'>")
    got = extract_page(page.encode(), "http://x.test/forum/t/1", rules={"kind": "forum"}, crawled_at=CRAWL)
    assert got["posts"] == [] and got["thread_fallback"]
    assert "funds are frozen" in got["text"]


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


def lone_post_page(posts: int = 1, headline_in_block: bool = False) -> str:
    """A thread page of ``posts`` posts (author box with date and name, content box) in page chrome."""
    headline = "<h1>Deposit frozen after the March review</h1>" if headline_in_block else ""
    items = "".join(
        f'<div class="post-section" id="post{900 + i}">{headline}<div class="user-box">'
        f'<div class="user-date">March {13 + i}, 2021 9:12 am</div>'
        f'<div class="user-name"><a href="/members/seller{i}/">seller{i}</a></div>'
        f'<div class="user-count">Forum Posts: 58</div></div>'
        f'<div class="post-main"><div class="post-content"><p>Post {i}: after the March review the platform froze '
        f'the whole deposit of our store and gave no reason beyond a policy code.</p><p>The appeal form only takes '
        f'invoices from the last ninety days, and our supplier changed its company name in January, so the '
        f'names on them do not match the brand record.</p><p>Has anyone had a deposit released after sending '
        f'a letter from the supplier, or did you open a new case each time?</p></div></div></div>'
        for i in range(1, posts + 1))
    return ("<html><head><title>Deposit frozen</title></head><body><ul class='forum-select'>"
            "<li><a href='/t/1'>Refund rules changed again</a></li><li><a href='/t/2'>Listing removed</a></li></ul>"
            f"<div class='thread-view'>{items}</div><div class='thread-footer'>Viewing 1 post (of 1 total)"
            "<form><label>Username or Email Address</label><input name='u'><label>Password</label></form></div>"
            "</body></html>")


def _content(page: str):
    return parse_html(page).xpath("//div[@class='post-content']")


def _posts_by_block(element):
    """readability_posts for ``element`` as Readability hands it over: a copy of the page's element."""
    import copy
    from pipelines.extract.posts import readability_posts
    return readability_posts(element.getroottree(), copy.deepcopy(element))


def test_the_only_post_of_a_page_is_a_lone_post():
    from pipelines.extract.posts import is_lone_post
    blocks = _posts_by_block(_content(lone_post_page())[0])
    assert len(blocks) == 1 and blocks[0].element.get("class") == "post-section" and is_lone_post(blocks)


def test_a_post_among_several_an_article_block_or_a_profile_card_is_not_a_lone_post():
    """A thread's posts repeat their kind; an article's block holds its headline beside the byline;
    a block with a poster and no time is a profile card."""
    from pipelines.extract.posts import is_lone_post
    blocks = _posts_by_block(_content(lone_post_page(posts=3))[1])
    assert len(blocks) == 3 and not is_lone_post(blocks)
    assert _posts_by_block(_content(lone_post_page(headline_in_block=True))[0]) == []
    tree = parse_html(lone_post_page())
    tree.xpath("//div[@class='user-date']")[0].text = "Ningbo"
    assert _posts_by_block(tree.xpath("//div[@class='post-content']")[0]) == []


def qa_page(answers=(("lin", "2 days ago", "Ask the supplier for a letter on its letterhead that states the old and "
                      "new company names, then attach it to the appeal with the invoices; ours was accepted."),
                     ("omar", "May 31, 2024", "Same situation last year: the second appeal with the business "
                      "licence change record went through within a week."))) -> str:
    """A question and its answers in two containers (no three sibling posts), each with a user
    box (profile link, time) beside a body of one kind."""
    def post(who, when, text):
        return (f'<div class="post-layout"><div class="user-info"><a href="/users/{who}">{who}</a>'
                f'<span class="relativetime">{when}</span></div><div class="post-body"><p>{text}</p></div></div>')
    question = post("ann", "2024-05-30 10:00", "Our deposit was frozen after the review because the supplier changed "
                    "its company name and the invoices no longer match the brand record. How did you get it released? "
                    "The appeal form only takes invoices from the last ninety days and we have sent three already.")
    return ("<html><head><title>Deposit frozen after a supplier renamed itself</title></head><body>"
            "<div id='nav'><a href='/'>Home</a> <a href='/questions'>Questions</a> <a href='/tags'>Tags</a></div>"
            "<h1>Deposit frozen after a supplier renamed itself</h1>"
            f"<div class='question'>{question}</div><h2>{len(answers)} Answers</h2><div id='answers'>"
            + "".join(f"<div class='answer'>{post(*a)}</div>" for a in answers) + "</div></body></html>")


def test_a_question_and_its_two_answers_are_three_posts():
    from pipelines.extract.posts import find_post_blocks
    page = qa_page()
    assert find_post_blocks(parse_html(page)) == []  # two sibling answers: no group of three
    result = extract_page(page.encode(), "http://qa.test/q/12", crawled_at=CRAWL)
    assert result["kind"] == "forum"
    assert [p["author"] for p in result["posts"]] == ["ann", "lin", "omar"]
    assert result["posts"][0]["text"].startswith("Our deposit was frozen") and "letterhead" in result["posts"][1]["text"]
    assert [p["published"][:10] for p in result["posts"]] == ["2024-05-30", "2024-05-30", "2024-05-31"]


def test_a_lone_post_replaces_the_chrome_trafilatura_wraps_around_it():
    """On thread pages of one post trafilatura can keep the forum chrome around the post (topic
    lists, "Forum Posts: 58", login labels) or miss the post: Readability's block, when it is
    the page's lone post (posts.is_lone_post), is the text then; not when it is a small part of
    trafilatura's text, nor when trafilatura's text is the post."""
    from pipelines.extract.article import lone_post_text, run_trafilatura
    from pipelines.extract.dom import element_text
    tree = parse_html(lone_post_page())
    readability = run_trafilatura(tree, "http://forum.test/t/77").readability
    post = element_text(readability)
    assert post.startswith("Post 1: after the March review")
    topics = " ".join(f"Topic {i}: refund rules changed again for brand registry sellers" for i in range(12))
    chrome = (f"Select Forum\nNew/Recently Updated Topics\n{topics}\nseller1\nMember\nForum Posts: 58\n"
              "Member Since: June 2, 2017\nOffline\nViewing 1 post (of 1 total)\nUsername or Email Address Password")
    assert lone_post_text(tree, chrome + "\n" + post, readability, 0.2) == post  # wrapped in chrome
    assert lone_post_text(tree, chrome, readability, 0.2) == post  # missed
    assert lone_post_text(tree, post, readability, 0.2) is None  # trafilatura's text is the post
    long_thread = post + "\n" + "\n".join(f"Reply {i}: we sent the supplier's letter and waited three weeks "
                                          f"for the deposit, then opened a second case." for i in range(30))
    assert lone_post_text(tree, long_thread, readability, 0.2) is None  # a small part of the text



def chrome_wrapped_post_page() -> str:
    """One short post beside a topic list that trafilatura takes into its text."""
    topics = "".join(f"<p><a href='/t/{i}'>Topic {i}: refund rules changed again for brand registry sellers</a></p>"
                     for i in range(10))
    return (f"<html><head><title>Deposit frozen</title></head><body><div class='forum-wrap'>"
            f"<div class='select'>Select Forum</div><div class='recent'>New/Recently Updated Topics {topics}</div>"
            "<div class='thread-view'><div class='post-section' id='post901'><div class='user-box'>"
            "<div class='user-date'>March 14, 2021 9:12 am</div><div class='user-name'>"
            "<a href='/members/seller1/'>seller1</a></div><div class='user-count'>Forum Posts: 58</div></div>"
            "<div class='post-main'><div class='post-content'><p>After the March review the platform froze the "
            "whole deposit of our store and gave no reason beyond a policy code. Has anyone had one released?"
            "</p></div></div></div></div><div>Viewing 1 post (of 1 total)</div></div></body></html>")


def test_a_page_of_one_post_is_that_post_not_the_topic_list_around_it():
    """The same whether the page comes unannounced (an article of the post's text) or as a
    thread the spider names (its one document, the thread-as-article fallback)."""
    import trafilatura
    page = chrome_wrapped_post_page()
    assert "Topic 7" in trafilatura.extract(page)  # the chrome the rule is for
    for rules in ({}, {"kind": "forum"}):
        result = extract_page(page.encode(), "http://forum.test/t/77", rules=rules, crawled_at=CRAWL)
        assert result["text"] == ("After the March review the platform froze the whole deposit of our store and "
                                  "gave no reason beyond a policy code. Has anyone had one released?")
        assert result.get("thread_fallback") is (True if rules else None)


def test_posts_by_block_must_hold_the_main_text():
    """Counted with repeats: trafilatura's text holding each quoted post twice is not held by posts
    that keep their quotes apart (their gold may count the quotes: the page stays an article)."""
    from pipelines.extract.page import _posts_hold_the_text
    first, second = "the deposit was frozen after the review", "send the supplier letter with the invoices"
    posts = [{"text": first}, {"text": second}]
    assert _posts_hold_the_text(f"{first}\n{second}\nHome Questions Tags", posts, 0.5)
    assert not _posts_hold_the_text(f"{first}\n{first}\n{second}\n{second}\n{first}", posts, 0.5)


def test_a_poster_named_inside_the_content_box_is_the_author_not_text():
    """Avatar link (no text) beside a main box holding the name, the time and the body: the
    name is the post's author and not a line of its text."""
    items = "".join(
        f'<div class="comment"><div class="left"><a href="/user/{i}" class="avatar"></a></div>'
        f'<div class="main"><div class="meta"><a href="/user/{i}" class="nickname">{who}</a>'
        f'<time class="comment-time">2021-01-0{i} 10:3{i}:00</time></div>'
        f'<div class="comment-content"><p>{text}</p></div></div></div>'
        for i, (who, _, text) in enumerate(POSTS, start=1))
    page = f"<html><head><title>Store suspended</title></head><body><div class='comments'>{items}</div></body></html>"
    title, posts = segment_posts(page, crawled_at=CRAWL)
    assert [(p["author"], p["text"]) for p in posts] == [(who, text) for who, _, text in POSTS]


def test_the_poster_header_inside_the_content_box_is_not_text():
    """The name inside the content box sits in a header with the poster's rank and
    reputation: none of it is the post's text; a post printed inside that small box stays."""
    ranks = ["Moderator 3.1k reputation", "Course reader 610 reputation / seller @ Shenzhen", "62 reputation"]
    texts = [text for _, _, text in POSTS[:2]] + ["+1"]
    items = "".join(
        f'<div class="comment"><div class="left"><a href="/user/{i}" class="avatar"></a></div>'
        f'<div class="main"><div class="header">\n      <a href="/user/{i}" class="nickname">{who}</a>\n'
        f'      <div class="rank">{rank}</div>{"<span>+1</span>" if text == "+1" else ""}</div>'
        f'{"" if text == "+1" else f"<div class=comment-content><p>{text}</p></div>"}'
        f'<div class="when">2021-01-0{i} 10:3{i}:00</div></div></div>'
        for i, ((who, _, _), rank, text) in enumerate(zip(POSTS, ranks, texts), start=1))
    page = f"<html><head><title>Store suspended</title></head><body><div class='comments'>{items}</div></body></html>"
    _, posts = segment_posts(page, crawled_at=CRAWL)
    assert [(p["author"], p["text"]) for p in posts[:2]] == [(who, text) for who, _, text in POSTS[:2]]
    assert posts[2]["author"] == "cat" and "+1" in posts[2]["text"]


def test_a_relative_time_inside_the_body_takes_the_exact_date_of_its_title():
    """Name, rank, text and time all in one content box, the time printed as "N 天前" over an
    exact title attribute: the post's date is the title's, not counted back from the crawl."""
    items = "".join(
        f'<div class="comment"><a href="/user/{i}" class="avatar"></a><div class="main">'
        f'<div class="header"><a href="/user/{i}" class="nickname">{who}</a> 62 reputation</div><p>{text}</p>'
        f'<div class="when" title="2024-05-2{i} 10:3{i}:00">{i} 天前</div></div></div>'
        for i, (who, _, text) in enumerate(POSTS, start=1))
    _, posts = segment_posts(f"<html><body><div class='comments'>{items}</div></body></html>", crawled_at=CRAWL)
    assert [(p["author"], p["text"]) for p in posts] == [(who, text) for who, _, text in POSTS]
    assert [p["published"] for p in posts] == [f"2024-05-2{i}T10:3{i}:00+08:00" for i in (1, 2, 3)]


def test_text_measures_read_only_what_they_need_and_equal_the_whole_text_formulas():
    """_has_text and _text_start stop reading early; their answers are those of the whole text."""
    from pipelines.extract.posts import _has_text, _text_start
    pages = ["<div>  <b>ab</b>   c<i>de f</i>\n\n gh <span> </span> ij klmnop</div>",
             "<div>" + "<p>  word  </p>" * 30 + "</div>",
             "<div>   <p>   </p>\n</div>", "<div>x</div>",
             "<div><span>unbroken</span><span>run</span>" + "z" * 90 + "</div>"]
    for page in pages:
        element = parse_html(f"<html><body>{page}</body></html>").find(".//div")
        whole = "".join(element.itertext())
        for size in (1, 5, 19, 20, 21, 80, 200):
            assert _has_text(element, size) == (len(whole.strip()) >= size), (page, size)
            assert _text_start(element, size) == " ".join(whole.split())[:size], (page, size)

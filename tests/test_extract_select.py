"""Main-text selection rules (pipelines/extract/article.py) on small pages written here."""
from pipelines.extract.article import readability_text, run_trafilatura
from pipelines.extract.dom import element_text, parse_html

ARTICLE = """<html><head><title>Review wave</title>
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Review wave"}</script>
<script>var published = "2021-05-01";</script><style>p { color: red }</style></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav><article><h1>Review wave</h1>
<p>The marketplace closed several hundred seller accounts this spring after an audit of review practices.</p>
<p>Sellers said the notices came without warning and that appeals took weeks to be answered.</p>
<p>An association of exporters asked the platform to publish the criteria it applies.</p>
</article><footer>Contact us</footer></body></html>"""


def test_trafilatura_run_hands_over_its_readability_block():
    """trafilatura runs Readability inside its cascade; main_text reuses that block instead of a second run."""
    found = run_trafilatura(parse_html(ARTICLE), "http://x.test/a.html")
    assert found.readability is not None
    assert "appeals took weeks" in element_text(found.readability)
    assert "appeals took weeks" in found.text
    assert readability_text(parse_html(ARTICLE), found.readability) == element_text(found.readability)


def test_scripts_and_styles_are_dropped_at_parse_but_json_ld_stays():
    tree = parse_html(ARTICLE)
    assert [s.get("type") for s in tree.iter("script")] == ["application/ld+json"]
    assert not list(tree.iter("style"))
    assert "color: red" not in element_text(tree)


def _stream_page(summaries_in_article: bool) -> str:
    """An article followed by a "more stories" stream of cards: headline link, summary."""
    cards = "".join(
        f'<li class="card-{n}"><img src="/i{n}.jpg"><h3><a href="/story/{n}.html">Story {n}: {head}</a></h3>'
        f"<p>{summary}</p></li>"
        for n, (head, summary) in enumerate([
            ("Port fees rise", "Shipping agents in Ningbo expect container fees to climb again before the holiday rush."),
            ("Courier merger", "Two regional courier firms agreed to merge their parcel networks across three provinces."),
            ("Payment rules", "A new rule on cross-border payments asks sellers to verify the owners of their accounts."),
            ("Warehouse fire", "A warehouse fire near Dongguan destroyed stock that belonged to about forty small sellers."),
        ], start=1))
    body = ("<p>Sellers in Shenzhen say the platform suspended their storefronts in a single week of May 2021.</p>"
            "<p>Their association counted more than three hundred closed accounts among its own members.</p>"
            "<p>Several of them had sold on the platform for ten years without a warning of any kind.</p>")
    article = f'<div class="story"><h1>Stores closed</h1>{body}</div>'
    stream = f'<div class="more"><ul>{cards}</ul></div>'
    if summaries_in_article:  # a roundup: the cards are the article
        article = f"<article><h1>Week in trade</h1><p>This week's trade stories in short.</p><ul>{cards}</ul></article>"
        stream = ""
    return f"<html><head><title>Trade</title></head><body>{article}{stream}</body></html>"


def test_story_stream_after_the_article_is_cut():
    from pipelines.extract.article import drop_story_stream
    tree = parse_html(_stream_page(False))
    text = element_text(tree.find(".//body"))
    article = tree.find(".//div[@class='story']")  # what Readability's block holds on such a page
    kept = drop_story_stream(text, tree, article)
    assert "without a warning of any kind" in kept
    assert "Ningbo" not in kept and "Dongguan" not in kept and "Story 1" not in kept


def test_cards_that_readability_keeps_are_the_article():
    """A roundup is made of cards too; Readability holding them keeps them."""
    from pipelines.extract.article import drop_story_stream
    tree = parse_html(_stream_page(True))
    text = element_text(tree.find(".//article"))
    assert drop_story_stream(text, tree, tree.find(".//article")) == text


def _commented_page(opener: str) -> str:
    comments = "".join(
        f'<div class="comment"><h4>re: the closures <span>2021-05-{10 + n} 12:0{n}</span> reader{n}</h4>'
        f"<p>{line}</p></div>"
        for n, line in enumerate([
            "My shop was closed the same week, and the appeal form did not even load for me.",
            "We moved half of our catalogue to another marketplace after the notice arrived.",
            "The association meeting next month will collect the figures from every member.",
            "Does anyone know whether the frozen balances were released after the review?",
            "Our bank account was frozen for ninety days, which nearly ended the business.",
            "Thanks for writing this up, it matches what our forwarder told us last week.",
            "I would like to see the platform publish its review criteria in Chinese too.",
            "Same here, three stores gone and no answer from the seller support team yet.",
        ]))
    return (f"<html><head><title>Closures</title></head><body><div class='post'><h1>Closures</h1>{opener}</div>"
            f'<div id="comments"><h3>Comments</h3>{comments}</div></body></html>')


def test_reader_comments_under_an_article_are_dropped_even_when_longer():
    paragraphs = "".join(f"<p>{p}</p>" for p in [
        "In May 2021 the marketplace closed the stores of many sellers from Shenzhen over review practices.",
        "The sellers' association counted the closed accounts of its own members and found several hundred.",
        "Frozen balances were the larger problem: money held for months while the appeals were read.",
        "Several sellers moved their catalogues to other marketplaces and to their own web shops.",
        "Forwarders reported that inventory piled up in overseas warehouses as the listings went dark.",
    ])
    text = run_trafilatura(parse_html(_commented_page(paragraphs)), "http://x.test/blog.html").text
    assert "overseas warehouses" in text and "ninety days" not in text


def test_comments_outweighing_a_short_question_are_its_thread():
    question = "<p>Did anyone get their store back after the May closures?</p>"
    text = run_trafilatura(parse_html(_commented_page(question)), "http://x.test/q.html").text
    assert "store back" in text and "ninety days" in text


_ENTRIES = [
    ("Back from the trade fair", "2021-05-20 21:14:05",
     "The fair in Guangzhou was quieter than in other years. Many stands of Amazon sellers stayed empty, and the "
     "people I met talked about little else than the closed stores and the money still frozen in their accounts."),
    ("Inventory questions", "2021-05-12 08:40:11",
     "A reader asked what happens to the goods in the overseas warehouse when a store is closed. In my case the "
     "stock stayed there for two months, and the removal order cost more than I expected to pay for it."),
    ("Appeal letter", "2021-05-03 19:02:44",
     "I sent the third appeal today. This time I described every step of our review process, attached invoices "
     "from the factory and explained why the reviews on our listing were written by real customers."),
]


def _archive_page(entries) -> str:
    blocks = "".join(
        f'<table class="entry"><tr><td class="entry-title">{title}</td><td><nobr>{date}</nobr></td></tr>'
        f'<tr><td class="entry-body">{body}</td></tr>'
        f'<tr><td>[<a href="/print?id={n}">print</a>] <a href="/view?id={n}#c">3 comments</a></td></tr></table>'
        for n, (title, date, body) in enumerate(entries))
    return (f"<html><head><title>A seller's notebook</title></head><body><div class='nav'><a href='/'>Home</a> "
            f"<a href='/archive'>Archive</a></div><div class='entries'>{blocks}</div>"
            "<div class='side'><a href='/2021-04'>April 2021</a> <a href='/2021-03'>March 2021</a></div></body></html>")


def test_blog_archive_page_is_its_first_entry():
    from pipelines.extract import extract_page
    result = extract_page(_archive_page(_ENTRIES).encode(), "http://blog.test/archive/2021-05",
                          crawled_at="2026-01-01T00:00:00+00:00")
    assert result["kind"] == "article"
    assert "frozen in their accounts" in result["text"]
    assert "overseas warehouse" not in result["text"] and "third appeal" not in result["text"]


def test_first_entry_needs_the_text_to_be_the_archive():
    """An article beside a column of dated entries (a sidebar of recent posts) stays the article."""
    from pipelines.extract.entries import first_entry
    tree = parse_html(_archive_page(_ENTRIES))
    essay = ("Marketplace rules changed twice this year. Sellers who kept records of their suppliers and "
             "customers found it easier to answer the questions the platform sent, while those who bought "
             "reviews lost their stores within days. Lawyers in Shenzhen now offer compliance checks.")
    assert first_entry(tree, "\n".join([essay, essay, _ENTRIES[0][2]])) is None
    assert "frozen in their accounts" in first_entry(tree, element_text(tree.find(".//body")))


def test_dated_link_lists_are_no_archive():
    from pipelines.extract.entries import first_entry
    short = [(title, date, title) for title, date, _ in _ENTRIES]  # headline lists: no entry bodies
    tree = parse_html(_archive_page(short))
    assert first_entry(tree, element_text(tree.find(".//body"))) is None


def test_a_page_the_spider_calls_a_thread_keeps_every_dated_block():
    """Forced thread pages whose posts nothing finds become one document of the whole thread: no archive cut."""
    from pipelines.extract import extract_page
    result = extract_page(_archive_page(_ENTRIES).encode(), "http://forum.test/t/9", rules={"kind": "forum"},
                          crawled_at="2026-01-01T00:00:00+00:00")
    assert result.get("thread_fallback")
    assert "frozen in their accounts" in result["text"] and "third appeal" in result["text"]


_REPLIES_IN_CONTENT = """<html><head><title>Store frozen after review?</title></head><body><div id="main">
<div class="topic">
<p>Our seller group is asking whether anyone else had their store frozen this week after the review.</p>
<p>Please share what the platform told you and how long the appeal took.</p>
<div class="comment-list">
<div class="comment"><p>Mine was frozen on Tuesday and the appeal is still open after five days.</p></div>
<div class="comment"><p>We got a warning email first, then the listings disappeared the next morning.</p></div>
<div class="comment"><p>Nothing here yet, but two neighbours in our industrial park lost their stores.</p></div>
</div></div></div></body></html>"""


def test_comments_kept_in_the_main_text_are_not_appended_twice():
    """trafilatura can hold the replies in its main text *and* return them as comments:
    a page the spider calls a thread (one document of the whole thread) has each reply once."""
    from pipelines.extract import extract_page
    tree = parse_html(_REPLIES_IN_CONTENT)
    text = run_trafilatura(tree, "http://forum.test/t/3", comments=True).text
    assert text.count("appeal is still open") == 1 and text.count("industrial park") == 1
    assert "how long the appeal took" in text
    result = extract_page(_REPLIES_IN_CONTENT.encode(), "http://forum.test/t/3", rules={"kind": "forum"},
                          crawled_at="2026-01-01T00:00:00+00:00")
    assert result.get("thread_fallback")
    assert result["text"].count("warning email") == 1


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

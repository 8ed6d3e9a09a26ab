"""extract_page: raw page bytes in, the extraction interface dict out."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from urllib.parse import urljoin

from lxml import etree

from nlp.lang import detect as detect_language
from pipelines.canonical import canonical_url
from pipelines.extract.decode import DecodeError, decode_body, header_value
from pipelines.extract.article import ArticleConfig, extract_article, lone_post_text, main_texts, run_trafilatura
from pipelines.extract.dom import LinkCaptions, containment, parse_html, tokens
from pipelines.extract.forum import block_posts, find_thread
from pipelines.extract.posts import readability_posts

logger = logging.getLogger(__name__)

_TAG = re.compile(r"<\s*[a-zA-Z!/]")
_FEED = re.compile(r"<(?:rss|feed|urlset|sitemapindex|rdf:RDF)\b", re.I)  # feeds and sitemaps served as text/html
_CANONICAL_LINK = etree.XPath("//link[@rel='canonical']/@href")
_MIN_OPENER_CHARS = 20  # main-text residue below this is a stray line, not an opening post
_MIN_HELD_TOKENS = 5  # a shorter line is held by the posts only if it is in their text verbatim
_HELD_SHARE = 0.9  # ... a longer one when this share of its tokens is in them (half is any English line's "the, a, to")
_OUTWEIGH = 1.25  # posts with this many times trafilatura's tokens are the page's content
_CHROME_SHARE = 1 / 3  # ... as they are when this share of its tokens is in chrome lines:
_CHROME_TOKENS = 5  # lines of fewer tokens, and link captions


class ExtractError(Exception):
    """A page that cannot be read; ``reason`` is the stats key suffix (decode_error, not_html)."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason


@dataclass(frozen=True)
class ExtractConfig:
    """Per-run extraction settings, built from EXTRACT_* settings or CLI defaults."""

    article: ArticleConfig = field(default_factory=ArticleConfig)
    cjk_ratio: float = 0.3  # share of CJK among letters from which a text is "zh"
    thread_coverage: float = 0.5  # share of the main text the detected posts must hold to make a thread


def extract_page(body: bytes, url: str, headers: dict | None = None, rules: dict | None = None,
                 crawled_at: datetime | str | None = None, config: ExtractConfig | None = None) -> dict:
    """Extract one fetched page.

    Returns ``{"kind", "title", "text", "published", "author", "lang", "posts",
    "site_name", "canonical_url"}``; kind is "forum" (posts filled, text = the
    posts joined), "article", or "other" (no main text found). Raises
    ExtractError for binary, undecodable or non-HTML bodies.
    """
    config = config or ExtractConfig()
    rules = rules or {}
    if rules.get("timezone"):  # the source's own zone for dates printed without an offset
        config = replace(config, article=replace(config.article, default_tz=rules["timezone"]))
    content_type = (header_value(headers, "content-type") or "").lower()
    if content_type and not any(t in content_type for t in ("html", "text/plain")):
        raise ExtractError("not_html", f"content type {content_type}")
    try:
        source = decode_body(body, headers)
    except DecodeError as exc:
        raise ExtractError("decode_error", str(exc)) from exc
    if not _TAG.search(source[:65536]) or _FEED.search(source[:2048]):
        raise ExtractError("not_html", "no HTML markup")
    crawled = _as_datetime(crawled_at)
    page_url = canonical_url(url)
    result = {"kind": "other", "title": None, "text": "", "published": None, "author": None,
              "lang": None, "posts": [], "site_name": None, "canonical_url": page_url}
    tree = parse_html(source)
    if tree is None:
        return result
    result["canonical_url"] = _canonical(tree, url, page_url)
    tz = config.article.default_tz
    kind = rules.get("kind")  # a spider that knows the page type may say so
    title, posts, method = find_thread(tree, url, rules, crawled, tz) if kind != "article" else (None, [], None)
    text = readability = None
    if method in ("structure", "generic"):  # no engine-specific opening post
        text, readability = main_texts(tree, url, rules, config.article)
        posts = _thread_posts(text, posts, config.thread_coverage, tree, title)
    fallback = not posts and kind == "forum"
    if fallback:
        # a thread page no profile or detector understands: one document of
        # the whole thread (comments are the posts here), flagged for counting
        rules = {key: rules[key] for key in ("title", "drop") if key in rules}  # post-relative keys do not apply
        found = run_trafilatura(tree, url, rules, comments=True)
        text, readability = found.text, found.readability
    elif not posts and kind != "article" and not rules.get("body") and text is None:
        text, readability = main_texts(tree, url, rules, config.article)
    if (not posts and config.article.fallback and not rules.get("body") and readability is not None
            and readability.find("*") is not None):
        # no repeated blocks: posts by Readability's block, a question and its answers or one post
        blocks = readability_posts(tree, readability.find("*"))
        if len(blocks) >= 2:
            title, posts = block_posts(tree, blocks, rules, crawled, tz)
            if not fallback and not _posts_hold_the_text(text, posts, config.thread_coverage):
                posts = []
        else:
            text = lone_post_text(tree, text, readability, config.article.min_ratio, blocks) or text
    if posts:
        joined = "\n".join(p["text"] for p in posts if p["text"])
        result.update(kind="forum", title=title, text=joined, posts=posts,
                      published=posts[0]["published"], author=posts[0]["author"],
                      lang=detect_language(joined, tree.get("lang"), config.cjk_ratio))
        return result
    if fallback:
        result["thread_fallback"] = True
    article = extract_article(tree, source, url, rules, crawled, config.article, text)
    result.update(article)
    result["lang"] = detect_language(article["text"] or article["title"] or "", tree.get("lang"), config.cjk_ratio)
    if article["text"]:
        result["kind"] = "article"
    return result


def _thread_posts(text: str, posts: list[dict], coverage: float, tree, title) -> list[dict]:
    """Posts of the structural detector, checked against the main text.

    The posts must be the page's content (``_posts_are_the_content``), also on a page
    the spider calls a thread: its sidebar of related threads has posters and times
    too. The opening post often has its
    own markup (a question above its answers): the main-text lines above the
    first line a post holds become that opening post, less the title and
    link captions (navigation); lines after it are page chrome."""
    joined = "\n".join(p["text"] for p in posts)
    held = tokens(joined)  # by tokens: line breaks and list marks differ
    captions = LinkCaptions(tree)
    if not _posts_are_the_content(text, posts, held, captions, coverage):
        return []
    opener = []
    for line in text.split("\n"):
        words = tokens(line)
        if line in joined if sum(words.values()) < _MIN_HELD_TOKENS else containment(words, held) >= _HELD_SHARE:
            break
        opener.append(line)
    if sum(len(line) for line in opener) >= _MIN_OPENER_CHARS:
        opener = [line for line in opener if line != title and not captions.is_link_line(line)]
    if sum(len(line) for line in opener) >= _MIN_OPENER_CHARS:
        first = {"post_id": None, "floor": None, "author": None, "published": None,
                 "text": "\n".join(opener), "quote": None, "reply_to": None}
        posts = [first] + posts
        for floor, post in enumerate(posts, start=1):
            post["floor"] = floor if post["post_id"] is None or post is first else post["floor"]
    return posts


def _posts_are_the_content(text: str, posts: list[dict], held, captions: LinkCaptions, coverage: float) -> bool:
    """Repeated author/time blocks are also the reader comments under an article
    (and the rows of a board index, whose "posts" are link captions, hence empty),
    so detected posts make the page a thread only when two of them at least say
    something (a few tokens) and (a) they hold ``coverage`` of
    trafilatura's distinct lines (a page printing its thread twice, as a noscript
    copy, is not half outside them), or (b) they outweigh its text by a quarter
    (it kept the question, not the answers: the rule trafilatura's comments follow
    too), or (c) a third of its text is chrome, lines of a few tokens and link
    captions: it found no article that the posts could be comments of."""
    if sum(sum(tokens(post["text"]).values()) >= _CHROME_TOKENS for post in posts) < 2:
        return False
    lines = list(dict.fromkeys(line for line in text.split("\n") if line.strip()))
    sizes = [sum(tokens(line).values()) for line in lines]
    main = sum(sizes)
    if containment(tokens("\n".join(lines)), held) >= coverage or sum(held.values()) >= _OUTWEIGH * main:
        return True
    chrome = sum(size for line, size in zip(lines, sizes) if size < _CHROME_TOKENS or captions.is_link_line(line))
    return chrome >= _CHROME_SHARE * main > 0


def _posts_hold_the_text(text: str, posts: list[dict], coverage: float) -> bool:
    """Posts found by Readability's block (a question and its answers) are the page's
    content when they hold ``coverage`` of trafilatura's tokens or outweigh them by a
    quarter. Counted with repeats, unlike the sibling test: a page whose posts quote
    each other has its quoted text twice in trafilatura's and once in the posts."""
    held, main = tokens("\n".join(post["text"] for post in posts)), tokens(text)
    return containment(main, held) >= coverage or sum(held.values()) >= _OUTWEIGH * sum(main.values())


def _canonical(tree, url: str, page: str) -> str:
    """canonical_url of ``<link rel=canonical>`` when it stays on the page's host, else ``page``
    (the canonical form of ``url``)."""
    for href in _CANONICAL_LINK(tree)[:1]:
        candidate = canonical_url(urljoin(url, href.strip()))
        if candidate.split("/")[:3] == page.split("/")[:3]:
            return candidate
    return page


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        except ValueError:
            logger.warning("unreadable crawled_at %r, using now", value)
    return datetime.now(timezone.utc)

"""Article extraction: main text by trafilatura (or site rules), replaced by
Readability's text only on measured evidence (trafilatura returned nothing, or
rendered a layout table of navigation and calendars that Readability's subset
of the page leaves out), and metadata from the page's own markup."""
from __future__ import annotations

import contextvars
import copy
import logging
import re
from dataclasses import dataclass
from datetime import datetime

import trafilatura
import trafilatura.external
from lxml import etree
from trafilatura.readability_lxml import Document as Readability

from pipelines.extract.byline import Byline, page_lines
from pipelines.extract.dates import normalise_date
from pipelines.extract.dom import (LinkCaptions, card_lines, containment, element_text, first, first_text, parse_html,
                                  tokens, valid_xpaths)
from pipelines.extract.entries import first_entry
from pipelines.extract.metadata import PageMeta, htmldate_date, strip_site_name
from pipelines.extract.posts import is_lone_post, readability_posts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleConfig:
    """Extraction knobs, filled from the EXTRACT_* settings by the caller."""

    fallback: bool = True          # Readability may replace trafilatura's text (rule in main_text)
    table_share: float = 0.3       # ... when at least this share of trafilatura's text is table rows
    containment: float = 0.8       # ... and this share of Readability's tokens is in trafilatura's text
    min_ratio: float = 0.2         # ... and Readability keeps at least this share of its tokens
    default_tz: str = "Asia/Shanghai"


# Credit, copyright and reprint lines that portals append to (or put above) the body.
BOILERPLATE_LINE = re.compile(
    r"^[（(【\[]?\s*(?:责任编辑|責任編輯|编辑|編輯|校对|审核|来源|來源|原标题|稿源|文章来源|本文来源"
    r"|免责声明|版权声明"
    r"|图片来源|摄影|(?:完|END))\s*(?:[】\]]\s*.{0,60}|[:：].{0,40})?[）)】\]]?$"
    r"|^.{0,40}(?:版权所有|转载请注明|未经授权|All rights reserved|Copyright\b|©).{0,60}$",
    re.I,
)
_MAX_STRAY_COMMENTS = 0.25  # share of the main text that comment lines may take and still be dropped
_MAX_OPENER_CHARS = 400  # main text shorter than this beside longer comments: a question, the comments its thread
_MIN_STREAM_LINES = 2  # trailing story-card lines that make a stream to cut (one card line may be the article's)
_IN_READABILITY = 0.5  # share of a line's tokens in Readability's block that makes it part of the article
_LONE_POST_SHARE = 0.5  # see lone_post_text
_LONE_POST_CHARS = 0.6  # its quick test: a block with this share of the characters is not a lone post
_SENTENCE_END = ("。", "！", "？", ".", "!", "?", "”", '"')


def extract_article(tree, source: str, url: str, rules: dict | None, crawled_at: datetime | None,
                    config: ArticleConfig, text: str | None = None) -> dict:
    """Title, text, published, author and site_name of an article page; text is
    empty when there is no main text or the page is an index of links.
    ``source``: the decoded page (the tree lacks its scripts, which htmldate
    reads); ``text``: the main text when the caller has already extracted it."""
    rules = rules or {}
    if rules.get("body"):
        text = _rule_text(tree, rules)
    if not text:
        text = main_text(tree, url, rules, config)
    meta = PageMeta(tree)
    site_name = meta.site_name()
    title = strip_site_name(first_text(tree, rules.get("title")) or meta.title(), site_name)
    text, headline, dateline = _strip_chrome(text, title, crawled_at, config.default_tz)
    if not text or is_listing(text, LinkCaptions(tree)):
        # index or channel page: no document, so no metadata search either
        return {"title": title, "text": "", "published": None, "author": None, "site_name": None}
    if headline and title and len(headline) > len(title) and title in headline:
        title = headline  # the visible headline is complete where <title> was cut
    byline = Byline(page_lines(tree), text, headline or title)
    raw_date = (first_text(tree, rules.get("date")) or meta.date() or byline.date(crawled_at, config.default_tz)
                or dateline or htmldate_date(source, url))
    return {
        "title": title,
        "text": text,
        "published": normalise_date(raw_date, crawled_at, config.default_tz) if raw_date else None,
        "author": first_text(tree, rules.get("author")) or byline.author() or meta.author(),
        "site_name": site_name,
    }


def is_listing(text: str, captions: LinkCaptions) -> bool:
    """True when most extracted lines are link captions, or mostly one (a dated
    headline list): an index, channel or board page rather than an article.
    Lines without letters (counters, separators, bare dates) do not count."""
    lines = [line for line in text.split("\n") if any(c.isalpha() for c in line)]
    if len(lines) < 3:
        return False
    return sum(map(captions.is_link_line, lines)) / len(lines) > 0.5


# trafilatura runs Readability (its fork) on every page inside its own cascade
# (external.compare_extraction). The pipeline's rules compare against that same
# result, so it is kept when trafilatura makes it instead of being computed a
# second time (~15% of the pipeline's time). tests/test_extract_select.py checks that
# the hook still sees trafilatura's call, so a trafilatura release that renames
# it fails a test rather than silently costing the second run.
_KEPT_READABILITY: contextvars.ContextVar[list | None] = contextvars.ContextVar("kept_readability", default=None)
_TRY_READABILITY = trafilatura.external.try_readability


def _readability_kept(htmlinput):
    summary = _TRY_READABILITY(htmlinput)
    kept = _KEPT_READABILITY.get()
    if kept is not None and not kept:  # the first call of a page: the recall retry may call it again
        kept.append(summary)
    return summary


trafilatura.external.try_readability = _readability_kept


@dataclass(frozen=True)
class Extraction:
    """trafilatura's text of a page and Readability's main block, as found by trafilatura's run."""

    text: str
    readability: etree._Element | None  # None: trafilatura did not run Readability (see readability_text)


def run_trafilatura(tree, url: str, rules: dict | None = None, comments: bool | None = None) -> Extraction:
    """trafilatura's main text of the parsed page (its default cascade, tables kept).

    ``comments``: True keeps the comments trafilatura finds, False drops them,
    None keeps them only when they outweigh the main text: then they are the
    page's content (a thread whose posts trafilatura files as comments), while
    reader comments under an article are shorter than it and are dropped.
    An article's reader comments can outweigh it too (a blog post with sixty
    replies): they count as content only beside a main text shorter than
    ``_MAX_OPENER_CHARS`` (a question or a first post, not an article).
    Metadata is read elsewhere from the page's own markup: trafilatura's
    metadata pass (htmldate with dateparser) costs as much as extraction."""
    kept: list = []
    token = _KEPT_READABILITY.set(kept)
    try:
        document = trafilatura.bare_extraction(
            tree, url=url, with_metadata=False, include_comments=comments is not False, include_tables=True,
            include_images=False, prune_xpath=valid_xpaths((rules or {}).get("drop")) or None,
        )
    finally:
        _KEPT_READABILITY.reset(token)
    readability = kept[0] if kept else None
    if document is None:
        return Extraction("", readability)
    text, extra = document.text or "", document.comments or ""
    if comments or (comments is None and len(extra) > len(text) and len(text) < _MAX_OPENER_CHARS):
        # trafilatura may also keep the comments in its main text (replies inside the
        # content container): appended whole they would count twice
        held = set(text.split("\n"))
        extra = "\n".join(line for line in extra.split("\n") if line not in held)
        return Extraction("\n".join(part for part in (text, extra) if part), readability)
    # With comments on, trafilatura's main text can keep a stray comment line
    # too: drop it, unless such lines are a good part of the text (then the
    # main text is built of them: a thread, not an article with comments).
    lines, dropped = text.split("\n"), set(extra.split("\n"))
    if sum(len(line) for line in lines if line in dropped) > _MAX_STRAY_COMMENTS * len(text):
        return Extraction(text, readability)
    return Extraction("\n".join(line for line in lines if line not in dropped), readability)


def main_text(tree, url: str, rules: dict | None, config: ArticleConfig) -> str:
    """The page's main text: ``main_texts``' text, or the page's lone post (``lone_post_text``)."""
    text, readability = main_texts(tree, url, rules, config)
    return (config.fallback and lone_post_text(tree, text, readability, config.min_ratio)) or text


def main_texts(tree, url: str, rules: dict | None, config: ArticleConfig) -> tuple[str, etree._Element | None]:
    """trafilatura's text, unless Readability's is better on measured evidence,
    and Readability's block (None if trafilatura did not run it).

    trafilatura renders layout tables as markdown rows and then keeps the
    whole table: site navigation, calendars, "related" lists, copyright rows.
    When such rows make up a good part of its text and Readability's text is
    a subset of it (not a different block of the page), Readability's is the
    article without the table chrome. An empty trafilatura result is replaced
    by Readability's too. Every other case keeps trafilatura's text: on the
    evaluation pages each looser rule (a shorter text contained in the other,
    a prose-share vote) replaced good text on some page (docs/extraction.md).
    trafilatura's text is then cut to the first entry of a blog archive page
    (``entries.first_entry``) or without the story stream after an article.
    Readability's block is the caller's to look for posts in (``posts.readability_posts``)
    once it knows that no repeated post blocks are the page's content."""
    found = run_trafilatura(tree, url, rules)
    text = found.text
    if config.fallback and (not text or table_share(text) >= config.table_share):
        alternative = readability_text(tree, found.readability)
        mine, theirs = tokens(text), tokens(alternative)
        if not text or (sum(theirs.values()) >= max(1, config.min_ratio * sum(mine.values()))
                        and containment(theirs, mine) >= config.containment):
            return first_entry(tree, alternative) or alternative, found.readability
    # a blog archive page is its first entry; an article loses the story stream after it
    return first_entry(tree, text) or drop_story_stream(text, tree, found.readability), found.readability


def lone_post_text(tree, text: str, readability, min_ratio: float, blocks: list | None = None) -> str | None:
    """Readability's text when its block is the body of a page's single post
    (``posts.is_lone_post``: a thread of one post, a question without answers)
    and trafilatura's text is not that post: trafilatura missed it (under
    ``_LONE_POST_SHARE`` of Readability's tokens in its text) or wrapped it in
    the page's chrome (it holds under that share of trafilatura's tokens,
    ``min_ratio`` at least: a smaller block is a part, not the post).
    ``blocks``: ``readability_posts`` of the page when the caller has them."""
    block = readability.find("*") if readability is not None else None
    if block is None:
        return None
    # most pages are told apart on characters, before any tokenising: Readability's
    # block is most of trafilatura's text and its start or end is verbatim in it
    flat, held = " ".join(text.split()), " ".join("".join(readability.itertext()).split())
    if len(held) >= _LONE_POST_CHARS * len(flat) and (held[:40] in flat or held[-40:] in flat):
        return None
    alternative = element_text(readability)
    theirs, mine = tokens(alternative), tokens(text)
    size = sum(theirs.values())
    if size < max(1, min_ratio * sum(mine.values())):
        return None
    if containment(theirs, mine) >= _LONE_POST_SHARE and size >= _LONE_POST_SHARE * sum(mine.values()):
        return None  # trafilatura's text is the post or more (an article, a thread)
    return alternative if is_lone_post(readability_posts(tree, block) if blocks is None else blocks) else None


def drop_story_stream(text: str, tree, readability=None) -> str:
    """trafilatura's text without the story stream it appended: trailing lines
    that are summaries of story cards (``card_lines``: sibling blocks with a
    headline link each) and that Readability's block leaves out, two lines at
    least. Both signals are needed: a roundup article is made of cards too,
    but Readability keeps them as its content."""
    lines = text.split("\n")
    if len(lines) <= _MIN_STREAM_LINES:
        return text
    if readability is not None:  # usually the last line is verbatim in Readability's block: done cheaply
        block = " ".join("".join(readability.itertext()).split())
        if " ".join(lines[-1].split()) in block:
            return text
    article = tokens(readability_text(tree, readability))

    def outside(line: str) -> bool:
        return containment(tokens(line), article) < _IN_READABILITY

    if not all(map(outside, lines[-_MIN_STREAM_LINES:])):
        return text  # the cards are looked for only then: finding them costs ~4% of trafilatura's time
    cards = card_lines(tree)
    end = len(lines)
    while end > 1 and " ".join(lines[end - 1].split()) in cards and outside(lines[end - 1]):
        end -= 1
    return "\n".join(lines[:end]) if len(lines) - end >= _MIN_STREAM_LINES else text


def readability_text(tree, summary=None) -> str:
    """Readability's main block as text: ``summary`` (the block trafilatura's run
    produced) or, without one, a run of trafilatura's bundled fork of readability-lxml."""
    if summary is None:
        try:
            html = Readability(copy.deepcopy(tree), min_text_length=25).summary()
        except Exception:  # noqa: BLE001 - a Readability failure only means "no alternative"
            logger.debug("readability failed", exc_info=True)
            return ""
        summary = parse_html(html) if html else None
    return element_text(summary) if summary is not None else ""


def table_share(text: str) -> float:
    """Share of the text's characters in markdown table rows (trafilatura's rendering of <table>)."""
    total = rows = 0
    for line in text.split("\n"):
        total += len(line)
        if line.lstrip().startswith("|"):
            rows += len(line)
    return rows / total if total else 0.0


def _strip_chrome(text: str, title: str | None, crawled_at, default_tz) -> tuple[str, str | None, str | None]:
    """Drop trailing credit/copyright lines, the headline and anything above it
    (kicker, breadcrumb), and date/byline lines after it: extractors keep the
    headline block and the editor's credit, but neither is body text. Returns
    the text, and the headline and date lines found, if any."""
    lines = text.split("\n")
    while len(lines) > 1 and BOILERPLATE_LINE.match(lines[-1]):
        lines.pop()
    headline = next((line for line in lines[:4] if _is_headline(line, title)), None)
    if headline is not None and len(lines) > lines.index(headline) + 1:
        lines = lines[lines.index(headline) + 1:]
    dateline = None
    while headline is not None and len(lines) > 1:  # without a headline a dated first line is text
        head = lines[0]
        if len(head) < 60 and not head.endswith(_SENTENCE_END) and normalise_date(head, crawled_at, default_tz):
            line = lines.pop(0)
            dateline = dateline or line
        else:
            break
    return "\n".join(lines), headline, dateline


def _is_headline(line: str, title: str | None) -> bool:
    """The line is the title, or the title is a cut of it (or it of the title's "<headline> - site")."""
    if not title or len(line) > 100 or line.endswith(_SENTENCE_END[:3]):
        return line == title
    return line == title or (len(line) >= 4 and len(title) >= 4 and (title in line or line in title))


def _rule_text(tree, rules: dict) -> str:
    skip = set()
    for xpath in rules.get("drop") or []:
        skip.update(first(tree, xpath))
    return "\n".join(element_text(e, skip) for e in first(tree, rules["body"]) if isinstance(e, etree._Element))

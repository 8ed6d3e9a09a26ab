"""Article extraction: main text by trafilatura (or site rules), metadata from
the page's own markup, and a text-density fallback for pages where trafilatura
returns nothing or only a fragment (common on Chinese portals whose body sits
in ``<div>``s with ``<br>`` line breaks rather than ``<p>``s)."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime

import htmldate
import trafilatura
from lxml import etree

from pipelines.extract.dates import normalise_date
from pipelines.extract.dom import LinkCaptions, element_text, first, first_text, valid_xpaths

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleConfig:
    """Extraction knobs, filled from the EXTRACT_* settings by the caller."""

    fallback: bool = True          # run the density extractor when trafilatura looks weak
    fallback_ratio: float = 0.6    # trafilatura with less prose than this share of the fallback's loses
    fallback_min_chars: int = 80   # the fallback needs this much prose to be considered at all
    vote_margin: float = 0.15      # the fallback also wins when its prose share is this much higher
    default_tz: str = "Asia/Shanghai"


_META_DATE = [
    "//meta[@property='article:published_time']/@content",
    "//meta[@property='og:published_time']/@content",
    "//meta[@itemprop='datePublished']/@content",
    "//meta[@name='pubdate' or @name='publishdate' or @name='PubDate' or @name='publish_date']/@content",
    "//meta[@name='date' or @name='dc.date' or @name='DC.date.issued' or @name='sailthru.date']/@content",
    "//time[@itemprop='datePublished' or @pubdate]/@datetime",
]
# Visible date lines of Chinese portals: <span class="date">, <div class="info">, <p class="source">.
_VISIBLE_DATE = [
    "//*[@id='pubtime' or @id='pub_date' or @id='publish_time' or @class='pubtime' or @class='date'"
    " or @class='time' or @class='publish-time' or @class='pub-time']",
    "//*[contains(@class, 'info') or contains(@class, 'meta') or contains(@class, 'source')"
    " or contains(@class, 'byline') or contains(@class, 'date') or contains(@class, 'time')][not(.//p)]",
    "//time",
]
_META_SITE = ["//meta[@property='og:site_name']/@content", "//meta[@name='application-name']/@content"]
_META_AUTHOR = [
    "//meta[@name='author' or @property='article:author' or @name='byl']/@content",
    "//*[@rel='author' or @itemprop='author' or contains(@class, 'author')][not(.//p)]",
]
_AUTHOR_IN_TEXT = re.compile(r"(?:作者|记者|文|撰稿)\s*[:：/｜|]\s*([^\s|｜/,，。]{2,20})")
_AUTHOR_PREFIX = re.compile(r"^(?:by|作者|记者|文)\s*[:：]?\s*", re.I)
_TITLE_SEPARATORS = re.compile(r"\s*(?:[|｜_–—]|\s-\s)\s*")
# Credit, copyright and reprint lines that portals append to (or put above) the body.
BOILERPLATE_LINE = re.compile(
    r"^[（(【\[]?\s*(?:责任编辑|責任編輯|编辑|編輯|校对|审核|来源|來源|原标题|稿源|文章来源|本文来源"
    r"|免责声明|版权声明"
    r"|图片来源|摄影|(?:完|END))\s*(?:[】\]]\s*.{0,60}|[:：].{0,40})?[）)】\]]?$"
    r"|^.{0,40}(?:版权所有|转载请注明|未经授权|All rights reserved|Copyright\b|©).{0,60}$",
    re.I,
)
# trafilatura renders layout tables as markdown rows, escaping literal pipes
_TABLE_CELL = re.compile(r"\n|\\?\|")
_SENTENCE_END = ("。", "！", "？", ".", "!", "?", "”", '"')
_NOT_BODY = ("comment", "footer", "nav", "sidebar", "related", "recommend", "copyright")
_BODY_TAGS = {"div", "td", "article", "section", "main"}


def extract_article(tree, url: str, rules: dict | None, crawled_at: datetime | None,
                    config: ArticleConfig) -> dict:
    """Title, text, published, author and site_name of an article page; text is
    empty when there is no main text or the page is an index of links."""
    rules = rules or {}
    text = _rule_text(tree, rules) if rules.get("body") else ""
    if not text:
        # Metadata is read below from the page's own markup: trafilatura's
        # metadata pass (htmldate with dateparser) costs as much as extraction.
        document = trafilatura.bare_extraction(
            tree, url=url, with_metadata=False, include_comments=False, include_tables=True,
            include_images=False, prune_xpath=valid_xpaths(rules.get("drop")) or None,
        )
        text = (document.text or "") if document is not None else ""
    captions = LinkCaptions(tree)
    if config.fallback and not rules.get("body"):
        text = _vote(text, density_text(tree), captions, config, url)
    structured = _json_ld(tree)
    title = first_text(tree, rules.get("title")) or structured.get("headline") or _title(tree)
    text, headline, dateline = _strip_chrome(text, title, crawled_at, config.default_tz)
    if not text or is_listing(text, captions):
        # index or channel page: no document, so no metadata search either
        return {"title": title, "text": "", "published": None, "author": None, "site_name": None}
    if headline and title and len(headline) > len(title) and title in headline:
        title = headline  # the visible headline is complete where <title> was cut
    raw_date = (first_text(tree, rules.get("date")) or first_text(tree, _META_DATE)
                or structured.get("datePublished") or _visible_date(tree, crawled_at, config.default_tz)
                or dateline or _htmldate(tree, url))
    return {
        "title": title,
        "text": text,
        "published": normalise_date(raw_date, crawled_at, config.default_tz) if raw_date else None,
        "author": first_text(tree, rules.get("author")) or structured.get("author") or _author(tree),
        "site_name": structured.get("publisher") or first_text(tree, _META_SITE),
    }


def is_listing(text: str, captions: LinkCaptions) -> bool:
    """True when most extracted lines are link captions, or mostly one (a dated
    headline list): an index, channel or board page rather than an article.
    Lines without letters (counters, separators, bare dates) do not count."""
    lines = [line for line in text.split("\n") if any(c.isalpha() for c in line)]
    if len(lines) < 3:
        return False
    return sum(map(captions.is_link_line, lines)) / len(lines) > 0.5


def _vote(main: str, fallback: str, captions: LinkCaptions, config: ArticleConfig, url: str) -> str:
    """trafilatura's text unless the density text is clearly better: it must be
    mostly prose of some length, and then either trafilatura has much less prose
    (it missed the body) or a much smaller prose share (it kept navigation and
    link lists, typically from table layouts) at no real loss of prose."""
    fallback_prose, fallback_total = _prose(fallback, captions)
    if fallback_prose < config.fallback_min_chars or fallback_prose * 2 < fallback_total:
        return main  # index pages: the least linky block is the footer
    main_prose, main_total = _prose(main, captions)
    if main_prose < config.fallback_ratio * fallback_prose:
        logger.debug("%s: density text (%d prose chars) beats trafilatura (%d)", url, fallback_prose, main_prose)
        return fallback
    if (fallback_prose / fallback_total - main_prose / max(main_total, 1) > config.vote_margin
            and fallback_prose >= 0.8 * main_prose):
        logger.debug("%s: density text is cleaner than trafilatura's", url)
        return fallback
    return main


def _prose(text: str, captions: LinkCaptions) -> tuple[int, int]:
    """Characters in prose lines and in all lines; markdown table cells count as lines."""
    prose = total = 0
    for line in _TABLE_CELL.split(text):
        line = line.strip()
        if not line:
            continue
        total += len(line)
        if any(c.isalpha() for c in line) and not captions.is_link_line(line) and not BOILERPLATE_LINE.match(line):
            prose += len(line)
    return prose, total


def density_text(tree) -> str:
    """Text of the block with the most non-link text, scored like Readability:
    characters outside links, minus a penalty for link-heavy blocks."""
    body = tree.find("body")
    if body is None:
        return ""
    best, best_score = None, 0.0
    for element in body.iter(*_BODY_TAGS):
        marker = f"{element.get('class', '')} {element.get('id', '')}".lower()
        if any(word in marker for word in _NOT_BODY) or element.get("id") in ("ft", "hd"):  # Discuz! ids
            continue
        text_len = sum(len(t.strip()) for t in element.itertext())
        if text_len < 50:
            continue
        link_len = sum(len(t.strip()) for a in element.iter("a") for t in a.itertext())
        paragraphs = len(element.findall("p")) + len(element.findall("br"))
        score = (text_len - 2 * link_len) * (1 + 0.1 * min(paragraphs, 10)) / (1 + 0.002 * text_len) ** 0.5
        if score > best_score:
            best, best_score = element, score
    if best is None:
        return ""
    skip = set(best.xpath(".//a[not(ancestor::p)] | .//*[contains(@class, 'share') or contains(@class, 'related')]"))
    return element_text(best, skip)


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
    while len(lines) > 1:
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


def _json_ld(tree) -> dict:
    """headline, datePublished, author and publisher of the first Article JSON-LD block."""
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        items = data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []
        for item in items:
            kind = str(item.get("@type", "")) if isinstance(item, dict) else ""
            if "Article" in kind or "Posting" in kind:
                return {
                    "headline": _string(item.get("headline")),
                    "datePublished": _string(item.get("datePublished")),
                    "author": _string(item.get("author")),
                    "publisher": _string(item.get("publisher")),
                }
    return {}


def _string(value) -> str | None:
    """A JSON-LD value as text: strings as-is, objects by name, lists by first item."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _title(tree) -> str | None:
    """<h1> if present (portals put the site name into <title>), else og:title,
    else the longest part of <title> split at its site-name separator."""
    title = first_text(tree, ["//h1", "//meta[@property='og:title']/@content"])
    if title:
        return title
    title = first_text(tree, "//title")
    if title:
        parts = _TITLE_SEPARATORS.split(title)
        return max(parts, key=len) if len(parts) > 1 else title
    return None


def _htmldate(tree, url: str) -> str | None:
    """Last resort: htmldate's quick search (day precision, no extensive search)."""
    try:
        return htmldate.find_date(tree, extensive_search=False, original_date=True, url=url)
    except (ValueError, TypeError):
        return None


def _visible_date(tree, crawled_at, default_tz) -> str | None:
    """The first visible date-like text in the usual byline containers."""
    for xpath in _VISIBLE_DATE:
        for element in tree.xpath(xpath)[:20]:
            raw = " ".join(element.itertext())
            if normalise_date(raw, crawled_at, default_tz):
                return raw
    return None


def _author(tree) -> str | None:
    author = first_text(tree, _META_AUTHOR)
    if author:
        match = _AUTHOR_IN_TEXT.search(author)
        return match.group(1) if match else _AUTHOR_PREFIX.sub("", author) or None
    for element in tree.xpath(_VISIBLE_DATE[1])[:20]:
        match = _AUTHOR_IN_TEXT.search(" ".join(element.itertext()))
        if match:
            return match.group(1)
    return None

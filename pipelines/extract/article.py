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

import trafilatura
from lxml import etree

from pipelines.dates import normalise_date
from pipelines.extract.dom import element_text, first, first_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleConfig:
    """Extraction knobs, filled from the EXTRACT_* settings by the caller."""

    fallback: bool = True          # run the density extractor when trafilatura looks weak
    fallback_ratio: float = 0.6    # trafilatura text shorter than this share of the fallback's loses
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
_META_AUTHOR = [
    "//meta[@name='author' or @property='article:author' or @name='byl']/@content",
    "//*[@rel='author' or @itemprop='author' or contains(@class, 'author')][not(.//p)]",
]
_AUTHOR_IN_TEXT = re.compile(r"(?:作者|记者|文|撰稿)\s*[:：/｜|]\s*([^\s|｜/,，。]{2,20})")
_AUTHOR_PREFIX = re.compile(r"^(?:by|作者|记者|文)\s*[:：]?\s*", re.I)
_TITLE_SEPARATORS = re.compile(r"\s*(?:[|｜_–—]|\s-\s)\s*")
_SENTENCE_END = ("。", "！", "？", ".", "!", "?", "”", '"')
_BODY_TAGS = {"div", "td", "article", "section", "main"}


def extract_article(tree, url: str, rules: dict | None, crawled_at: datetime | None,
                    config: ArticleConfig) -> dict:
    """Title, text, published, author and site_name of an article page."""
    rules = rules or {}
    metadata = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, include_comments=False, include_tables=True,
        include_images=False, prune_xpath=rules.get("drop"),
    )
    text = ""
    if rules.get("body"):
        text = _rule_text(tree, rules)
    if not text and metadata is not None:
        text = metadata.text or ""
    if config.fallback and not rules.get("body"):
        density = density_text(tree)
        if len(density) * config.fallback_ratio > len(text):
            logger.debug("%s: density fallback (%d chars) beats trafilatura (%d)", url, len(density), len(text))
            text = density
    structured = _json_ld(tree)
    title = first_text(tree, rules.get("title")) or structured.get("headline") or _title(tree, metadata)
    text = _strip_head(text, title, crawled_at, config.default_tz)
    raw_date = (first_text(tree, rules.get("date")) or first_text(tree, _META_DATE)
                or structured.get("datePublished") or _visible_date(tree, crawled_at, config.default_tz)
                or (metadata.date if metadata is not None else None))
    return {
        "title": title,
        "text": text,
        "published": normalise_date(raw_date, crawled_at, config.default_tz) if raw_date else None,
        "author": first_text(tree, rules.get("author")) or structured.get("author") or _author(tree, metadata),
        "site_name": structured.get("publisher") or (metadata.sitename if metadata is not None else None),
    }


def density_text(tree) -> str:
    """Text of the block with the most non-link text, scored like Readability:
    characters outside links, minus a penalty for link-heavy blocks."""
    body = tree.find("body")
    if body is None:
        return ""
    best, best_score = None, 0.0
    for element in body.iter(*_BODY_TAGS):
        marker = f"{element.get('class', '')} {element.get('id', '')}".lower()
        if any(word in marker for word in ("comment", "footer", "nav", "sidebar", "related", "recommend")):
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


def _strip_head(text: str, title: str | None, crawled_at, default_tz) -> str:
    """Drop leading lines that repeat the title or are a date/byline line: the
    extractors keep the headline block, but it is not body text."""
    lines = text.split("\n")
    while lines and len(lines) > 1:
        head = lines[0]
        if head == title or (len(head) < 60 and not head.endswith(_SENTENCE_END)
                             and normalise_date(head, crawled_at, default_tz)):
            lines.pop(0)
        else:
            break
    return "\n".join(lines)


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


def _title(tree, metadata) -> str | None:
    """<h1> if present (portals put the site name into <title>), else trafilatura's title."""
    h1 = first_text(tree, "//h1")
    if h1:
        return h1
    title = metadata.title if metadata is not None else first_text(tree, "//title")
    if title:
        parts = _TITLE_SEPARATORS.split(title)
        return max(parts, key=len) if len(parts) > 1 else title
    return None


def _visible_date(tree, crawled_at, default_tz) -> str | None:
    """The first visible date-like text in the usual byline containers."""
    for xpath in _VISIBLE_DATE:
        for element in tree.xpath(xpath)[:20]:
            raw = " ".join(element.itertext())
            if normalise_date(raw, crawled_at, default_tz):
                return raw
    return None


def _author(tree, metadata) -> str | None:
    author = first_text(tree, _META_AUTHOR)
    if author:
        match = _AUTHOR_IN_TEXT.search(author)
        return match.group(1) if match else _AUTHOR_PREFIX.sub("", author) or None
    for element in tree.xpath(_VISIBLE_DATE[1])[:20]:
        match = _AUTHOR_IN_TEXT.search(" ".join(element.itertext()))
        if match:
            return match.group(1)
    return metadata.author if metadata is not None else None

"""Article extraction: main text by trafilatura (or site rules), replaced by
Readability's text only on measured evidence (trafilatura returned nothing, or
rendered a layout table of navigation and calendars that Readability's subset
of the page leaves out), and metadata from the page's own markup."""
from __future__ import annotations

import copy
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import htmldate
import trafilatura
from lxml import etree
from trafilatura.readability_lxml import Document as Readability

from pipelines.extract.byline import Byline, page_lines
from pipelines.extract.dates import normalise_date
from pipelines.extract.dom import LinkCaptions, element_text, first, first_text, parse_html, valid_xpaths

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleConfig:
    """Extraction knobs, filled from the EXTRACT_* settings by the caller."""

    fallback: bool = True          # Readability may replace trafilatura's text (rule in main_text)
    table_share: float = 0.3       # ... when at least this share of trafilatura's text is table rows
    containment: float = 0.8       # ... and this share of Readability's tokens is in trafilatura's text
    min_ratio: float = 0.2         # ... and Readability keeps at least this share of its tokens
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
_NOT_A_PERSON = re.compile(r"\d|https?:|www\.|\.com|网|报|社|,|，|\bteam\b|编辑部|阅读", re.I)
_AUTHOR_PREFIX = re.compile(r"^(?:by|作者|记者|文)\s*[:：]?\s*", re.I)
_SITE_PART = re.compile(r"^.{1,12}(?:网|網|频道|頻道|新闻|新聞|日报|日報|博客|论坛|社区|百科)$|^(?:www\.)?[\w-]+(?:\.[a-z]{2,})+$|\(新闻\)$")
_TITLE_SEPARATORS = re.compile(r"\s*(?:[|｜_–—]|--|\s-\s)\s*")
# Credit, copyright and reprint lines that portals append to (or put above) the body.
BOILERPLATE_LINE = re.compile(
    r"^[（(【\[]?\s*(?:责任编辑|責任編輯|编辑|編輯|校对|审核|来源|來源|原标题|稿源|文章来源|本文来源"
    r"|免责声明|版权声明"
    r"|图片来源|摄影|(?:完|END))\s*(?:[】\]]\s*.{0,60}|[:：].{0,40})?[）)】\]]?$"
    r"|^.{0,40}(?:版权所有|转载请注明|未经授权|All rights reserved|Copyright\b|©).{0,60}$",
    re.I,
)
_MAX_STRAY_COMMENTS = 0.25  # share of the main text that comment lines may take and still be dropped
_SENTENCE_END = ("。", "！", "？", ".", "!", "?", "”", '"')


def extract_article(tree, url: str, rules: dict | None, crawled_at: datetime | None,
                    config: ArticleConfig, text: str | None = None) -> dict:
    """Title, text, published, author and site_name of an article page; text is
    empty when there is no main text or the page is an index of links.
    ``text``: the main text when the caller has already extracted it."""
    rules = rules or {}
    if rules.get("body"):
        text = _rule_text(tree, rules)
    if not text:
        text = main_text(tree, url, rules, config)
    captions = LinkCaptions(tree)
    structured = _json_ld(tree)
    title = first_text(tree, rules.get("title")) or structured.get("headline") or _title(tree)
    title = strip_site_name(title, structured.get("publisher") or first_text(tree, _META_SITE))
    text, headline, dateline = _strip_chrome(text, title, crawled_at, config.default_tz)
    if not text or is_listing(text, captions):
        # index or channel page: no document, so no metadata search either
        return {"title": title, "text": "", "published": None, "author": None, "site_name": None}
    if headline and title and len(headline) > len(title) and title in headline:
        title = headline  # the visible headline is complete where <title> was cut
    byline = Byline(page_lines(tree), text, headline or title)
    raw_date = (first_text(tree, rules.get("date")) or first_text(tree, _META_DATE)
                or structured.get("datePublished") or byline.date(crawled_at, config.default_tz)
                or _visible_date(tree, crawled_at, config.default_tz) or dateline or _htmldate(tree, url))
    site_name = structured.get("publisher") or first_text(tree, _META_SITE)
    author = first_text(tree, rules.get("author")) or byline.author()
    if not author:
        author = next((a for a in (structured.get("author"), _author(tree)) if _plausible_author(a, site_name)), None)
    return {
        "title": title,
        "text": text,
        "published": normalise_date(raw_date, crawled_at, config.default_tz) if raw_date else None,
        "author": author,
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


def trafilatura_text(tree, url: str, rules: dict | None = None, comments: bool | None = None) -> str:
    """trafilatura's main text of the parsed page (its default cascade, tables kept).

    ``comments``: True keeps the comments trafilatura finds, False drops them,
    None keeps them only when they outweigh the main text: then they are the
    page's content (a thread whose posts trafilatura files as comments), while
    reader comments under an article are shorter than it and are dropped.
    Metadata is read elsewhere from the page's own markup: trafilatura's
    metadata pass (htmldate with dateparser) costs as much as extraction."""
    document = trafilatura.bare_extraction(
        tree, url=url, with_metadata=False, include_comments=comments is not False, include_tables=True,
        include_images=False, prune_xpath=valid_xpaths((rules or {}).get("drop")) or None,
    )
    if document is None:
        return ""
    text, extra = document.text or "", document.comments or ""
    if comments or (comments is None and len(extra) > len(text)):
        return "\n".join(part for part in (text, extra) if part)
    # With comments on, trafilatura's main text can keep a stray comment line
    # too: drop it, unless such lines are a good part of the text (then the
    # main text is built of them: a thread, not an article with comments).
    lines, dropped = text.split("\n"), set(extra.split("\n"))
    if sum(len(line) for line in lines if line in dropped) > _MAX_STRAY_COMMENTS * len(text):
        return text
    return "\n".join(line for line in lines if line not in dropped)


def main_text(tree, url: str, rules: dict | None, config: ArticleConfig) -> str:
    """trafilatura's text, unless Readability's is better on measured evidence.

    trafilatura renders layout tables as markdown rows and then keeps the
    whole table: site navigation, calendars, "related" lists, copyright rows.
    When such rows make up a good part of its text and Readability's text is
    a subset of it (not a different block of the page), Readability's is the
    article without the table chrome. An empty trafilatura result is replaced
    by Readability's too. Every other case keeps trafilatura's text: on the
    evaluation pages each looser rule (a shorter text contained in the other,
    a prose-share vote) replaced good text on some page (docs/extraction.md)."""
    text = trafilatura_text(tree, url, rules)
    if not config.fallback or (text and table_share(text) < config.table_share):
        return text
    alternative = readability_text(tree)
    if not text:
        return alternative
    mine, theirs = tokens(text), tokens(alternative)
    if not theirs or sum(theirs.values()) < config.min_ratio * sum(mine.values()):
        return text
    return alternative if containment(theirs, mine) >= config.containment else text


def readability_text(tree) -> str:
    """Readability's main block as text (trafilatura's bundled fork of readability-lxml)."""
    try:
        summary = Readability(copy.deepcopy(tree), min_text_length=25).summary()
    except Exception:  # noqa: BLE001 - a Readability failure only means "no alternative"
        logger.debug("readability failed", exc_info=True)
        return ""
    root = parse_html(summary) if summary else None
    return element_text(root) if root is not None else ""


_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(f"[{_CJK_CHARS}]|[^\\W_{_CJK_CHARS}]+")


def tokens(text: str) -> Counter:
    """Bag of tokens: each CJK character, each other word lower-cased (the evaluation's scale)."""
    return Counter(_TOKEN.findall(text.lower()))


def containment(part: Counter, whole: Counter) -> float:
    """Share of ``part``'s tokens (with multiplicity) that ``whole`` also has."""
    total = sum(part.values())
    return sum((part & whole).values()) / total if total else 0.0


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


def strip_site_name(title: str | None, site_name: str | None) -> str | None:
    """The title without trailing "| site" parts: a part equal to (or inside) the
    site name, or a last part that names a site or channel (…网, …频道)."""
    if not title:
        return title
    parts = _TITLE_SEPARATORS.split(title)
    while len(parts) > 1 and (site_name and (parts[-1] in site_name or site_name in parts[-1])
                              or _SITE_PART.search(parts[-1])):
        parts.pop()
    return title if len(parts) == len(_TITLE_SEPARATORS.split(title)) else title[:_prefix_end(title, parts)]


def _prefix_end(title: str, parts: list[str]) -> int:
    """End offset in ``title`` of its first ``len(parts)`` separator-split parts."""
    end = 0
    for part in parts:
        end = title.index(part, end) + len(part)
    return end


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


def _plausible_author(name: str | None, site_name: str | None) -> bool:
    """A person's name, not the site or software that meta tags often name (网, URLs, ids, lists)."""
    return bool(name) and len(name) <= 30 and not _NOT_A_PERSON.search(name) and \
        not (site_name and (name in site_name or site_name in name))


def _author(tree) -> str | None:
    # visible Chinese bylines are read by Byline; here only markup that names the author
    author = first_text(tree, _META_AUTHOR)
    if author:
        match = _AUTHOR_IN_TEXT.search(author)
        return match.group(1) if match else _AUTHOR_PREFIX.sub("", author) or None
    return None

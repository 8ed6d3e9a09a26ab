"""Article metadata from the page's own markup: <meta> tags, JSON-LD, headings.

The visible byline (date and author printed as text) is read by ``byline.py``;
this module holds what the markup declares. The page's ``<meta>`` tags are
read in one pass into a dict (an XPath per key walked the whole tree a dozen
times per page), and trafilatura's metadata pass is not used: htmldate with
dateparser costs as much as the extraction itself.
"""
from __future__ import annotations

import json
import re

import htmldate
from lxml import etree

from pipelines.extract.dom import first_text

# <meta> tags and JSON-LD blocks in one walk over the tree
_MARKUP = etree.XPath("//meta[@content] | //script[@type='application/ld+json']")
# Keys are read lower-cased from name, property or itemprop, in order of trust.
_DATE_KEYS = ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
              "publish_date", "date", "dc.date", "dc.date.issued", "sailthru.date")
_TIME_ELEMENT = "//time[@itemprop='datePublished' or @pubdate]/@datetime"
_SITE_KEYS = ("og:site_name", "application-name")
_AUTHOR_KEYS = ("author", "article:author", "byl")
# from the attributes, not a test of every element: same elements, about twice as fast
_AUTHOR_ELEMENT = ("(//@rel[.='author'] | //@itemprop[.='author'] | //@class[contains(., 'author')])"
                   "/parent::*[not(.//p)]")
_AUTHOR_IN_TEXT = re.compile(r"(?:作者|记者|文|撰稿)\s*[:：/｜|]\s*([^\s|｜/,，。]{2,20})")
_NOT_A_PERSON = re.compile(r"\d|https?:|www\.|\.com|网|报|社|,|，|\bteam\b|编辑部|阅读", re.I)
_AUTHOR_PREFIX = re.compile(r"^(?:by|作者|记者|文)\s*[:：]?\s*", re.I)
_SITE_PART = re.compile(r"^.{1,12}(?:网|網|频道|頻道|新闻|新聞|日报|日報|博客|论坛|社区|百科)$|^(?:www\.)?[\w-]+(?:\.[a-z]{2,})+$|\(新闻\)$")
_TITLE_SEPARATORS = re.compile(r"\s*(?:[|｜_–—]|--|\s-\s)\s*")


class PageMeta:
    """The metadata a page declares: <meta> tags by key, the first Article JSON-LD block."""

    def __init__(self, tree):
        self.tree = tree
        self.tags: dict[str, str] = {}
        scripts = []
        for element in _MARKUP(tree):
            if element.tag == "script":
                scripts.append(element.text or "")
                continue
            content = " ".join(element.get("content").split())
            if not content:
                continue
            for attribute in ("property", "name", "itemprop"):
                key = element.get(attribute)
                if key:
                    self.tags.setdefault(key.lower(), content)
        self.structured = _json_ld(scripts)

    def tag(self, keys) -> str | None:
        return next((self.tags[key] for key in keys if key in self.tags), None)

    def date(self) -> str | None:
        """Declared publication date: meta tags, then a <time datePublished>, then JSON-LD."""
        return self.tag(_DATE_KEYS) or first_text(self.tree, _TIME_ELEMENT) or self.structured.get("datePublished")

    def site_name(self) -> str | None:
        return self.structured.get("publisher") or self.tag(_SITE_KEYS)

    def title(self) -> str | None:
        """JSON-LD headline, <h1> (portals put the site name into <title>), og:title,
        else the longest part of <title> split at its site-name separator."""
        title = self.structured.get("headline") or first_text(self.tree, "//h1") or self.tag(("og:title",))
        if title:
            return title
        title = first_text(self.tree, "//title")
        if title:
            parts = _TITLE_SEPARATORS.split(title)
            return max(parts, key=len) if len(parts) > 1 else title
        return None

    def author(self) -> str | None:
        """JSON-LD, meta tags, then rel/itemprop/class author markup: the first that names a person."""
        site_name = self.site_name()
        for candidate in (lambda: self.structured.get("author"), lambda: _from_byline(self.tag(_AUTHOR_KEYS)),
                          lambda: _from_byline(first_text(self.tree, _AUTHOR_ELEMENT))):
            name = candidate()
            if _plausible_author(name, site_name):
                return name
        return None


def _from_byline(text: str | None) -> str | None:
    """The name in an author field ("作者：张三", "By Jane Doe")."""
    if not text:
        return None
    match = _AUTHOR_IN_TEXT.search(text)
    return match.group(1) if match else _AUTHOR_PREFIX.sub("", text) or None


def htmldate_date(source: str, url: str) -> str | None:
    """Last resort: htmldate's quick search (day precision, no extensive search) on
    the page source (scripts included; its own parse costs no more than its copy of a tree)."""
    try:
        return htmldate.find_date(source, extensive_search=False, original_date=True, url=url)
    except (ValueError, TypeError):
        return None


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


def _json_ld(scripts: list[str]) -> dict:
    """headline, datePublished, author and publisher of the first Article JSON-LD block."""
    for script in scripts:
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


def _plausible_author(name: str | None, site_name: str | None) -> bool:
    """A person's name, not the site or software that meta tags often name (网, URLs, ids, lists)."""
    return bool(name) and len(name) <= 30 and not _NOT_A_PERSON.search(name) and \
        not (site_name and (name in site_name or site_name in name))

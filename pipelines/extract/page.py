"""extract_page: raw page bytes in, the extraction interface dict out."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin

from pipelines.canonical import canonical_url
from pipelines.extract.decode import DecodeError, decode_body, header_value
from pipelines.extract.article import ArticleConfig, extract_article
from pipelines.extract.dom import parse_html
from pipelines.extract.forum import is_thread, segment_posts

logger = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_TAG = re.compile(r"<\s*[a-zA-Z!/]")
_FEED = re.compile(r"<(?:rss|feed|urlset|sitemapindex|rdf:RDF)\b", re.I)  # feeds and sitemaps served as text/html
_LANG_SAMPLE = 3000


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
    content_type = (header_value(headers, "content-type") or "").lower()
    if content_type and not any(t in content_type for t in ("html", "text/plain")):
        raise ExtractError("not_html", f"content type {content_type}")
    try:
        text = decode_body(body, headers)
    except DecodeError as exc:
        raise ExtractError("decode_error", str(exc)) from exc
    if not _TAG.search(text[:65536]) or _FEED.search(text[:2048]):
        raise ExtractError("not_html", "no HTML markup")
    crawled = _as_datetime(crawled_at)
    result = {"kind": "other", "title": None, "text": "", "published": None, "author": None,
              "lang": None, "posts": [], "site_name": None, "canonical_url": _canonical(None, url)}
    tree = parse_html(text)
    if tree is None:
        return result
    result["canonical_url"] = _canonical(tree, url)
    tz = config.article.default_tz
    kind = rules.get("kind")  # a spider that knows the page type may say so
    if kind == "forum" or (kind != "article" and is_thread(tree, rules)):
        title, posts = segment_posts(tree, url, rules, crawled, tz)
        joined = "\n".join(p["text"] for p in posts if p["text"])
        result.update(kind="forum", title=title, text=joined, posts=posts,
                      published=posts[0]["published"] if posts else None,
                      author=posts[0]["author"] if posts else None,
                      lang=detect_lang(joined, tree, config.cjk_ratio))
        return result
    article = extract_article(tree, url, rules, crawled, config.article)
    result.update(article)
    result["lang"] = detect_lang(article["text"] or article["title"] or "", tree, config.cjk_ratio)
    if article["text"]:
        result["kind"] = "article"
    return result


def detect_lang(text: str, tree=None, cjk_ratio: float = 0.3) -> str | None:
    """"zh" if CJK ideographs are at least ``cjk_ratio`` of the letters (kana or
    hangul first make it "ja"/"ko"); otherwise the page's ``<html lang>``, else
    "en" for mostly-ASCII Latin text. A script count is enough to route jieba vs
    English tokenisation; it does not tell Latin languages apart."""
    sample = text[:_LANG_SAMPLE]
    letters = sum(1 for c in sample if c.isalpha())
    declared = (tree.get("lang") or "").split("-")[0].lower() if tree is not None else ""
    if letters:
        if len(_KANA.findall(sample)) / letters > 0.1:
            return "ja"
        if len(_HANGUL.findall(sample)) / letters > 0.3:
            return "ko"
        if len(_CJK.findall(sample)) / letters >= cjk_ratio:
            return "zh"
        if declared and declared not in ("zh", "ja", "ko"):
            return declared
        if sum(1 for c in sample if c.isascii() and c.isalpha()) / letters > 0.5:
            return "en"
    return declared or None


def _canonical(tree, url: str) -> str:
    """canonical_url of ``<link rel=canonical>`` when it stays on the page's host, else of ``url``."""
    page = canonical_url(url)
    if tree is None:
        return page
    for href in tree.xpath("//link[@rel='canonical']/@href")[:1]:
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

"""Scrapy spider middleware turning RAW PAGE items into DOCUMENT items.

A spider middleware rather than an item pipeline because one thread page fans
out into many post documents, and an item pipeline's ``process_item`` returns
exactly one item.
"""
from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import NotConfigured

from nlp.lang import detect as detect_language
from pipelines.canonical import content_hash, doc_id
from pipelines.extract.forum import thread_id_from_url
from pipelines.extract.article import ArticleConfig
from pipelines.extract.page import ExtractConfig, ExtractError, extract_page

logger = logging.getLogger(__name__)

_RAW_PAGE_KEYS = ("url", "body", "page_kind")


def is_raw_page(item: Any) -> bool:
    """RAW PAGE items are dicts carrying the raw body; everything else passes through."""
    return isinstance(item, dict) and all(key in item for key in _RAW_PAGE_KEYS)


def page_documents(page: dict, config: ExtractConfig, min_chars: int = 0,
                   min_post_chars: int = 1) -> tuple[list[dict], list[str]]:
    """DOCUMENT items for one RAW PAGE item, and the events met on the way (stats keys under
    ``extract/``: ``dropped/<reason>``, ``thread_as_article``)."""
    status = page.get("status") or 200
    if status >= 400:
        return [], ["dropped/http_status"]
    rules = dict(page.get("rules") or {})
    rules.setdefault("kind", "forum" if page.get("page_kind") == "thread" else "article")
    try:
        result = extract_page(page["body"], page["url"], page.get("headers"), rules,
                              page.get("crawled_at"), config)
    except ExtractError as exc:
        return [], [f"dropped/{exc.reason}"]
    base = {
        "canonical_url": result["canonical_url"],
        "source": page.get("source"),
        "source_kind": page.get("source_kind"),
        "site_name": result["site_name"],
        "crawled_at": page.get("crawled_at"),
    }
    if result["kind"] == "article":
        text = result["text"]
        if len(text) < min_chars:
            return [], ["dropped/boilerplate"]
        # a thread page whose posts no profile or detector found: one document, counted
        drops = ["thread_as_article"] if result.get("thread_fallback") else []
        return [{
            "id": doc_id(result["canonical_url"]), "url": page["url"], **base, "doc_type": "article",
            "title": result["title"], "text": text, "published": result["published"],
            "author": result["author"], "lang": result["lang"] or page.get("lang"),
            "content_hash": content_hash(text),
        }], drops
    if result["kind"] != "forum":
        return [], ["dropped/empty"]
    if not result["posts"]:
        return [], ["dropped/no_posts"]  # a thread page no forum profile understands: needs site rules
    documents, drops = [], []
    thread_id = page.get("thread_id") or thread_id_from_url(page["url"])
    for post in result["posts"]:
        text = post["text"]
        if not text.strip():
            drops.append("dropped/empty")  # quote-only or attachment-only post
            continue
        if len(text) < min_post_chars:
            drops.append("dropped/boilerplate")
            continue
        post_id = post["post_id"] or f"floor{post['floor']}"
        documents.append({
            "id": doc_id(result["canonical_url"], post_id), "url": f"{page['url'].split('#')[0]}#pid{post_id}",
            **base, "doc_type": "post", "title": result["title"], "text": text,
            "published": post["published"], "author": post["author"],
            "lang": detect_language(text, "", config.cjk_ratio) or result["lang"] or page.get("lang"),
            "content_hash": content_hash(text), "thread_id": thread_id,
            "thread_title": result["title"], "post_id": post_id, "floor": post["floor"],
            "quote": post["quote"], "reply_to": post["reply_to"],
        })
    return documents, drops


def _fraction(settings, name: str) -> float:
    """A setting that must lie in [0, 1]; anything else is a configuration error naming it."""
    value = settings.getfloat(name)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return value


class ExtractMiddleware:
    """Replaces each RAW PAGE item by its documents; requests and other items pass through."""

    def __init__(self, stats, config: ExtractConfig, min_chars: int, min_post_chars: int):
        self.stats = stats
        self.config = config
        self.min_chars = min_chars
        self.min_post_chars = min_post_chars

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("EXTRACT_ENABLED"):
            raise NotConfigured("EXTRACT_ENABLED is False")
        config = ExtractConfig(
            article=ArticleConfig(
                fallback=settings.getbool("EXTRACT_FALLBACK"),
                table_share=_fraction(settings, "EXTRACT_FALLBACK_TABLE_SHARE"),
                containment=_fraction(settings, "EXTRACT_FALLBACK_CONTAINMENT"),
                min_ratio=_fraction(settings, "EXTRACT_FALLBACK_MIN_RATIO"),
                default_tz=settings.get("EXTRACT_DEFAULT_TZ"),
            ),
            cjk_ratio=_fraction(settings, "EXTRACT_CJK_RATIO"),
        )
        return cls(crawler.stats, config, settings.getint("EXTRACT_MIN_CHARS"),
                   settings.getint("EXTRACT_MIN_POST_CHARS"))

    def process_spider_output(self, response, result):
        for item in result:
            yield from self._convert(item)

    async def process_spider_output_async(self, response, result):
        async for item in result:
            for output in self._convert(item):
                yield output

    def _convert(self, item):
        if not is_raw_page(item):
            yield item
            return
        try:
            documents, drops = page_documents(item, self.config, self.min_chars, self.min_post_chars)
        except Exception:  # an extraction bug must not swallow the requests that follow in this output
            logger.exception("extraction failed for %s", item.get("url"))
            documents, drops = [], ["dropped/internal_error"]
        for event in drops:
            self.stats.inc_value(f"extract/{event}")
            logger.info("%s: %s", event, item["url"])
        for document in documents:
            self.stats.inc_value(f"extract/documents/{document['doc_type']}")
            yield document

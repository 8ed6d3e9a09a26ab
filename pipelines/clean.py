"""Item pipeline normalising DOCUMENT items before NLP and indexing."""
from __future__ import annotations

import logging
import re
import unicodedata

from scrapy.exceptions import DropItem, NotConfigured

from pipelines.canonical import content_hash, is_document

logger = logging.getLogger(__name__)

# Zero-width and invisible format characters that break tokenisation and hashing.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"), None)
_INLINE_SPACE = re.compile(r"[^\S\n]+")  # any whitespace but newline, incl. U+3000 and NBSP
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(text: str | None) -> str:
    """NFC, invisible characters removed, space runs (full-width too) collapsed,
    lines stripped, blank lines dropped."""
    text = unicodedata.normalize("NFC", text or "").translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = (_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def clean_title(title: str | None, max_chars: int) -> str | None:
    """A title on one line, trimmed to ``max_chars``; None if empty."""
    title = " ".join(clean_text(title).split())
    if len(title) > max_chars:
        title = title[: max_chars - 1].rstrip() + "…"
    return title or None


class CleanPipeline:
    """Normalises text fields of document items; drops those left without text."""

    def __init__(self, stats, title_max_chars: int):
        self.stats = stats
        self.title_max_chars = title_max_chars

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("CLEAN_ENABLED"):
            raise NotConfigured("CLEAN_ENABLED is False")
        return cls(crawler.stats, settings.getint("CLEAN_TITLE_MAX_CHARS"))

    def process_item(self, item):
        if not is_document(item):
            return item
        text = clean_text(item.get("text"))
        if not text:
            self.stats.inc_value("clean/dropped/empty")
            logger.info("dropped empty document %s", item.get("url"))
            raise DropItem(f"empty text after cleaning: {item.get('url')}")
        if text != item.get("text"):
            item["text"] = text
            item["content_hash"] = content_hash(text)
        for key in ("title", "thread_title"):
            if key in item:
                item[key] = clean_title(item[key], self.title_max_chars)
        for key in ("author", "quote", "site_name"):
            if item.get(key):
                item[key] = clean_text(item[key]) or None
        # Time-filtered views need a date for every document: an undated page counts at its
        # crawl time, flagged, instead of vanishing from every timeline.
        item["published_estimated"] = not item.get("published")
        item["timeline_at"] = item.get("published") or item.get("crawled_at")
        return item

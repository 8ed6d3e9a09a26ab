"""Log lines for items that name the document instead of printing it.

Scrapy's default formatter prints the whole item for a dropped or failed
item: a crawl document with its text, figures and entities is hundreds of
lines, repeated for every item of a failed batch. These lines name the
document by id and URL instead. Items whose batch could be neither indexed nor
spooled (``pipelines.index.NotDelivered``) are logged once per batch by the
index stage, so each of them is only a DEBUG line here.
"""
from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy import logformatter


def describe(item: Any) -> str:
    """``document <id> (<url>)`` for a document item, else the item's type."""
    try:
        adapter = ItemAdapter(item)
    except TypeError:
        return type(item).__name__
    doc_id, url = adapter.get("id"), adapter.get("url")
    return f"document {doc_id} ({url})" if doc_id or url else f"{type(item).__name__} item"


class ConciseLogFormatter(logformatter.LogFormatter):
    def dropped(self, item, exception, response, spider) -> logformatter.LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        return {**result, "msg": "Dropped %(what)s: %(exception)s",
                "args": {"what": describe(item), "exception": exception}}

    def item_error(self, item, exception, response, spider) -> logformatter.LogFormatterResult:
        from pipelines.index import NotDelivered

        level = logging.DEBUG if isinstance(exception, NotDelivered) else logging.ERROR
        return {"level": level, "msg": "Error processing %(what)s", "args": {"what": describe(item)}}

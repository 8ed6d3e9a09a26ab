"""Item pipeline adding the NLP fields (nlp.Tagger) to document items before indexing.

The tagged text is ``title + "\\n" + text`` (``text`` alone without a title): headlines often
carry the platform and the figure ("亚马逊封号潮波及5万卖家") the body only paraphrases. Entity
and figure offsets therefore index into that joined string.

Settings: ``NLP_ENABLED`` (bool, default True), ``NLP_KEYWORDS`` (int, 10),
``NLP_RELEVANCE_THRESHOLD`` (float, 0.5), ``NLP_DROP_IRRELEVANT`` (bool, False: irrelevant
documents are indexed with ``relevant: false`` for Kibana to filter; True drops them),
``NLP_CACHE_DIR`` (jieba's prefix-dict cache directory; default the system temp directory).
"""
from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured

from nlp import Tagger

logger = logging.getLogger(__name__)

# item field -> entity type, for the flat keyword arrays Kibana aggregates on
TYPE_FIELDS = {
    "sellers": "seller", "associations": "association", "platforms": "platform",
    "governments": "government", "media": "media", "persons": "person", "locations": "location",
}
STORE_COUNTS = frozenset({"stores", "sellers", "accounts"})


def derived_fields(tagged: dict) -> dict:
    """Flat fields for aggregation: canonical names per type (first-mention order, no repeats),
    all names (``entity_names``), the largest money figure in CNY (``loss_cny``) and the largest
    count of stores, sellers or accounts (``stores_max``); None when there is none."""
    fields = {name: [] for name in TYPE_FIELDS}
    by_type = {etype: fields[name] for name, etype in TYPE_FIELDS.items()}
    for entity in tagged["entities"]:
        names = by_type[entity["type"]]
        if entity["name"] not in names:
            names.append(entity["name"])
    fields["entity_names"] = list(dict.fromkeys(e["name"] for e in tagged["entities"]))
    money = [f["value_cny"] for f in tagged["figures"] if f["kind"] == "money" and f["value_cny"] is not None]
    stores = [f["value"] for f in tagged["figures"] if f["kind"] == "count" and f["counted"] in STORE_COUNTS]
    fields["loss_cny"] = max(money, default=None)
    fields["stores_max"] = max(stores, default=None)
    return fields


class EnrichPipeline:
    """Tags each document item and adds the interface fields plus ``derived_fields``."""

    def __init__(self, tagger: Tagger, stats, relevance_threshold: float, drop_irrelevant: bool):
        self.tagger = tagger
        self.stats = stats
        self.relevance_threshold = relevance_threshold
        self.drop_irrelevant = drop_irrelevant

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("NLP_ENABLED", True):
            raise NotConfigured("NLP_ENABLED is off")
        tagger = Tagger(keywords=settings.getint("NLP_KEYWORDS", 10), cache_dir=settings.get("NLP_CACHE_DIR"))
        return cls(tagger, crawler.stats, settings.getfloat("NLP_RELEVANCE_THRESHOLD", 0.5),
                   settings.getbool("NLP_DROP_IRRELEVANT", False))

    def process_item(self, item):
        adapter = ItemAdapter(item)
        if "text" not in adapter:
            return item  # not a document (run bookkeeping items pass through)
        title, text = adapter.get("title") or "", adapter.get("text") or ""
        joined = f"{title}\n{text}" if title else text
        tagged = self.tagger.tag(joined, adapter.get("lang"), self.relevance_threshold)
        for key, value in {**tagged, **derived_fields(tagged)}.items():
            adapter[key] = value
        self.stats.inc_value("nlp/tagged")
        self.stats.inc_value("nlp/relevant" if tagged["relevant"] else "nlp/irrelevant")
        if self.drop_irrelevant and not tagged["relevant"]:
            logger.debug("dropped irrelevant document %s (relevance %s)", adapter.get("url"), tagged["relevance"])
            raise DropItem(f"not relevant (relevance {tagged['relevance']}): {adapter.get('url')}")
        return item

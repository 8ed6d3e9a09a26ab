"""Which concrete index each document of the ``<prefix>-docs`` alias is written to (``INDEX_PARTITION``).

- ``none`` (default): every document through the alias into its write index
  (``<prefix>-docs-v1``), as ``banwave es setup`` creates it.
- ``year``: each document by explicit name into ``<prefix>-docs-v<N>-<year>``, the
  year of ``timeline_at`` (``published``, else ``crawled_at``); every such index
  is created on first use behind the read alias, so search, reports, waves and
  Kibana read all years through ``<prefix>-docs`` unchanged. The template
  version stays in the name so that a mapping change can reindex year by year.

Document ids are deterministic and a re-crawl rewrites a document in place, so
before writing, the stored copies of the batch's ids are looked up in every
index behind the alias (an ``mget`` through an alias of several indices is an
error, so each is named). A document whose year changed (a date found or
corrected) is written to its new index and its copy in the old one deleted
once the write is acknowledged, so it never exists twice and never in neither.
An undated document whose text is unchanged stays where it is: its
``timeline_at`` is its first crawl's, not this one's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from elasticsearch import ApiError, Elasticsearch

import config

PARTITIONS = config.SETTING_RULES["INDEX_PARTITION"].choices
DATE_FIELDS = ("timeline_at", "published", "crawled_at")  # the year index's date, first one present


def stored_hashes(client: Elasticsearch, keys: list[tuple[str, str]], chunk: int) -> dict[tuple[str, str], str | None]:
    """The content_hash of each stored document among ``keys`` ((index or single-index alias, id)
    pairs, keyed as asked), read in real time; missing ones are left out."""
    stored: dict[tuple[str, str], str | None] = {}
    for start in range(0, len(keys), chunk):
        asked = keys[start:start + chunk]
        found = client.mget(docs=[{"_index": index, "_id": doc_id} for index, doc_id in asked],
                            source_includes=["content_hash"])["docs"]
        for key, doc in zip(asked, found, strict=True):  # mget answers in the order asked
            if doc.get("found"):  # a per-document error (shard unavailable) means: write it
                stored[key] = doc["_source"].get("content_hash")
    return stored


def year_of(doc: dict) -> int | None:
    """The year of the document's first readable date among DATE_FIELDS (its own offset's calendar)."""
    for name in DATE_FIELDS:
        value = doc.get(name)
        if value:
            try:
                return datetime.fromisoformat(str(value).replace("Z", "+00:00")).year
            except ValueError:
                continue
    return None


@dataclass
class Placement:
    """What to do with one document: write it to ``target`` (or not: an unchanged copy is there),
    then delete its copies in ``stale`` (older versions in other indices behind the alias)."""

    target: str
    write: bool
    stale: list[str] = field(default_factory=list)


@dataclass
class DocsLayout:
    """The indices behind the docs alias and where a document goes."""

    client: Elasticsearch
    alias: str           # <prefix>-docs
    base: str            # <prefix>-docs-v<N>: the write index of `none`, the stem of `year`'s indices
    partition: str = "none"

    def __post_init__(self):
        if self.partition not in PARTITIONS:
            raise ValueError(f"INDEX_PARTITION={self.partition!r} must be one of {', '.join(PARTITIONS)}")

    def indices(self) -> tuple[list[str], str | None]:
        """The concrete indices behind the alias (one request, every batch: another worker may have
        added a year) and its write index (None when there is none)."""
        response = self.client.indices.get_alias(name=self.alias)
        names = sorted(response.body)
        writers = [name for name in names if response.body[name]["aliases"][self.alias].get("is_write_index")]
        return names, writers[0] if writers else (names[0] if len(names) == 1 else None)

    def year_index(self, doc: dict) -> str | None:
        """``year``: the document's year index, None when it has no readable date."""
        year = year_of(doc)
        return f"{self.base}-{year:04d}" if year is not None else None

    def create(self, index: str) -> None:
        """Create a year index behind the read alias (mappings from the docs template, which matches
        ``<prefix>-docs-*``); an index another worker created meanwhile is only put behind the alias."""
        created = self.client.options(ignore_status=400).indices.create(
            index=index, aliases={self.alias: {}}, wait_for_active_shards="1")
        if created.meta.status == 400:
            error = created.body.get("error") if isinstance(created.body, dict) else None
            if not isinstance(error, dict) or error.get("type") != "resource_already_exists_exception":
                raise ApiError(str(error), created.meta, created.body)
            self.client.indices.put_alias(index=index, name=self.alias)

    def stored_copies(self, indices: list[str], ids: list[str], chunk: int) -> dict[str, dict[str, str | None]]:
        """For each id that is stored: {concrete index: its content_hash}, read from every index."""
        copies: dict[str, dict[str, str | None]] = {}
        keys = [(index, doc_id) for doc_id in dict.fromkeys(ids) for index in indices]
        for (index, doc_id), content_hash in stored_hashes(self.client, keys, chunk).items():
            copies.setdefault(doc_id, {})[index] = content_hash
        return copies

    def place(self, doc: dict, copies: dict[str, str | None], write_index: str | None,
              skip_unchanged: bool) -> Placement:
        """Where the document goes, given its stored copies; ValueError when ``year`` finds no date."""
        if self.partition == "year":
            target = self.year_index(doc)
            if target is None:
                raise ValueError(f"no date to choose its year index ({', '.join(DATE_FIELDS)} missing or unreadable)")
            same = [index for index, stored in copies.items() if stored == doc.get("content_hash")]
            if not doc.get("published") and same and target not in same:
                target = same[0]  # undated and unchanged: stays in its first crawl's year
            write_to, found_in = target, target
        else:
            write_to, found_in = self.alias, write_index  # through the alias into its write index
        unchanged = skip_unchanged and found_in in copies and copies[found_in] == doc.get("content_hash") \
            and doc.get("content_hash") is not None
        return Placement(write_to, not unchanged, sorted(index for index in copies if index != found_in))

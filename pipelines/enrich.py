"""Item pipeline adding the NLP fields (nlp.Tagger) to document items before indexing.

The tagged text is ``title + "\\n" + text`` (``text`` alone without a title): headlines often
carry the platform and the figure ("亚马逊封号潮波及5万卖家") the body only paraphrases. Entity
and figure offsets therefore index into that joined string.

Own text and context: a forum reply's title is its thread's, written by someone else. The
entity fields (``entities``, ``sellers`` …, ``entity_names``) and the figures of a reply hold
only what the post's own text names; names only its thread title gives go to ``context_sellers``,
``context_associations``, ``context_platforms``, ``context_governments`` and
``context_entity_names``, and the title's figures are left out (each reply would repeat them).
An article's title and a thread's opening post (floor 1, whose author wrote the title) are own text.

Settings: ``NLP_ENABLED`` (bool, default True), ``NLP_KEYWORDS`` (int, 10),
``NLP_RELEVANCE_THRESHOLD`` (float, 0.5), ``NLP_DROP_IRRELEVANT`` (bool, False: irrelevant
documents are indexed with ``relevant: false`` for Kibana to filter; True drops them),
``NLP_CACHE_DIR`` (jieba's prefix-dict cache directory; default the system temp directory),
``NLP_THREAD_CONTEXT`` (bool, True: forum posts inherit their thread's relevance).

Thread context: a reply ("总结得好，这帖可以结了。") says little alone, so a post's
``relevance`` is the larger of its own score and its thread's, the own score of the thread's
opening post (floor 1, title + text). Later pages of a thread may come in a later crawl run,
so the openers' scores are kept in SQLite under ``<data dir>/nlp/threads.sqlite``
(:class:`ThreadStore`), or with BANWAVE_REDIS_URL in Redis (:class:`RedisThreadStore`,
shared by the workers of every machine), keyed by source and thread id.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured

import config
from nlp import Tagger
from nlp.figure_roles import LOSS_ROLES
from pipelines.canonical import is_document
from pipelines.sqlite import open_store

logger = logging.getLogger(__name__)

# item field -> entity type, for the flat keyword arrays Kibana aggregates on
TYPE_FIELDS = {
    "sellers": "seller", "associations": "association", "platforms": "platform",
    "governments": "government", "media": "media", "persons": "person", "locations": "location",
}
CONTEXT_FIELDS = {"context_sellers": "seller", "context_associations": "association",
                  "context_platforms": "platform", "context_governments": "government"}
STORE_COUNTS = frozenset({"stores", "sellers", "accounts"})
_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    source TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    opener_id TEXT NOT NULL,       -- post_id of the floor-1 post the score comes from
    relevance REAL NOT NULL,       -- that post's own relevance
    PRIMARY KEY (source, thread_id)
);
"""


def derived_fields(tagged: dict, context_entities: list[dict] = ()) -> dict:
    """Flat fields for aggregation: canonical names per type (first-mention order, no repeats),
    all names (``entity_names``); the names only the context gives (``context_*``); the largest
    loss figure in CNY — money whose role is loss, frozen or fine, never sales or a subsidy —
    (``loss_cny``); the largest such figure that belongs to a named seller (``seller_loss_cny``,
    that seller in ``seller_loss_subject``); and the largest count of stores, sellers or
    accounts (``stores_max``); None when there is none."""
    fields = {name: [] for name in TYPE_FIELDS}
    by_type = {etype: fields[name] for name, etype in TYPE_FIELDS.items()}
    for entity in tagged["entities"]:
        names = by_type[entity["type"]]
        if entity["name"] not in names:
            names.append(entity["name"])
    fields["entity_names"] = list(dict.fromkeys(e["name"] for e in tagged["entities"]))
    own = set(fields["entity_names"])
    inherited = [e for e in context_entities if e["name"] not in own]
    for name, etype in CONTEXT_FIELDS.items():
        fields[name] = list(dict.fromkeys(e["name"] for e in inherited if e["type"] == etype))
    fields["context_entity_names"] = list(dict.fromkeys(e["name"] for e in inherited))
    losses = [f for f in tagged["figures"] if f["kind"] == "money" and f["role"] in LOSS_ROLES
              and f["value_cny"] is not None]
    seller_losses = [f for f in losses if f["scope"] == "seller" and f["subject"]]
    largest_seller_loss = max(seller_losses, key=lambda f: f["value_cny"], default=None)
    stores = [f["value"] for f in tagged["figures"] if f["kind"] == "count" and f["counted"] in STORE_COUNTS]
    fields["loss_cny"] = max((f["value_cny"] for f in losses), default=None)
    fields["seller_loss_cny"] = largest_seller_loss["value_cny"] if largest_seller_loss else None
    fields["seller_loss_subject"] = largest_seller_loss["subject"] if largest_seller_loss else None
    fields["stores_max"] = max(stores, default=None)
    return fields


def own_text_start(adapter: ItemAdapter, title: str) -> int:
    """Offset in ``title + "\\n" + text`` where the document's own text starts: after the title
    for a forum reply (the thread's title), 0 for articles and a thread's opening post."""
    if title and adapter.get("doc_type") == "post" and adapter.get("floor") != 1:
        return len(title) + 1
    return 0


class ThreadStore:
    """Relevance of forum threads' opening posts (SQLite, WAL, shared by processes and runs)."""

    def __init__(self, path: str | Path):
        self._db = open_store(path, _SCHEMA)
        self._lock = threading.Lock()

    def record_opener(self, source: str, thread_id: str, post_id: str, relevance: float) -> float:
        """Record a floor-1 post's own score and return the thread's.

        The first floor-1 post seen opens the thread and only it updates the score (re-crawled
        or edited): where floors are positions on the page, a later page starts at "floor 1"
        too and must not replace the opener.
        """
        with self._lock:
            self._db.execute(
                "INSERT INTO threads VALUES (?, ?, ?, ?) ON CONFLICT (source, thread_id) DO UPDATE "
                "SET relevance = excluded.relevance WHERE threads.opener_id = excluded.opener_id",
                (source, thread_id, post_id, relevance))
            return self._get(source, thread_id)

    def relevance(self, source: str, thread_id: str) -> float | None:
        """The thread's score, or None when its opening post has not been seen."""
        with self._lock:
            return self._get(source, thread_id)

    def _get(self, source: str, thread_id: str) -> float | None:
        row = self._db.execute("SELECT relevance FROM threads WHERE source = ? AND thread_id = ?",
                               (source, thread_id)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self._db.close()


class RedisThreadStore:
    """:class:`ThreadStore` in Redis, shared by the workers of every machine (BANWAVE_REDIS_URL).

    Keys under ``<prefix>:src:<source>:`` (beside the seen store's): ``opener`` (hash thread id ->
    post id of the post that opened it) and ``opener_relevance`` (hash thread id -> its score).
    One Lua script records an opener, so the first floor-1 post seen opens the thread on any worker.
    """

    # KEYS: opener hash, relevance hash; ARGV: thread id, post id, relevance. Returns the thread's score.
    _RECORD = """
local opener = redis.call('HGET', KEYS[1], ARGV[1])
if not opener then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  opener = ARGV[2]
end
if opener == ARGV[2] then redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) end
return redis.call('HGET', KEYS[2], ARGV[1])
"""

    def __init__(self, server, prefix: str):
        self.server, self.prefix = server, prefix
        self._record = server.register_script(self._RECORD)

    @classmethod
    def connect(cls, env: config.Env) -> "RedisThreadStore":
        from crawlers.frontier import connect

        return cls(connect(env), env.index_prefix)

    def _key(self, source: str, part: str) -> str:
        return f"{self.prefix}:src:{source}:{part}"

    def record_opener(self, source: str, thread_id: str, post_id: str, relevance: float) -> float:
        """Record a floor-1 post's own score and return the thread's (the rule of :class:`ThreadStore`)."""
        # repr: the shortest text that parses back to the same float
        score = self._record(keys=[self._key(source, "opener"), self._key(source, "opener_relevance")],
                             args=[thread_id, post_id, repr(float(relevance))])
        return float(score)

    def relevance(self, source: str, thread_id: str) -> float | None:
        """The thread's score, or None when its opening post has not been seen."""
        score = self.server.hget(self._key(source, "opener_relevance"), thread_id)
        return float(score) if score is not None else None

    def close(self) -> None:
        self.server.close()


_taggers: dict[tuple[int, str | None], Tagger] = {}
_taggers_lock = threading.Lock()


def shared_tagger(keywords: int, cache_dir: str | None) -> Tagger:
    """The process's Tagger for these NLP settings, built on first use.

    A `banwave worker` (and `banwave crawl --all`) runs one crawl per source and starts them again
    after idle spells; loading jieba's dictionary costs ~1-2 s of CPU each time. Sharing is safe
    because tagging is a pure function of (text, lang, threshold) and the settings the Tagger is
    built from: it changes nothing when it tags (tests/test_nlp_tagger.py checks the order of
    documents changes no output). The lock: APScheduler may open crawls from several threads."""
    key = (keywords, cache_dir)
    with _taggers_lock:
        if key not in _taggers:
            _taggers[key] = Tagger(keywords=keywords, cache_dir=cache_dir)
        return _taggers[key]


class EnrichPipeline:
    """Tags each document item and adds the interface fields plus ``derived_fields``."""

    def __init__(self, tagger: Tagger, stats, relevance_threshold: float, drop_irrelevant: bool,
                 threads: ThreadStore | RedisThreadStore | None = None):
        self.tagger = tagger
        self.stats = stats
        self.relevance_threshold = relevance_threshold
        self.drop_irrelevant = drop_irrelevant
        self.threads = threads

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("NLP_ENABLED"):
            raise NotConfigured("NLP_ENABLED is off")
        threads = None
        if settings.getbool("NLP_THREAD_CONTEXT"):
            env = config.crawl_env(settings)
            # With the shared frontier, a reply fetched on any machine finds its thread's opener.
            threads = (RedisThreadStore.connect(env) if env.redis_url
                       else ThreadStore(env.data_dir / "nlp" / "threads.sqlite"))
        tagger = shared_tagger(settings.getint("NLP_KEYWORDS"), settings.get("NLP_CACHE_DIR"))
        return cls(tagger, crawler.stats, settings.getfloat("NLP_RELEVANCE_THRESHOLD"),
                   settings.getbool("NLP_DROP_IRRELEVANT"), threads)

    def close_spider(self) -> None:
        if self.threads is not None:
            self.threads.close()

    def process_item(self, item):
        if not is_document(item):
            return item
        adapter = ItemAdapter(item)
        title, text = adapter.get("title") or "", adapter.get("text") or ""
        joined = f"{title}\n{text}" if title else text
        tagged = self.tagger.tag(joined, adapter.get("lang"), self.relevance_threshold)
        own_from = own_text_start(adapter, title)
        context = [e for e in tagged["entities"] if e["start"] < own_from]
        tagged["entities"] = [e for e in tagged["entities"] if e["start"] >= own_from]
        tagged["figures"] = [f for f in tagged["figures"] if f["start"] >= own_from]
        thread = self._thread_relevance(adapter, tagged["relevance"])
        if thread is not None and thread > tagged["relevance"]:
            if thread >= self.relevance_threshold and not tagged["relevant"]:
                self.stats.inc_value("nlp/relevant_by_thread")
            tagged["relevance"] = thread
            tagged["relevant"] = thread >= self.relevance_threshold
            tagged["relevance_reasons"] = [f"thread: {thread}"]  # the score is the opening post's
        for key, value in {**tagged, **derived_fields(tagged, context)}.items():
            adapter[key] = value
        self.stats.inc_value("nlp/tagged")
        self.stats.inc_value("nlp/relevant" if tagged["relevant"] else "nlp/irrelevant")
        if self.drop_irrelevant and not tagged["relevant"]:
            logger.debug("dropped irrelevant document %s (relevance %s)", adapter.get("url"), tagged["relevance"])
            raise DropItem(f"not relevant (relevance {tagged['relevance']}): {adapter.get('url')}")
        return item

    def _thread_relevance(self, adapter: ItemAdapter, own: float) -> float | None:
        """The post's thread's relevance (None: not a post, no thread id, opener not seen)."""
        thread_id = adapter.get("thread_id")
        if self.threads is None or adapter.get("doc_type") != "post" or not thread_id:
            return None
        source = adapter.get("source") or ""
        if adapter.get("floor") == 1:
            return self.threads.record_opener(source, str(thread_id), str(adapter.get("post_id") or ""), own)
        return self.threads.relevance(source, str(thread_id))

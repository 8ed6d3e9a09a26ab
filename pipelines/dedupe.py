"""Near-duplicate stories: one ``story_id`` for the same text published on several sites.

MinHash (Broder 1997) over the document's jieba tokens estimates the Jaccard
similarity of two token sets; two documents are the same story when it is at
least ``DEDUPE_THRESHOLD`` (0.5). Measured on the demo web (docs/indexing.md):
different articles on the same subject share at most 0.19 of their tokens, a
syndicated copy with another frame (source line, editor credit, a dropped or
added sentence, no headline, a repost's own lines) at least 0.61. SimHash was
tried first: on these 50–120-token texts framed copies were up to 14 bits from
the original while distinct articles came within 12, so no bit distance
separates them.
Translations are different texts and stay different stories.

Signatures live in SQLite under ``<data dir>/dedupe/`` (:class:`StoryStore`), or
with BANWAVE_REDIS_URL in Redis (:class:`RedisStoryStore`, shared by the workers of
every machine), shared by all sources and runs, so a copy found next week joins
this week's story. Candidates come from LSH banding (``DEDUPE_BANDS`` bands of the signature: a pair at
Jaccard 0.61 shares a band with probability 0.99, at 0.21 with 0.06) and are
confirmed on the whole signature. A story's id is the id of its first document;
a document keeps its story when re-crawled. Texts under ``DEDUPE_MIN_TOKENS``
tokens (forum replies such as "顶" or "同问") are too short to compare: they
are their own story.

Segmentation: the NLP stage (``pipelines.enrich.EnrichPipeline``) has already
loaded jieba's dictionary, with banwave's user dictionary and entity names, in
its ``Tagger``. In ``open_spider`` dedupe takes that Tagger's tokenizer from
the crawler's item pipelines instead of loading a second dictionary (which cost
0.5 s per crawl from jieba's cache, a few seconds without it). Only when the NLP
stage is off does dedupe build a Tagger of its own, so that token sets, and the
signatures stored across runs, come from the same dictionary either way.
"""
from __future__ import annotations

import hashlib
import logging
import random
import struct
import threading
from pathlib import Path

import jieba
import redis
from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

import config
from pipelines.canonical import is_document
from pipelines.sqlite import open_store

logger = logging.getLogger(__name__)

_PRIME = (1 << 61) - 1          # Mersenne prime for the universal hash family
_MAX_HASH = (1 << 32) - 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    doc_id TEXT PRIMARY KEY,
    story_id TEXT NOT NULL,
    signature BLOB NOT NULL        -- MinHash signature, uint32 big-endian
);
CREATE TABLE IF NOT EXISTS bands (
    band INTEGER NOT NULL,
    key INTEGER NOT NULL,          -- 63-bit hash of the band's signature values
    doc_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bands_lookup ON bands (band, key);
"""


def tokens(text: str, tokenizer: jieba.Tokenizer) -> set[str]:
    """Lower-cased jieba tokens that carry a letter, digit or ideograph (no spaces or punctuation)."""
    return {t.lower() for t in tokenizer.lcut(text) if any(c.isalnum() for c in t)}


class MinHasher:
    """``permutations`` seeded hash functions (a*x + b mod p), the same in every process."""

    def __init__(self, permutations: int, seed: int = 1):
        rng = random.Random(seed)
        self.params = [(rng.randrange(1, _PRIME), rng.randrange(0, _PRIME)) for _ in range(permutations)]

    def signature(self, words: set[str]) -> tuple[int, ...]:
        hashes = [int.from_bytes(hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest(), "big") for w in words]
        return tuple(min((a * h + b) % _PRIME & _MAX_HASH for h in hashes) for a, b in self.params)


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity: the share of equal signature positions."""
    return sum(x == y for x, y in zip(a, b)) / len(a)


def band_keys(signature: tuple[int, ...], bands: int) -> list[int]:
    rows = len(signature) // bands
    return [int.from_bytes(hashlib.blake2b(_pack(signature[i * rows:(i + 1) * rows]), digest_size=8).digest(),
                           "big") >> 1 for i in range(bands)]


def _pack(values: tuple[int, ...]) -> bytes:
    return struct.pack(f">{len(values)}I", *values)


def _unpack(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(blob) // 4}I", blob)


def nearest_story(signature: tuple[int, ...], candidates, threshold: float) -> str | None:
    """Story of the most similar candidate ``(story_id, signature)`` at or above the threshold
    (ties: smallest story id), whatever the candidates' order: every store decides alike."""
    best: tuple[float, str] | None = None
    for story_id, other in candidates:
        score = similarity(signature, other)
        if score >= threshold and (best is None or (-score, story_id) < (-best[0], best[1])):
            best = (score, story_id)
    return best[1] if best else None


class StoryStore:
    """Signatures of all documents seen, and their story ids (SQLite, WAL, shared by processes)."""

    def __init__(self, path: str | Path, threshold: float, bands: int):
        self.threshold, self.bands = threshold, bands
        self._db = open_store(path, _SCHEMA)
        self._lock = threading.Lock()

    def assign(self, doc_id: str, signature: tuple[int, ...]) -> tuple[str, bool]:
        """Record the document; return its story id and whether it joined another document's story."""
        with self._lock:
            # IMMEDIATE: another crawl process cannot add a copy between our lookup and insert.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT story_id FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()
                if row:  # re-crawled: same story as before, whatever its text became
                    story_id = row[0]
                else:
                    keys = band_keys(signature, self.bands)
                    story_id = self._nearest(signature, keys) or doc_id
                    self._db.execute("INSERT INTO docs VALUES (?, ?, ?)", (doc_id, story_id, _pack(signature)))
                    self._db.executemany("INSERT INTO bands VALUES (?, ?, ?)",
                                         [(i, key, doc_id) for i, key in enumerate(keys)])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return story_id, story_id != doc_id

    def _nearest(self, signature: tuple[int, ...], keys: list[int]) -> str | None:
        """Story of the nearest stored document sharing a band (``nearest_story``), or None."""
        candidates: dict[str, tuple[str, tuple[int, ...]]] = {}
        for band, key in enumerate(keys):
            for doc_id, story_id, blob in self._db.execute(
                    "SELECT d.doc_id, d.story_id, d.signature FROM bands b JOIN docs d USING (doc_id) "
                    "WHERE b.band = ? AND b.key = ?", (band, key)):
                candidates[doc_id] = (story_id, _unpack(blob))
        return nearest_story(signature, candidates.values(), self.threshold)

    def close(self) -> None:
        self._db.close()


class RedisStoryStore:
    """:class:`StoryStore` in Redis, shared by the workers of every machine (BANWAVE_REDIS_URL).

    Keys under the index prefix ``P``: ``P:dedupe:doc:<doc id>`` (hash: ``story``, ``sig`` the
    packed signature) and ``P:dedupe:band:<band>:<key>`` (set of the doc ids with that band key).
    ``assign`` is an optimistic transaction (WATCH the document's key and its band sets, read the
    candidates, MULTI/EXEC the insert, again if a watched key changed): two workers assigning
    near-duplicates at once share a band set, so one of them retries, finds the other's document
    and joins its story, as the second of them would in SQLite's serialised transactions.
    """

    def __init__(self, server, prefix: str, threshold: float, bands: int):
        self.server, self.prefix = server, prefix
        self.threshold, self.bands = threshold, bands

    @classmethod
    def connect(cls, env: config.Env, threshold: float, bands: int) -> "RedisStoryStore":
        from crawlers.frontier import connect

        return cls(connect(env), env.index_prefix, threshold, bands)

    def _doc_key(self, doc_id: str) -> str:
        return f"{self.prefix}:dedupe:doc:{doc_id}"

    def assign(self, doc_id: str, signature: tuple[int, ...]) -> tuple[str, bool]:
        """Record the document; return its story id and whether it joined another document's story."""
        doc_key = self._doc_key(doc_id)
        band_sets = [f"{self.prefix}:dedupe:band:{band}:{key:x}"
                     for band, key in enumerate(band_keys(signature, self.bands))]
        with self.server.pipeline() as txn:
            while True:
                try:
                    txn.watch(doc_key, *band_sets)
                    known = txn.hget(doc_key, "story")
                    if known is not None:  # re-crawled: same story as before, whatever its text became
                        story_id = known.decode()
                        break
                    story_id = self._nearest(signature, band_sets) or doc_id
                    txn.multi()
                    txn.hset(doc_key, mapping={"story": story_id, "sig": _pack(signature)})
                    for band_set in band_sets:
                        txn.sadd(band_set, doc_id)
                    txn.execute()
                    break
                except redis.WatchError:  # another worker added a document to one of our bands: decide again
                    continue
        return story_id, story_id != doc_id

    def _nearest(self, signature: tuple[int, ...], band_sets: list[str]) -> str | None:
        reads = self.server.pipeline(transaction=False)
        for band_set in band_sets:
            reads.smembers(band_set)
        doc_ids = sorted(set().union(*reads.execute()))
        for doc_id in doc_ids:
            reads.hmget(self._doc_key(doc_id.decode()), "story", "sig")
        candidates = [(story.decode(), _unpack(sig)) for story, sig in reads.execute()]
        return nearest_story(signature, candidates, self.threshold)

    def close(self) -> None:
        self.server.close()


def nlp_tokenizer(crawler) -> jieba.Tokenizer | None:
    """The tokenizer of the crawler's NLP stage (its EnrichPipeline's Tagger), or None when it has none."""
    from pipelines.enrich import EnrichPipeline

    enrich = crawler.get_item_pipeline(EnrichPipeline)
    return enrich.tagger.tokenizer if enrich is not None else None


class DedupePipeline:
    """Sets ``story_id`` on document items (item pipeline, after NLP, before indexing).

    ``tokenizer`` None: taken in ``open_spider`` from the crawler's NLP stage (``nlp_tokenizer``).
    """

    def __init__(self, store: StoryStore | RedisStoryStore, hasher: MinHasher, tokenizer: jieba.Tokenizer | None,
                 min_tokens: int, stats, crawler=None):
        self.store, self.hasher, self.tokenizer = store, hasher, tokenizer
        self.min_tokens = min_tokens
        self.stats = stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        config.check_settings(settings, "DEDUPE_")  # a bad value is an error (config.SettingError), never "off"
        if not settings.getbool("DEDUPE_ENABLED"):
            raise NotConfigured("DEDUPE_ENABLED is False")
        env = config.crawl_env(settings)
        threshold = settings.getfloat("DEDUPE_THRESHOLD")
        permutations, bands = settings.getint("DEDUPE_PERMUTATIONS"), settings.getint("DEDUPE_BANDS")
        # With the shared frontier, every machine's workers assign stories in one Redis store.
        store = (RedisStoryStore.connect(env, threshold, bands) if env.redis_url
                 else StoryStore(env.data_dir / "dedupe" / "stories.sqlite", threshold, bands))
        return cls(store, MinHasher(permutations), None, settings.getint("DEDUPE_MIN_TOKENS"), crawler.stats, crawler)

    def open_spider(self) -> None:
        if self.tokenizer is not None:
            return
        self.tokenizer = nlp_tokenizer(self.crawler)
        if self.tokenizer is not None:
            logger.debug("dedupe segments with the NLP stage's tokenizer")
            return
        # NLP stage off: the same dictionary as with it on (a Tagger of our own), not bare jieba.
        from pipelines.enrich import shared_tagger

        logger.info("dedupe: no NLP stage in this crawl, using the process's Tagger's dictionary for dedupe")
        settings = self.crawler.settings
        self.tokenizer = shared_tagger(settings.getint("NLP_KEYWORDS"), settings.get("NLP_CACHE_DIR")).tokenizer

    def close_spider(self) -> None:
        self.store.close()

    def signature(self, text: str) -> tuple[int, ...] | None:
        """The text's MinHash signature, or None when it has too few distinct tokens to compare."""
        words = tokens(text, self.tokenizer)
        return self.hasher.signature(words) if len(words) >= self.min_tokens else None

    def process_item(self, item):
        if not is_document(item):
            return item
        adapter = ItemAdapter(item)
        doc_id = adapter["id"]
        signature = self.signature(adapter.get("text") or "")
        if signature is None:
            adapter["story_id"] = doc_id
            self.stats.inc_value("dedupe/too_short")
            return item
        story_id, joined = self.store.assign(doc_id, signature)
        adapter["story_id"] = story_id
        if joined:
            self.stats.inc_value("dedupe/near_duplicate")
            logger.debug("document %s joins story %s", doc_id, story_id)
        return item

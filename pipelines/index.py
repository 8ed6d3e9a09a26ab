"""The index stage: document items into the ``<prefix>-docs`` alias, in batches, losing nothing.

``IndexPipeline`` (item pipeline, last) collects documents into batches of
``INDEX_BATCH_DOCS`` documents or ``INDEX_BATCH_BYTES`` bytes, whichever comes
first, or whatever arrived within ``INDEX_FLUSH_SECONDS``. A batch is sent by
one worker thread (the reactor keeps crawling) through
:class:`~pipelines.delivery.Delivery`: indexed, unchanged, spooled or
dead-lettered. An item's ``process_item`` returns only once its batch is on
one of those durable paths, so the page it came from is marked fetched
(crawlers.middlewares.MarkSeenMiddleware) only then: a crawl killed mid-batch
re-fetches those pages next time, and the deterministic ``_id`` makes the
re-send idempotent.

The spool is replayed when the pipeline opens, before the first new batch,
so older versions of a document never overwrite newer ones. With no
Elasticsearch configured the crawl still runs and spools everything after one
warning. The alias is created (``banwave es setup``) when it is missing.
"""
from __future__ import annotations

import json
import logging
import weakref
from datetime import datetime, timezone

from elasticsearch import ApiError, TransportError
from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import defer, threads
from twisted.python.threadpool import ThreadPool

import config
from pipelines.bulk import Action, BulkSender
from pipelines.canonical import is_document
from pipelines.delivery import Delivery
from pipelines.elastic import ElasticError, describe_error, load_template, make_client, setup_indices
from pipelines.partition import DocsLayout
from pipelines.spool import Spool

logger = logging.getLogger(__name__)


class NotDelivered(RuntimeError):
    """A document's batch could be neither indexed nor spooled (its page stays unrecorded)."""


_deliveries: "weakref.WeakKeyDictionary[object, Delivery]" = weakref.WeakKeyDictionary()


def crawler_delivery(crawler) -> Delivery:
    """The crawl's one Delivery, shared by IndexPipeline and RunRecorder: one "down" state, one warning."""
    if crawler not in _deliveries:
        _deliveries[crawler] = build_delivery(crawler.settings, config.crawl_env(crawler.settings))
    return _deliveries[crawler]


def build_delivery(settings, env: config.Env) -> Delivery:
    """Delivery for the INDEX_* settings: a BulkSender when an Elasticsearch URL is set, else spool only."""
    sender = None
    if env.es_url:
        # BulkSender retries with backoff and spools after the last attempt, so the transport waits for
        # nothing itself: with several nodes, a request that cannot reach one goes at once to another
        # (up to every other node once), and 429/5xx answers are left to streaming_bulk's retries.
        client = make_client(env, max_retries=len(env.es_urls) - 1, retry_on_status=(), retry_on_timeout=False)
        layout = DocsLayout(client, env.docs_alias, load_template("docs", env.index_prefix).concrete_index,
                            settings.get("INDEX_PARTITION"))
        sender = BulkSender(client, chunk_docs=settings.getint("INDEX_BATCH_DOCS"),
                            chunk_bytes=settings.getint("INDEX_BATCH_BYTES"),
                            max_retries=settings.getint("INDEX_MAX_RETRIES"),
                            initial_backoff=settings.getfloat("INDEX_INITIAL_BACKOFF"),
                            max_backoff=settings.getfloat("INDEX_MAX_BACKOFF"),
                            skip_unchanged=settings.getbool("INDEX_SKIP_UNCHANGED"), layout=layout)
    return Delivery(sender, Spool(env.data_dir), pause=settings.getfloat("INDEX_DOWN_PAUSE"))


class _Batch:
    def __init__(self):
        self.actions: list[Action] = []
        self.waiters: list[defer.Deferred] = []
        self.bytes = 0


class IndexPipeline:
    """Bulk-indexes document items; spools them when Elasticsearch cannot take them."""

    def __init__(self, crawler, env: config.Env, delivery: Delivery, batch_docs: int, batch_bytes: int,
                 flush_seconds: float, replay_on_open: bool):
        self.crawler, self.stats = crawler, crawler.stats
        self.env, self.delivery = env, delivery
        self.alias = env.docs_alias
        self.batch_docs, self.batch_bytes, self.flush_seconds = batch_docs, batch_bytes, flush_seconds
        self.replay_on_open = replay_on_open
        self._batch = _Batch()
        self._timer = None
        self._sending: defer.Deferred = defer.succeed(None)  # the chain of batches, one at a time
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="banwave-index")
        from twisted.internet import reactor  # the running one; importing it at module level would install one
        self._reactor = reactor

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        config.check_settings(settings, "INDEX_")  # a bad value is an error, never "off"
        if not settings.getbool("INDEX_ENABLED"):
            raise NotConfigured("INDEX_ENABLED is False")
        return cls(crawler, config.crawl_env(settings), crawler_delivery(crawler), settings.getint("INDEX_BATCH_DOCS"),
                   settings.getint("INDEX_BATCH_BYTES"), settings.getfloat("INDEX_FLUSH_SECONDS"),
                   settings.getbool("INDEX_REPLAY_ON_OPEN"))

    # ------------------------------------------------------------------ lifecycle

    async def open_spider(self) -> None:
        self._pool.start()
        if self.delivery.sender is None:
            logger.warning("BANWAVE_ES_URL is not set: this crawl indexes nothing and spools every document to %s; "
                           "set it and run `banwave index replay`", self.delivery.spool.path)
            return
        await maybe_deferred_to_future(threads.deferToThreadPool(self._reactor, self._pool, self._prepare))

    def _prepare(self) -> None:
        """Create the alias if needed, then replay what earlier runs spooled."""
        client = self.delivery.sender.client
        try:
            if not client.indices.exists_alias(name=self.alias):
                for line in setup_indices(client, self.env.index_prefix, self.crawler.settings):
                    logger.info("%s", line)
        except ElasticError as exc:  # refused: batches will be spooled with the reason
            logger.warning("cannot set up %s now: %s", self.alias, exc)
        except (ApiError, TransportError) as exc:  # unreachable: no replay, spool without waiting
            self.delivery.mark_down(describe_error(exc))
            return
        if self.replay_on_open and self.delivery.spool.count():
            result = self.delivery.replay(self.batch_docs)
            logger.info("spool replayed: %s sent, %s unchanged, %s dead-lettered, %s unreadable, %s left",
                        result.sent, result.unchanged, result.dead_lettered, result.unreadable, result.left)
            self.stats.set_value("index/replayed", result.sent + result.unchanged)

    async def close_spider(self) -> None:
        self._flush()
        await maybe_deferred_to_future(self._sending)
        self._pool.stop()
        spooled = self.stats.get_value("index/spooled", 0)
        if spooled and self.delivery.sender is not None:
            logger.warning("%s document(s) of this crawl are in the spool %s; `banwave index replay` sends them",
                           spooled, self.delivery.spool.path)

    # ------------------------------------------------------------------ items

    async def process_item(self, item):
        if not is_document(item):
            return item
        adapter = ItemAdapter(item)
        doc = adapter.asdict()
        doc["indexed_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        size = len(json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8"))
        waiter: defer.Deferred = defer.Deferred()
        batch = self._batch
        batch.actions.append((self.alias, doc["id"], doc))
        batch.waiters.append(waiter)
        batch.bytes += size
        if len(batch.actions) >= self.batch_docs or batch.bytes >= self.batch_bytes:
            self._flush()
        elif self._timer is None:
            self._timer = self._reactor.callLater(self.flush_seconds, self._flush)
        await maybe_deferred_to_future(waiter)  # durable: indexed, unchanged, spooled or dead-lettered
        return item

    def _flush(self) -> None:
        if self._timer is not None:
            if self._timer.active():
                self._timer.cancel()
            self._timer = None
        batch, self._batch = self._batch, _Batch()
        if batch.actions:
            self._sending.addCallback(lambda _: self._send(batch))

    def _send(self, batch: _Batch) -> defer.Deferred:
        d = threads.deferToThreadPool(self._reactor, self._pool, self.delivery.deliver, batch.actions)
        d.addCallbacks(lambda outcome: self._done(batch, outcome), lambda failure: self._failed(batch, failure))
        return d

    def _done(self, batch: _Batch, outcome) -> None:
        counts = {"indexed": outcome.indexed, "unchanged": outcome.unchanged, "spooled": outcome.transient,
                  "dead_lettered": outcome.permanent}
        for name, actions in counts.items():
            if actions:
                self.stats.inc_value(f"index/{name}", len(actions))
        for waiter in batch.waiters:
            waiter.callback(None)

    def _failed(self, batch: _Batch, failure) -> None:
        """Neither indexed nor spooled (the disk failed): the items fail, their pages stay unrecorded,
        and the crawl stops, since nothing more it fetches could be kept either."""
        first = not self.stats.get_value("index/lost_batches")
        self.stats.inc_value("index/lost_batches")
        logger.error("a batch of %s document(s) could not be indexed nor spooled (%s)%s", len(batch.actions),
                     failure.getErrorMessage(), "; the crawl stops, its pages are fetched again next run" if first else "")
        error = NotDelivered(failure.getErrorMessage())
        for waiter in batch.waiters:
            waiter.errback(error)
        if first:
            deferred_from_coro(self._close_crawl())

    async def _close_crawl(self) -> None:
        try:
            await self.crawler.engine.close_spider_async(reason="index_failed")
        except RuntimeError:  # the batch failed while the crawl was closing anyway
            pass

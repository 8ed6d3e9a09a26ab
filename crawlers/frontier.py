"""The shared crawl frontier in Redis: many ``banwave worker`` processes crawl the same sources.

Only with ``BANWAVE_REDIS_URL`` (config.crawl_settings then makes
:class:`FrontierScheduler` Scrapy's scheduler). Built on scrapy-redis: its
``Scheduler`` (enqueue through a Redis duplicate filter, dequeue from a Redis
queue) and its ``RFPDupeFilter``, with a reliable queue of our own in place of
its ``FifoQueue``, which pops requests and loses those of a worker that dies.

Keys, all under the index prefix ``P`` (one Redis can serve several deployments)::

    P:active                       set: sources with queued, seeded or taken requests
    P:src:S:requests               sorted set: queued requests of source S, lowest score taken first
    P:src:S:pushed                 counter of S's pushes (the order within a priority)
    P:src:S:seeds                  list: run ids the producer pushed; a worker turns one into S's start requests
    P:src:S:dupefilter             set: fingerprints of the current run's requests (scrapy-redis)
    P:src:S:taken:W                list: S's requests that worker W took and has not acknowledged
    P:src:S:takers                 set: workers with a non-empty taken list for S
    P:worker:W                     heartbeat of worker W, expiring FRONTIER_LEASE_SECONDS after the last one

Requests keep Scrapy's priority across workers: a queued entry is ``"<score> <pickled
request>"`` with score ``-priority * 2**32 + push number``, so a higher priority is
served first (a redirect's +2 before its siblings, a retry's -1 after) and equal
priorities in the order they were pushed (FIFO, breadth-first). Taking a request
moves its entry atomically (``ZPOPMIN``, ``LPUSH``) from the queue to the worker's
taken list. It is acknowledged (removed from there) once its page is finished:
the callback's output exhausted and every item from it handed on (indexed or
spooled: ``REQUEST_HANDLED`` from crawlers.middlewares.MarkSeenMiddleware), its
errback ran, or the request that replaces it (a retry, a redirect) is queued.
A worker whose heartbeat expired (killed, hung reactor, lost machine) is dead:
any worker moves its taken requests back to the queue (:meth:`Frontier.reclaim`)
with the score they had, so another serves them before what was pushed after
them at their priority. A worker that stops cleanly puts back its own.
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import deque

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import Base as RedisQueueBase
from scrapy_redis.scheduler import Scheduler as RedisScheduler

import config

logger = logging.getLogger(__name__)

REQUEST_HANDLED = object()
"""Signal (argument ``request``): the request's page or failure was handled; its lease can go."""

# This process's worker id: host, pid and a random part, so a restarted worker never inherits a dead one's lists.
WORKER_ID = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

_PRIORITY_SPAN = 2 ** 20  # |priority| is capped here, so a score stays an exact integer in a double
_PUSH = """
local score = -tonumber(ARGV[1]) * 4294967296 + redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], score, string.format('%.0f', score) .. ' ' .. ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
"""
_TAKE = """
local popped = redis.call('ZPOPMIN', KEYS[1])
if not popped[1] then return false end
redis.call('LPUSH', KEYS[2], popped[1])
redis.call('SADD', KEYS[3], ARGV[1])
return popped[1]
"""
_ACK = """
local n = redis.call('LREM', KEYS[1], 1, ARGV[1])
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return n
"""
# Give back a taken list (KEYS[1]) to the queue (KEYS[2]), each entry with the score it was queued with;
# with ARGV[3] == '1' only if the worker's heartbeat (KEYS[5]) expired. Returns the number moved, -1 if
# the worker lives.
_GIVE_BACK = """
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[5]) == 1 then return -1 end
local n = 0
local entry = redis.call('RPOP', KEYS[1])
while entry do
  redis.call('ZADD', KEYS[2], tonumber(string.sub(entry, 1, string.find(entry, ' ', 1, true) - 1)), entry)
  n = n + 1
  entry = redis.call('RPOP', KEYS[1])
end
redis.call('SREM', KEYS[3], ARGV[1])
if n > 0 then redis.call('SADD', KEYS[4], ARGV[2]) end
return n
"""
# A new run of a source (the producer): only when nothing of the last run is queued, seeded or taken;
# its duplicate filter and push counter start anew. Returns 1 if seeded, 0 if the source is still busy.
_SEED = """
if redis.call('ZCARD', KEYS[1]) > 0 or redis.call('LLEN', KEYS[2]) > 0 or redis.call('SCARD', KEYS[3]) > 0 then
  return 0
end
redis.call('DEL', KEYS[4], KEYS[6])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[5], ARGV[1])
return 1
"""
# A source without queued, seeded or taken requests leaves the active set.
_SETTLE = """
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('LLEN', KEYS[2]) == 0 and redis.call('SCARD', KEYS[3]) == 0 then
  redis.call('SREM', KEYS[4], ARGV[1])
  return 1
end
return 0
"""


def connect(env: config.Env) -> redis.Redis:
    """A client for BANWAVE_REDIS_URL (bytes replies: queued requests are pickles)."""
    if not env.redis_url:
        raise config.ConfigError("BANWAVE_REDIS_URL is not set")
    return redis.Redis.from_url(env.redis_url, socket_timeout=30, socket_connect_timeout=10,
                                health_check_interval=30)


class Frontier:
    """The Redis keys of one deployment (index prefix) and the atomic operations on them."""

    def __init__(self, server: redis.Redis, prefix: str, worker: str = WORKER_ID):
        self.server, self.prefix, self.worker = server, prefix, worker
        self._push = server.register_script(_PUSH)
        self._take = server.register_script(_TAKE)
        self._ack = server.register_script(_ACK)
        self._give_back = server.register_script(_GIVE_BACK)
        self._seed = server.register_script(_SEED)
        self._settle = server.register_script(_SETTLE)

    # keys
    @property
    def active_key(self) -> str:
        return f"{self.prefix}:active"

    def key(self, source: str, part: str) -> str:
        return f"{self.prefix}:src:{source}:{part}"

    def taken_key(self, source: str, worker: str | None = None) -> str:
        return self.key(source, f"taken:{worker or self.worker}")

    def heartbeat_key(self, worker: str | None = None) -> str:
        return f"{self.prefix}:worker:{worker or self.worker}"

    # the worker's lease
    def heartbeat(self, lease_seconds: float) -> None:
        self.server.set(self.heartbeat_key(), str(time.time()), px=max(1, int(lease_seconds * 1000)))

    def retire(self) -> None:
        self.server.delete(self.heartbeat_key())

    # requests
    def push(self, source: str, raw: bytes, priority: int = 0) -> None:
        """Queue a request (higher ``priority`` first, then in push order)."""
        priority = max(-_PRIORITY_SPAN, min(_PRIORITY_SPAN, int(priority)))
        self._push(keys=[self.key(source, "requests"), self.key(source, "pushed"), self.active_key],
                   args=[priority, raw, source])

    def take(self, source: str) -> bytes | None:
        """The next queued entry, now in this worker's taken list (``payload`` gives the request), or None."""
        return self._take(keys=[self.key(source, "requests"), self.taken_key(source), self.key(source, "takers")],
                          args=[self.worker])

    @staticmethod
    def payload(entry: bytes) -> bytes:
        """The pickled request of a taken entry (after its score)."""
        return entry.split(b" ", 1)[1]

    def ack(self, source: str, entry: bytes) -> bool:
        return bool(self._ack(keys=[self.taken_key(source), self.key(source, "takers")], args=[entry, self.worker]))

    def give_back(self, source: str, worker: str | None = None, only_if_dead: bool = False) -> int:
        """Move a worker's taken requests of ``source`` back to the queue; -1 if it still lives."""
        worker = worker or self.worker
        return self._give_back(keys=[self.taken_key(source, worker), self.key(source, "requests"),
                                     self.key(source, "takers"), self.active_key, self.heartbeat_key(worker)],
                               args=[worker, source, "1" if only_if_dead else "0"])

    def reclaim(self, sources: list[str] | None = None) -> int:
        """Give back the taken requests of every dead worker (for ``sources``, default the active ones)."""
        moved = 0
        for source in sources if sources is not None else self.active_sources():
            for worker in self.server.smembers(self.key(source, "takers")):
                worker = worker.decode()
                if worker == self.worker:
                    continue
                n = self.give_back(source, worker, only_if_dead=True)
                if n > 0:
                    logger.warning("source %s: worker %s stopped renewing its lease: %d request(s) it took are "
                                   "queued again", source, worker, n)
                    moved += n
        return moved

    def queued(self, source: str) -> int:
        return self.server.zcard(self.key(source, "requests"))

    def active_sources(self) -> list[str]:
        return sorted(s.decode() for s in self.server.smembers(self.active_key))

    # runs
    def seed(self, source: str, run_id: str) -> bool:
        """Start a run of ``source``: a worker will push its start requests. False while its last run lasts."""
        return bool(self._seed(keys=[self.key(source, "requests"), self.key(source, "seeds"),
                                     self.key(source, "takers"), self.key(source, "dupefilter"), self.active_key,
                                     self.key(source, "pushed")], args=[source, run_id]))

    def next_seed(self, source: str, lease_seconds: float) -> str | None:
        """A run seed of ``source`` this worker may turn into start requests (claimed for a lease), or None."""
        seed = self.server.lindex(self.key(source, "seeds"), 0)
        if seed is None or not self.server.set(self.key(source, "seeding"), self.worker, nx=True,
                                               px=max(1, int(lease_seconds * 1000))):
            return None
        return seed.decode()

    def seeded(self, source: str, run_id: str) -> None:
        """The run's start requests are queued: drop its seed (a worker dying before this leaves it for another)."""
        pipe = self.server.pipeline()
        pipe.lrem(self.key(source, "seeds"), 1, run_id)
        pipe.delete(self.key(source, "seeding"))
        pipe.execute()

    def settle(self, source: str) -> bool:
        """Remove ``source`` from the active set if it has nothing queued, seeded or taken."""
        return bool(self._settle(keys=[self.key(source, "requests"), self.key(source, "seeds"),
                                       self.key(source, "takers"), self.active_key], args=[source]))

    def busy(self, source: str) -> bool:
        pipe = self.server.pipeline()
        pipe.zcard(self.key(source, "requests"))
        pipe.llen(self.key(source, "seeds"))
        pipe.scard(self.key(source, "takers"))
        return any(pipe.execute())


class LeasedQueue(RedisQueueBase):
    """scrapy-redis's queue interface over :class:`Frontier`: ``pop`` takes under the worker's lease.

    The raw entry of each taken request is kept here, keyed by a number in the request's meta
    (``frontier_entry``), until it is acknowledged; a request copied from it (retry, redirect)
    carries the number, and pushing the copy acknowledges the original.
    """

    def __init__(self, server, spider, key, serializer=None, frontier: Frontier | None = None):
        super().__init__(server, spider, key, serializer)
        self.frontier, self.source = frontier, spider.source.name
        self.taken: dict[int, bytes] = {}
        self._next_entry = 0

    def __len__(self) -> int:
        return self.frontier.queued(self.source)

    def push(self, request) -> None:
        replaced = request.meta.pop("frontier_entry", None)
        self.frontier.push(self.source, self._encode_request(request), request.priority)
        if replaced is not None:
            self.ack_entry(replaced)

    def pop(self, timeout: int = 0):
        entry = self.frontier.take(self.source)
        if entry is None:
            return None
        request = self._decode_request(Frontier.payload(entry))
        self._next_entry += 1
        self.taken[self._next_entry] = entry
        request.meta["frontier_entry"] = self._next_entry
        return request

    def ack_entry(self, entry: int) -> None:
        taken = self.taken.pop(entry, None)
        if taken is not None:
            self.frontier.ack(self.source, taken)

    def clear(self) -> None:
        raise RuntimeError("the shared frontier is never cleared by one worker")


class FrontierScheduler(RedisScheduler):
    """scrapy-redis's Scheduler on the shared frontier of the crawl's source, with leases.

    Also keeps the worker alive in Redis (heartbeat), gives back dead workers' requests, turns
    run seeds into the spider's start requests, and wakes the engine when requests arrive while
    it idles (Scrapy looks at an idle scheduler only every 5 s). The spider stays open while its
    source has work anywhere, and closes after FRONTIER_IDLE_CLOSE_SECONDS without.
    """

    def __init__(self, crawler, frontier: Frontier, lease: float, poll: float, idle_close: float):
        super().__init__(frontier.server, persist=True, serializer=None)
        self.crawler, self.frontier = crawler, frontier
        self.lease, self.poll, self.idle_close = lease, poll, idle_close
        self.stats = crawler.stats
        self._local: deque = deque()    # taken here and handed to the engine by engine.crawl (wake-up)
        self._injecting = None
        self._idle_since: float | None = None
        self._loop = None
        self._seeding = False

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        config.check_settings(settings, "FRONTIER_")
        env = config.crawl_env(settings)
        if not env.redis_url:
            raise NotConfigured("FrontierScheduler needs BANWAVE_REDIS_URL")
        server = connect(env)
        server.ping()
        scheduler = cls(crawler, Frontier(server, env.index_prefix), settings.getfloat("FRONTIER_LEASE_SECONDS"),
                        settings.getfloat("FRONTIER_POLL_SECONDS"), settings.getfloat("FRONTIER_IDLE_CLOSE_SECONDS"))
        crawler.signals.connect(scheduler._handled, signal=REQUEST_HANDLED)
        crawler.signals.connect(scheduler._handled, signal=signals.request_dropped)  # e.g. a redirect to a duplicate
        crawler.signals.connect(scheduler._spider_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider) -> None:
        self.spider = spider
        source = spider.source.name
        self.queue = LeasedQueue(self.server, spider, self.frontier.key(source, "requests"), frontier=self.frontier)
        self.df = RFPDupeFilter(self.server, key=self.frontier.key(source, "dupefilter"),
                                debug=self.crawler.settings.getbool("DUPEFILTER_DEBUG"))
        self.frontier.heartbeat(self.lease)
        from twisted.internet import task

        self._loop = task.LoopingCall(self._tick)
        self._loop.start(self.poll, now=True).addErrback(self._tick_failed)

    def close(self, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        source = self.spider.source.name
        self.queue.taken.clear()
        put_back = self.frontier.give_back(source)  # what this worker took and did not finish (stop, cancel)
        if put_back:
            logger.info("source %s: %d request(s) taken by this worker and not finished are queued again",
                        source, put_back)
        self.frontier.settle(source)

    def enqueue_request(self, request) -> bool:
        if request is self._injecting:  # already taken (wake-up): keep it here
            self._local.append(request)
            return True
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self):
        request = self._local.popleft() if self._local else self.queue.pop()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        return bool(self._local) or super().has_pending_requests()

    # ------------------------------------------------------------------ acknowledgement

    def _handled(self, request) -> None:
        entry = request.meta.get("frontier_entry")
        if entry is not None:
            self.queue.ack_entry(entry)

    # ------------------------------------------------------------------ the poll

    def _tick(self) -> None:
        source = self.spider.source.name
        self.frontier.heartbeat(self.lease)
        self.frontier.reclaim([source])
        if not self._seeding:
            run_id = self.frontier.next_seed(source, self.lease)
            if run_id is not None:
                self._seeding = True
                deferred_from_coro(self._seed(run_id))
        if not self._local and self.frontier.queued(source):
            request = self.queue.pop()
            if request is not None:  # hand it to the engine: engine.crawl also restarts its fetch loop
                self._injecting = request
                try:
                    self.crawler.engine.crawl(request)
                finally:
                    self._injecting = None

    async def _seed(self, run_id: str) -> None:
        """Queue the start requests of run ``run_id`` (through the duplicate filter), then drop its seed."""
        source = self.spider.source.name
        try:
            count = 0
            async for request in self.spider.start_points():
                self.crawler.engine.crawl(request)
                count += 1
            self.frontier.seeded(source, run_id)
            logger.info("source %s: run %s seeded with %d start request(s)", source, run_id, count)
        finally:
            self._seeding = False

    def _tick_failed(self, failure) -> None:
        logger.error("frontier poll of source %s stopped: %s", self.spider.source.name, failure.getErrorMessage())
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="frontier_failed"))

    def _spider_idle(self) -> None:
        """Keep the spider open while its source has work anywhere, or for the idle grace after."""
        source = self.spider.source.name
        if self.frontier.busy(source) or self._seeding:
            self._idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        self._idle_since = self._idle_since or now
        if now - self._idle_since < self.idle_close:
            raise DontCloseSpider
        self.frontier.settle(source)



def seed_runs(env: config.Env, sources: list[str]) -> dict[str, str | None]:
    """The producer's step (``banwave schedule``, ``banwave crawl`` with Redis): seed a run of each
    source; source -> its run id, or None when its last run still has work (runs never overlap)."""
    from datetime import datetime, timezone

    frontier = Frontier(connect(env), env.index_prefix)
    try:
        seeded = {}
        for source in sources:
            run_id = f"{source}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
            seeded[source] = run_id if frontier.seed(source, run_id) else None
        return seeded
    finally:
        frontier.server.close()

"""The shared frontier's parts against a real redis-server: leases, reclaim, seeds, politeness slots,
the shared seen-state, and BANWAVE_REDIS_URL's validation."""
from __future__ import annotations

import time

import pytest

import config
from crawlers.frontier import Frontier
from crawlers.politeness import SiteLimiter, site_of
from crawlers.state import RedisSeenStore

pytestmark = pytest.mark.slow  # each test starts a redis-server


def frontier(server, worker: str) -> Frontier:
    return Frontier(server.client(), "t", worker)


def taken(f: Frontier, source: str = "src") -> bytes | None:
    """The request a worker takes next (its pickled bytes), or None."""
    entry = f.take(source)
    return None if entry is None else Frontier.payload(entry)


def test_taken_request_is_served_again_only_after_its_worker_stops_renewing_its_lease(redis_server):
    a, b = frontier(redis_server, "a"), frontier(redis_server, "b")
    a.heartbeat(0.3)
    b.heartbeat(30)
    for raw in (b"r1", b"r2", b"r3"):
        a.push("src", raw)
    first = a.take("src")
    assert Frontier.payload(first) == b"r1" and taken(a) == b"r2"
    assert a.queued("src") == 1
    assert a.ack("src", first) and not a.ack("src", first)   # acknowledged once
    assert b.reclaim(["src"]) == 0, "a lives: nothing of its is taken from it"
    time.sleep(0.4)                                           # a's lease ran out (killed)
    assert b.reclaim(["src"]) == 1
    assert taken(b) == b"r2", "the request a took and never finished is served again, first"
    assert taken(b) == b"r3" and b.take("src") is None
    assert redis_server.client().smembers("t:src:src:takers") == {b"b"}


def test_clean_stop_gives_back_own_requests_and_source_settles_when_empty(redis_server):
    a = frontier(redis_server, "a")
    a.heartbeat(30)
    a.push("src", b"r1")
    assert taken(a) == b"r1"
    assert not a.settle("src") and a.busy("src"), "taken, not finished: the source still has work"
    assert a.give_back("src") == 1
    entry = a.take("src")
    assert Frontier.payload(entry) == b"r1" and a.ack("src", entry)
    assert a.settle("src") and a.active_sources() == [] and not a.busy("src")


def test_priorities_hold_across_workers_and_survive_a_dead_worker(redis_server):
    a, b = frontier(redis_server, "a"), frontier(redis_server, "b")
    a.heartbeat(0.3)
    b.heartbeat(30)
    for raw, priority in ((b"page1", 0), (b"retry", -1), (b"page2", 0), (b"redirect", 2), (b"page3", 0)):
        (a if raw != b"page2" else b).push("src", raw, priority)
    assert taken(a) == b"redirect" and taken(b) == b"page1" and taken(a) == b"page2"
    b.push("src", b"page4", 0)
    time.sleep(0.4)                                           # a dies holding redirect and page2
    assert b.reclaim(["src"]) == 2
    order = [taken(b) for _ in range(5)]
    assert order == [b"redirect", b"page2", b"page3", b"page4", b"retry"], "by priority, then as pushed"
    assert b.take("src") is None
    # identical requests (dont_filter) are queued twice, not merged
    b.push("src", b"same")
    b.push("src", b"same")
    assert b.queued("src") == 2


def test_scrapy_request_priority_is_kept_through_the_leased_queue(redis_server):
    from scrapy import Request, Spider

    from crawlers.frontier import LeasedQueue

    class Source:
        name = "src"

    spider = Spider(name="probe")
    spider.source = Source()
    f = frontier(redis_server, "a")
    f.heartbeat(30)
    queue = LeasedQueue(f.server, spider, f.key("src", "requests"), frontier=f)
    for url, priority in (("http://x/1", 0), ("http://x/retry", -1), ("http://x/2", 0), ("http://x/moved", 2)):
        queue.push(Request(url, priority=priority))
    popped = [queue.pop() for _ in range(4)]
    assert [(r.url, r.priority) for r in popped] == [("http://x/moved", 2), ("http://x/1", 0), ("http://x/2", 0),
                                                     ("http://x/retry", -1)]
    queue.push(popped[2].replace(priority=-1))  # a retry replaces its original: the original is acknowledged
    assert f.server.llen(f.taken_key("src")) == 3 and len(queue) == 1
    for request in (popped[0], popped[1], popped[3]):
        queue.ack_entry(request.meta["frontier_entry"])
    assert f.server.llen(f.taken_key("src")) == 0


def test_a_run_is_seeded_only_when_the_last_one_is_over(redis_server):
    a = frontier(redis_server, "a")
    a.heartbeat(30)
    redis_server.client().sadd("t:src:src:dupefilter", "fingerprint of the last run")
    assert a.seed("src", "run-1")
    assert redis_server.client().exists("t:src:src:dupefilter") == 0, "a new run has an empty duplicate filter"
    assert not a.seed("src", "run-2"), "run-1's seed is still there"
    assert a.next_seed("src", 30) == "run-1"
    assert frontier(redis_server, "b").next_seed("src", 30) is None, "claimed by a for its lease"
    a.push("src", b"start page")
    a.seeded("src", "run-1")
    assert not a.seed("src", "run-2"), "run-1's requests are queued"
    a.ack("src", a.take("src"))
    assert a.seed("src", "run-2") and a.active_sources() == ["src"]


def test_site_slots_hold_the_concurrency_limit_and_the_delay_for_every_worker(redis_server):
    limiter, other = SiteLimiter(redis_server.client(), "t", 60), SiteLimiter(redis_server.client(), "t", 60)
    site = site_of("http://127.0.0.1:8701/a.html")
    assert site == "127.0.0.1:8701" and site_of("https://Example.com/x") == "example.com:443"
    assert limiter.try_acquire(site, "one", 2, 0) == 0
    assert other.try_acquire(site, "two", 2, 0) == 0
    assert limiter.try_acquire(site, "three", 2, 0) > 0, "two slots taken: the third waits, whichever worker asks"
    other.release(site, "two")
    assert limiter.try_acquire(site, "three", 2, 0) == 0
    assert limiter.try_acquire("127.0.0.1:8702", "elsewhere", 2, 0) == 0, "another site has its own slots"

    limiter.release(site, "one"), limiter.release(site, "three")
    assert limiter.try_acquire(site, "d1", 5, 0.5) == 0
    wait = other.try_acquire(site, "d2", 5, 0.5)
    assert 0.3 < wait <= 0.5, "the next request to the site waits for the delay"
    time.sleep(wait + 0.02)
    assert other.try_acquire(site, "d2", 5, 0.5) == 0


def test_slot_of_a_dead_worker_frees_itself_after_its_lease(redis_server):
    limiter = SiteLimiter(redis_server.client(), "t", 0.3)
    assert limiter.try_acquire("s:80", "held by a killed worker", 1, 0) == 0
    assert limiter.try_acquire("s:80", "next", 1, 0) > 0
    time.sleep(0.35)
    assert limiter.try_acquire("s:80", "next", 1, 0) == 0


def test_redis_seen_store_is_shared_and_counts_thread_pages_without_gaps(redis_server):
    one, two = RedisSeenStore(redis_server.client(), "t", "forum"), RedisSeenStore(redis_server.client(), "t", "forum")
    one.mark("http://f/thread-1-1-1.html#post", "1", 1)
    assert two.seen("http://F/thread-1-1-1.html") and not two.seen("http://f/thread-1-2-1.html")
    two.mark("http://f/thread-1-3-1.html", "1", 3)
    assert one.thread_pages("1") == 1, "page 2 is missing: the count stops below it"
    one.mark("http://f/thread-1-2-1.html", "1", 2)
    assert two.thread_pages("1") == 3 and two.count() == 3
    one.note_pages("1", 5), two.note_pages("1", 4)
    assert one.known_pages("1") == 5 and one.known_pages("2") == 0


@pytest.mark.parametrize("url, problem", [
    ("http://127.0.0.1:6379", "is not a redis://"),
    ("redis://:6379/0", "names no host"),
    ("redis://127.0.0.1:99999/0", "invalid port"),
    ("redis://127.0.0.1:6379/zero", "must be a number"),
])
def test_bad_redis_url_is_a_one_line_error_that_never_shows_the_url(tmp_path, url, problem):
    with pytest.raises(config.ConfigError, match=problem) as error:
        config.load({"BANWAVE_DATA_DIR": str(tmp_path), "BANWAVE_REDIS_URL": url.replace("//", "//:secret@", 1)
                     if url.startswith("redis://1") else url}, env_file=tmp_path / "none")
    assert "secret" not in str(error.value) and "\n" not in str(error.value)


def test_redis_url_switches_the_scheduler_and_nothing_else_changes_without_it(tmp_path):
    plain = config.load({"BANWAVE_DATA_DIR": str(tmp_path)}, env_file=tmp_path / "none")
    shared = config.load({"BANWAVE_DATA_DIR": str(tmp_path), "BANWAVE_REDIS_URL": "redis://10.0.0.5:6379/2"},
                         env_file=tmp_path / "none")
    assert config.crawl_settings(plain).get("SCHEDULER") == "scrapy.core.scheduler.Scheduler"
    assert config.crawl_settings(shared).get("SCHEDULER") == "crawlers.frontier.FrontierScheduler"
    assert "10.0.0.5" not in repr(shared) and shared.as_environ()["BANWAVE_REDIS_URL"] == "redis://10.0.0.5:6379/2"
    with pytest.raises(config.SettingError, match="FRONTIER_LEASE_SECONDS=0 must be greater than 0"):
        config.crawl_settings(shared, {"FRONTIER_LEASE_SECONDS": "0"})
    with pytest.raises(config.SettingError, match="INDEX_REPLICAS=two"):
        config.crawl_settings(plain, {"INDEX_REPLICAS": "two"})


def test_the_scheduler_seeds_a_run_for_the_workers_once_and_survives_redis_down(redis_server, tmp_path):
    from scheduler import CrawlRunner

    def runner(url: str) -> CrawlRunner:
        env = config.load({"BANWAVE_DATA_DIR": str(tmp_path), "BANWAVE_INDEX_PREFIX": "t", "BANWAVE_REDIS_URL": url},
                          env_file=tmp_path / "none")
        return CrawlRunner.from_settings(config.crawl_settings(env))

    shared = runner(redis_server.url)
    assert shared.run("forum") == 0, "seeded: no crawl subprocess is started"
    assert frontier(redis_server, "w").next_seed("forum", 30) is not None
    assert shared.run("forum") is None, "its run still has work: not seeded again"
    down = runner("redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert down.run("forum") is None
    assert (shared.outcomes["seeded"], shared.outcomes["still running"], down.outcomes["not seeded"]) == (1, 1, 1)

"""The dedupe and thread-context stores in Redis (BANWAVE_REDIS_URL) against a real redis-server:
the same answers as the SQLite stores, agreement between concurrent workers, and the backend choice."""
from __future__ import annotations

import random
import threading
import uuid
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from scrapy.utils.test import get_crawler

import settings as project
from conftest import offline_env
from pipelines.dedupe import DedupePipeline, MinHasher, RedisStoryStore, StoryStore
from pipelines.enrich import EnrichPipeline, RedisThreadStore, ThreadStore

pytestmark = pytest.mark.slow  # each test starts a redis-server

THRESHOLD, BANDS = project.DEDUPE_THRESHOLD, project.DEDUPE_BANDS
HASHER = MinHasher(project.DEDUPE_PERMUTATIONS)
VOCABULARY = [f"w{n}" for n in range(2000)]
BASES = [frozenset(random.Random(seed).sample(VOCABULARY, 60)) for seed in range(6)]


def variant(base: int, replaced: int, seed: int) -> frozenset[str]:
    """Base text ``base`` with ``replaced`` of its 60 tokens swapped for others: Jaccard to the base
    is (60 - r) / (60 + r), so 0..40 replacements span 1.0 down to 0.2, across the 0.5 threshold."""
    rng = random.Random(seed)
    kept = rng.sample(sorted(BASES[base]), 60 - replaced)
    return frozenset(kept) | frozenset(rng.sample([w for w in VOCABULARY if w not in BASES[base]], replaced))


# One document: which doc id (a small pool, so some are re-crawled with another text), which base, how far from it.
DOCUMENT = st.tuples(st.integers(0, 24), st.integers(0, len(BASES) - 1), st.integers(0, 40), st.integers(0, 10**6))


def redis_store(server, prefix: str | None = None) -> RedisStoryStore:
    return RedisStoryStore(server.client(), prefix or f"t{uuid.uuid4().hex[:8]}", THRESHOLD, BANDS)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents=st.lists(DOCUMENT, min_size=1, max_size=40))
def test_redis_store_answers_like_the_sqlite_store(redis_server, documents):
    sqlite, shared = StoryStore(":memory:", THRESHOLD, BANDS), redis_store(redis_server)  # a fresh prefix each time
    try:
        for doc, base, replaced, seed in documents:
            signature = HASHER.signature(variant(base, replaced, seed))
            doc_id = f"doc-{doc:02d}"
            assert shared.assign(doc_id, signature) == sqlite.assign(doc_id, signature), (doc_id, base, replaced)
    finally:
        sqlite.close(), shared.close()


def test_ties_go_to_the_smallest_story_id_in_both_stores(redis_server):
    """A document exactly as close to two stories joins the one with the smallest id, not the first stored."""
    a = tuple(range(1000, 1128))
    b = tuple(range(2000, 2070)) + a[70:]            # 58 of 128 shared with a: another story
    c = a[:35] + b[35:70] + a[70:]                   # 93 of 128 shared with each
    for store in (StoryStore(":memory:", THRESHOLD, BANDS), redis_store(redis_server)):
        assert store.assign("z", a) == ("z", False)
        assert store.assign("b", b) == ("b", False)
        assert store.assign("c", c) == ("b", True)
        assert store.assign("z", b) == ("z", False), "a re-crawled document keeps its story"
        store.close()


def test_concurrent_workers_agree_on_the_story_of_near_duplicates(redis_server):
    """Two workers (own clients, own threads) assign the two copies of each story at the same moment."""
    prefix, pairs = "t", 60
    texts = [frozenset(random.Random(1000 + n).sample(VOCABULARY, 60)) for n in range(pairs)]
    copies = [(HASHER.signature(text), HASHER.signature(variant_of(text, n))) for n, text in enumerate(texts)]
    barrier = threading.Barrier(2)
    results: list[dict] = [{}, {}]
    errors: list[BaseException] = []

    def worker(side: int) -> None:
        store = redis_store(redis_server, prefix)
        try:
            for n, pair in enumerate(copies):
                barrier.wait()
                results[side][n] = store.assign(f"story{n:02d}-copy{side}", pair[side])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            barrier.abort()
        finally:
            store.close()

    threads = [threading.Thread(target=worker, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    winners = Counter()
    for n in range(pairs):
        (story0, joined0), (story1, joined1) = results[0][n], results[1][n]
        assert story0 == story1, f"pair {n}: the workers disagree ({story0} vs {story1})"
        assert story0 in (f"story{n:02d}-copy0", f"story{n:02d}-copy1")
        assert sorted([joined0, joined1]) == [False, True], "one copy opens the story, the other joins it"
        winners[story0[-1]] += 1
    # and what Redis keeps says the same to a third worker
    third = redis_store(redis_server, prefix)
    for n, (first, _) in enumerate(copies):
        assert third.assign(f"story{n:02d}-late", first)[0] == results[0][n][0]


def variant_of(text: frozenset[str], seed: int) -> frozenset[str]:
    """A copy of ``text`` with 5 of its 60 tokens replaced (Jaccard 0.85)."""
    rng = random.Random(seed)
    return frozenset(rng.sample(sorted(text), 55)) | {f"x{seed}-{n}" for n in range(5)}


def test_thread_store_round_trip_shared_by_workers(redis_server):
    one, two = RedisThreadStore(redis_server.client(), "t"), RedisThreadStore(redis_server.client(), "t")
    sqlite = ThreadStore(":memory:")
    steps = [  # (store, source, thread, post, relevance) -> the thread's score afterwards
        (one, "forum", "1206", "30081", 0.1 + 0.2),  # not a short decimal: must come back as the same float
        (two, "forum", "1206", "30086", 0.05),       # a later page's "floor 1": not the opener
        (two, "forum", "1206", "30081", 0.75),       # the opener re-crawled (edited): its new score
        (one, "other-forum", "1206", "9", 0.2),      # keyed by source and thread
    ]
    for store, source, thread, post_id, relevance in steps:
        assert store.record_opener(source, thread, post_id, relevance) == sqlite.record_opener(
            source, thread, post_id, relevance)
    assert one.relevance("forum", "1206") == two.relevance("forum", "1206") == sqlite.relevance("forum", "1206") == 0.75
    assert two.relevance("other-forum", "1206") == 0.2
    assert one.relevance("forum", "9999") is None and sqlite.relevance("forum", "9999") is None
    assert one.record_opener("forum", "1300", "1", 0.1 + 0.2) == 0.1 + 0.2
    assert sorted(redis_server.client().keys("*")) == [b"t:src:forum:opener", b"t:src:forum:opener_relevance",
                                                       b"t:src:other-forum:opener",
                                                       b"t:src:other-forum:opener_relevance"]
    one.close(), two.close(), sqlite.close()


def crawler(tmp_path, redis_url: str | None, **settings):
    env = offline_env(tmp_path, **({"BANWAVE_REDIS_URL": redis_url} if redis_url else {}))
    base = {name: getattr(project, name) for name in dir(project) if name.startswith(("DEDUPE_", "NLP_"))}
    found = get_crawler(settings_dict={**base, "BANWAVE_ENV": env, **settings})
    found.stats.open_spider()
    return found, env


def test_redis_url_chooses_the_redis_stores_under_the_index_prefix(tmp_path, redis_server):
    dedupe_crawler, env = crawler(tmp_path, redis_server.url)
    dedupe = DedupePipeline.from_crawler(dedupe_crawler)
    enrich = EnrichPipeline.from_crawler(crawler(tmp_path, redis_server.url, NLP_THREAD_CONTEXT=True)[0])
    assert isinstance(dedupe.store, RedisStoryStore) and isinstance(enrich.threads, RedisThreadStore)
    dedupe.tokenizer = enrich.tagger.tokenizer
    opener = {"url": "https://bbs.example.com/t-1.html#1", "id": "p1", "doc_type": "post", "source": "forum",
              "thread_id": "1", "post_id": "1", "floor": 1, "title": "说说最近这事，大家怎么看？",
              "text": "深圳市跨境电子商务协会估计这次被封的卖家有五万家左右，损失超过一千亿元。我们公司在亚马逊上"
                      "的三个店铺上周同时收到通知，账户里的资金也被冻结了，申诉到现在还没有任何回复，"
                      "仓库里还压着两个货柜的库存，不知道接下来该怎么办。"}
    dedupe.process_item(enrich.process_item(opener))
    # another machine's worker: its own pipelines and data dir, the same Redis
    elsewhere = tmp_path / "elsewhere"
    other_enrich = EnrichPipeline(enrich.tagger, enrich.stats, project.NLP_RELEVANCE_THRESHOLD, False,
                                  RedisThreadStore.connect(offline_env(elsewhere, BANWAVE_REDIS_URL=redis_server.url)))
    other_dedupe = DedupePipeline.from_crawler(crawler(elsewhere, redis_server.url)[0])
    other_dedupe.tokenizer = enrich.tagger.tokenizer
    reply = other_enrich.process_item({**opener, "id": "p2", "post_id": "2", "floor": 2,
                                       "text": "总结得好，这帖可以结了。"})
    copy = other_dedupe.process_item({**opener, "id": "p9", "text": "转帖：" + opener["text"]})
    assert opener["relevant"] and reply["relevance"] == opener["relevance"]
    assert copy["story_id"] == "p1" and other_dedupe.stats.get_value("dedupe/near_duplicate") == 1
    assert not (env.data_dir / "dedupe").exists() and not (env.data_dir / "nlp").exists(), "no SQLite store"
    keys = redis_server.client().keys("*")
    assert keys and all(key.startswith(f"{env.index_prefix}:".encode()) for key in keys)
    for pipeline in (dedupe, other_dedupe):
        pipeline.close_spider()
    enrich.close_spider(), other_enrich.close_spider()


def test_without_redis_the_sqlite_stores_are_used(tmp_path):
    found, env = crawler(tmp_path, None, NLP_THREAD_CONTEXT=True)
    dedupe = DedupePipeline.from_crawler(found)
    assert type(dedupe.store) is StoryStore and (env.data_dir / "dedupe" / "stories.sqlite").exists()
    dedupe.close_spider()

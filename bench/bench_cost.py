"""Cost of one crawl as the corpus grows: per-document stage times and the crawler's peak RSS.

For each corpus size N of ``--sizes`` (default 0 and 10,000; add 100000 for the big one):

1. a fresh index prefix gets N synthetic documents through the bulk API (Chinese and English
   sentences of our own, a few hundred characters, deterministic ids, one in
   ``--copy-every`` a near-duplicate of an earlier one), and a fresh data dir's dedupe store
   (``StoryStore``) gets the same N documents' MinHash signatures through ``assign``, so the
   crawl's LSH lookups face N stored documents;
2. a child process crawls the demo web into that prefix and data dir with
   ``bench_demo.run_staged`` (its stage timers) and reports the timers, the number of
   documents it indexed and its own peak RSS (``ru_maxrss``: one process per size, so each
   size's peak is its own; the pre-fill runs in the parent and is not counted).

Printed per size: ms per crawled document for dedupe, enrich (the NLP stage) and index (the
bulk requests, in worker threads), first calls excluded (lazy setup such as jieba's
dictionary, the same at every size), and the peak RSS; each beside the size-0 row as
"x of the empty corpus". Indices and temp dirs are deleted afterwards.

Signatures: a synthetic text is sentences from a pool, each ending in punctuation, so its
token set is the union of its sentences' token sets (jieba splits at punctuation); the
MinHash value of a token under a permutation does not depend on the other tokens, so a
signature is the element-wise minimum of per-token rows computed once with the pipeline's
own ``MinHasher`` (4 ms a document the direct way, 7 minutes for 100k). The script checks
both on the first documents against ``DedupePipeline``'s own path and stops if they differ.

Run:  .venv/bin/python bench/bench_cost.py [--sizes 0 10000 100000] [--es-url URL] [--port 18941]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import numpy as np  # noqa: E402
from elasticsearch import Elasticsearch, helpers  # noqa: E402

import config  # noqa: E402
import settings as project  # noqa: E402
from pipelines.dedupe import MinHasher, StoryStore, tokens  # noqa: E402
from pipelines.elastic import drop_indices, setup_indices  # noqa: E402

STAGES = [("dedupe", "dedupe"), ("enrich", "NLP"), ("index", "index")]  # printed name, bench_demo stage
CHECKED = 200  # documents whose signature is also computed the pipeline's way

# Sentence parts, our own words; combined they give tens of thousands of distinct sentences.
SELLERS = ["傲基", "泽宝", "帕拓逊", "有棵树", "通拓", "赛维", "华鼎", "环球易购", "棒谷", "价之链"]
PLATFORMS = ["亚马逊", "Amazon", "沃尔玛", "eBay", "速卖通", "Shopee", "Temu", "TikTok Shop"]
PLACES = ["深圳", "广州", "义乌", "杭州", "厦门", "东莞", "福州", "宁波", "苏州", "中山"]
ZH = [
    "{place}一家做{goods}的卖家说，{platform}上周关了他们{n}个店铺，账户里约{m}万元被冻结。",
    "据{place}跨境电商协会统计，本轮被封的{goods}卖家已超过{n}家，涉及资金约{m}亿元。",
    "{seller}在公告中表示，受{platform}政策调整影响，第{q}季度营收预计下降{p}%。",
    "多位{goods}卖家反映，{platform}以操纵评论为由暂停了账户，申诉{n}天仍无回复。",
    "{place}的物流商称，{platform}封号潮后海外仓积压了约{n}万件{goods}。",
    "行业人士估计，{platform}此次整顿将让{place}约{p}%的中小卖家转向其他平台。",
    "{seller}回应称公司已申诉{n}个站点，冻结金额约{m}千万元，经营总体稳定。",
]
EN = [
    "A {goods} seller from {place} said {platform} closed {n} of its stores and froze about {m} million yuan.",
    "Analysts expect the {platform} crackdown to push {p} percent of small sellers in {place} to other sites.",
    "{seller} told investors that {n} of its storefronts on {platform} were suspended in quarter {q}.",
    "Logistics firms in {place} report about {n} thousand units of {goods} stuck in overseas warehouses.",
    "Sellers of {goods} say appeals to {platform} over review abuse went unanswered for {n} days.",
]
GOODS_ZH = ["蓝牙耳机", "充电宝", "家居用品", "宠物用品", "户外灯具", "服装", "厨房小电", "数据线"]
GOODS_EN = ["headphone", "power bank", "home goods", "pet supply", "outdoor lighting", "apparel", "kitchen", "cable"]


def sentence_pool(size: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    pool: set[str] = set()
    while len(pool) < size:
        english = rng.random() < 0.35
        template = rng.choice(EN if english else ZH)
        pool.add(template.format(goods=rng.choice(GOODS_EN if english else GOODS_ZH), place=rng.choice(PLACES),
                                 platform=rng.choice(PLATFORMS), seller=rng.choice(SELLERS), n=rng.randrange(2, 3000),
                                 m=rng.randrange(1, 900), p=rng.randrange(2, 60), q=rng.randrange(1, 5)))
    return sorted(pool)


def corpus(count: int, pool: list[str], copy_every: int, seed: int = 5) -> list[list[int]]:
    """Each document as the indices of its pool sentences; one in ``copy_every`` copies an earlier one."""
    rng = random.Random(seed)
    docs: list[list[int]] = []
    for n in range(count):
        if docs and n % copy_every == 0:  # a repost: an earlier document with one sentence swapped
            picked = list(rng.choice(docs))
            picked[rng.randrange(len(picked))] = rng.randrange(len(pool))
        else:
            picked = rng.sample(range(len(pool)), rng.randint(4, 7))
        docs.append(picked)
    return docs


class Signer:
    """MinHash signatures of pool-sentence documents, equal to ``MinHasher.signature(tokens(text))``."""

    def __init__(self, pool: list[str], tokenizer, hasher: MinHasher):
        vocab: dict[str, int] = {}
        self.sentence_tokens = [[vocab.setdefault(t, len(vocab)) for t in tokens(s, tokenizer)] for s in pool]
        rows = [hasher.signature({word}) for word in vocab]  # one token's signature: its value under each permutation
        self.rows = np.array(rows, dtype=np.uint32)

    def signature(self, sentences: list[int]) -> tuple[int, ...]:
        ids = sorted({t for s in sentences for t in self.sentence_tokens[s]})
        return tuple(int(v) for v in self.rows[ids].min(axis=0))


def doc_id(n: int) -> str:
    return hashlib.sha1(f"bench-cost#{n}".encode()).hexdigest()


def es_document(n: int, text: str, story_id: str) -> dict:
    chinese = sum("\u4e00" <= c <= "\u9fff" for c in text) > len(text) / 4
    published = f"2021-{5 + n % 6:02d}-{1 + n % 28:02d}T08:00:00Z"
    return {
        "id": doc_id(n), "url": f"http://synthetic.invalid/{n}", "source": "synthetic", "doc_type": "article",
        "title": text[:24], "text": text, "lang": "zh" if chinese else "en", "published": published,
        "crawled_at": published, "timeline_at": published, "published_estimated": False,
        "content_hash": hashlib.sha256(text.encode()).hexdigest(), "story_id": story_id, "relevant": True,
        "platforms": [p for p in ("Amazon",) if "亚马逊" in text or "Amazon" in text],
        "sellers": [s for s in SELLERS if s in text], "entity_names": [s for s in SELLERS if s in text],
        "keywords": ["封号", "卖家"],
    }


def prefill(es: Elasticsearch, prefix: str, data_dir: Path, count: int, copy_every: int) -> float:
    """N synthetic documents into the prefix's docs alias and the data dir's dedupe store; seconds taken."""
    began = time.perf_counter()
    setup_indices(es, prefix)
    if count == 0:
        return 0.0
    from nlp import Tagger
    from pipelines.dedupe import DedupePipeline

    pool = sentence_pool(max(2000, count // 2))
    docs = corpus(count, pool, copy_every)
    tokenizer, hasher = Tagger().tokenizer, MinHasher(project.DEDUPE_PERMUTATIONS)
    signer = Signer(pool, tokenizer, hasher)
    texts = ["".join(pool[s] if not pool[s].isascii() else pool[s] + " " for s in picked).strip() for picked in docs]
    direct = DedupePipeline(None, hasher, tokenizer, project.DEDUPE_MIN_TOKENS, None)
    for n in range(min(CHECKED, count)):  # the shortcut must give the pipeline's own signatures
        if direct.signature(texts[n]) != signer.signature(docs[n]):
            sys.exit(f"bench_cost: synthetic document {n}: the fast signature differs from DedupePipeline's")
    store = StoryStore(data_dir / "dedupe" / "stories.sqlite", project.DEDUPE_THRESHOLD, project.DEDUPE_BANDS)
    stories = [store.assign(doc_id(n), signer.signature(docs[n]))[0] for n in range(count)]
    store.close()
    alias = f"{prefix}-docs"
    actions = ({"_index": alias, "_id": doc_id(n), "_source": es_document(n, texts[n], stories[n])}
               for n in range(count))
    for ok, result in helpers.streaming_bulk(es, actions, chunk_size=1000, raise_on_error=False):
        if not ok:
            sys.exit(f"bench_cost: bulk pre-fill failed: {result}")
    es.indices.refresh(index=alias)
    stored = es.count(index=alias)["count"]
    if stored != count:
        sys.exit(f"bench_cost: {stored} documents in {alias} after the pre-fill, expected {count}")
    return time.perf_counter() - began


def crawl_child(es_url: str, port: int, data_dir: str, prefix: str, prefilled: int) -> int:
    """In the child process: the staged crawl, then one JSON line (timers, documents, peak RSS)."""
    import bench_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    wall, timers, total = bench_demo.run_staged(es_url, port, Path(data_dir), prefix)
    print(json.dumps({"wall": wall, "documents": total - prefilled, "seconds": dict(timers.seconds),
                      "first": dict(timers.first), "calls": dict(timers.calls),
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    return 0


def measure(args, es: Elasticsearch, size: int, tmp: Path) -> dict:
    prefix = f"bench-cost-{uuid.uuid4().hex[:8]}"
    data_dir = tmp / f"data-{size}"
    try:
        print(f"corpus {size}: pre-filling ...", flush=True)
        fill = prefill(es, prefix, data_dir, size, args.copy_every)
        print(f"corpus {size}: pre-filled in {fill:.0f}s, crawling the demo web ...", flush=True)
        proc = subprocess.run([sys.executable, __file__, "--child", args.es_url, str(args.port), str(data_dir),
                               prefix, str(size)], cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"bench_cost: the crawl at corpus {size} failed (exit {proc.returncode}):\n"
                     f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        if not args.keep:
            drop_indices(es, prefix)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        es_url, port, data_dir, prefix, prefilled = argv[1:]
        return crawl_child(es_url, int(port), data_dir, prefix, int(prefilled))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 10_000], help="corpus sizes (default 0 10000)")
    parser.add_argument("--es-url", default=config.test_es_url())
    parser.add_argument("--port", type=int, default=18941, help="first port of the demo web (default 18941)")
    parser.add_argument("--copy-every", type=int, default=20, help="one synthetic document in N is a near-duplicate")
    parser.add_argument("--keep", action="store_true", help="keep the bench indices (deleted by default)")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.sizes) | {0})  # the empty corpus is the reference
    es = Elasticsearch(args.es_url, request_timeout=120)
    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as tmp:
        for size in sizes:
            rows[size] = measure(args, es, size, Path(tmp))

    def per_doc(row: dict, stage: str) -> float:
        return 1000 * (row["seconds"].get(stage, 0.0) - row["first"].get(stage, 0.0)) / max(row["documents"], 1)

    base = rows[0]
    print(f"\none crawl of the demo web ({base['documents']} documents) into an index and dedupe store already "
          f"holding N synthetic documents; {args.es_url}")
    print("ms per crawled document, first calls excluded; (x) = of the empty corpus")
    head = "".join(f"{name + ' ms/doc':>20}" for name, _ in STAGES)
    print(f"{'corpus N':>9} {'docs':>5}{head}{'peak RSS MB':>20}{'crawl wall s':>14}")
    for size, row in rows.items():
        cells = "".join(f"{per_doc(row, stage):>12.2f} ({per_doc(row, stage) / max(per_doc(base, stage), 1e-9):4.2f}x)"
                        for _, stage in STAGES)
        rss = row["maxrss_kb"] / 1024
        print(f"{size:>9} {row['documents']:>5}{cells}{rss:>12.0f} ({rss / (base['maxrss_kb'] / 1024):4.2f}x)"
              f"{row['wall']:>14.1f}")
    print("index runs in worker threads beside the other stages (bulk round trips, not a share of the wall time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Cost of one crawl as the corpus grows: per-document stage times and the crawler's peak RSS.

For each corpus size N of ``--sizes`` (default 0 and 10,000; add 100000 for the big one):

1. a fresh index prefix gets N synthetic documents through the bulk API (Chinese sentences of
   dictionary words and English sentences of our own, a few hundred characters, deterministic ids, one in
   ``--copy-every`` a near-duplicate of an earlier one), and a fresh data dir's dedupe store
   (``StoryStore``) gets the same N documents' MinHash signatures through ``assign``, so the
   crawl's LSH lookups face N stored documents;
2. a child process crawls the demo web into that prefix and data dir with
   ``bench_demo.run_staged`` (its stage timers) and reports the timers, the number of
   documents it indexed and its own peak RSS (``VmHWM`` of /proc/self/status: one process per size,
   so each size's peak is its own; the pre-fill runs in the parent and is not counted).
   Not ``ru_maxrss``: Linux carries it across ``execve`` from the memory the process had before, and
   ``subprocess`` starts the child with ``vfork``, i.e. in the parent's memory, so the child's
   ``ru_maxrss`` is at least the parent's peak (the pre-fill's, 1.35 GB at 100,000 documents).

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
import itertools
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

# English sentences of our own words (one in about three documents carries one); Chinese sentences
# are words drawn from jieba's dictionary by frequency, so common words recur across documents as in
# real text while two documents share few tokens (on the demo web, different articles on one subject
# share at most 0.19 of their tokens: pipelines/dedupe.py). Fixed Chinese templates were tried first:
# every document then shared the templates' tokens, LSH matched nearly every pair, and the pre-fill
# of 10,000 documents had not finished after 5 minutes.
SELLERS = ["傲基", "泽宝", "帕拓逊", "有棵树", "通拓", "赛维", "华鼎", "环球易购", "棒谷", "价之链"]
PLACES = ["Shenzhen", "Guangzhou", "Yiwu", "Hangzhou", "Xiamen", "Dongguan", "Ningbo", "Suzhou"]
PLATFORMS = ["Amazon", "Walmart", "eBay", "AliExpress", "Shopee", "Temu"]
GOODS = ["headphone", "power bank", "home goods", "pet supply", "outdoor lighting", "apparel", "kitchen", "cable"]
EN = [
    "A {goods} seller from {place} said {platform} closed {n} of its stores and froze about {m} million yuan.",
    "Analysts expect the {platform} crackdown to push {p} percent of small sellers in {place} to other sites.",
    "Logistics firms in {place} report about {n} thousand units of {goods} stuck in overseas warehouses.",
    "Sellers of {goods} say appeals to {platform} over review abuse went unanswered for {n} days.",
]


def sentence_pool(size: int, tokenizer, seed: int = 11) -> list[str]:
    """``size`` distinct sentences: Chinese ones (15-30 dictionary words, a seller name now and then)
    and, one in eight, an English one."""
    rng = random.Random(seed)
    words = sorted(w for w, f in tokenizer.FREQ.items() if f > 0)
    cumulative = list(itertools.accumulate(tokenizer.FREQ[w] for w in words))
    pool: set[str] = set()
    while len(pool) < size:
        if rng.random() < 0.125:
            pool.add(rng.choice(EN).format(goods=rng.choice(GOODS), place=rng.choice(PLACES),
                                           platform=rng.choice(PLATFORMS), n=rng.randrange(2, 3000),
                                           m=rng.randrange(1, 900), p=rng.randrange(2, 60)))
            continue
        picked = rng.choices(words, cum_weights=cumulative, k=rng.randint(15, 30))
        if rng.random() < 0.3:
            picked.insert(rng.randrange(len(picked)), rng.choice(SELLERS))
        pool.add("".join(picked) + rng.choice("。，；！？"))
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
        "platforms": [p for p in PLATFORMS if p in text],
        "sellers": [s for s in SELLERS if s in text], "entity_names": [s for s in SELLERS if s in text],
        "keywords": ["封号", "卖家"],
    }


def prefill(es: Elasticsearch, prefix: str, data_dir: Path, count: int, copy_every: int) -> tuple[float, int]:
    """N synthetic documents into the prefix's docs alias and the data dir's dedupe store:
    (seconds taken, documents that joined an earlier document's story)."""
    began = time.perf_counter()
    setup_indices(es, prefix)
    if count == 0:
        return 0.0, 0
    from nlp import Tagger
    from pipelines.dedupe import DedupePipeline

    tokenizer, hasher = Tagger().tokenizer, MinHasher(project.DEDUPE_PERMUTATIONS)
    pool = sentence_pool(max(2000, count), tokenizer)
    docs = corpus(count, pool, copy_every)
    signer = Signer(pool, tokenizer, hasher)
    texts = ["".join(pool[s] if not pool[s].isascii() else pool[s] + " " for s in picked).strip() for picked in docs]
    direct = DedupePipeline(None, hasher, tokenizer, project.DEDUPE_MIN_TOKENS, None)
    for n in range(min(CHECKED, count)):  # the shortcut must give the pipeline's own signatures
        if direct.signature(texts[n]) != signer.signature(docs[n]):
            sys.exit(f"bench_cost: synthetic document {n}: the fast signature differs from DedupePipeline's")
    store = StoryStore(data_dir / "dedupe" / "stories.sqlite", project.DEDUPE_THRESHOLD, project.DEDUPE_BANDS)
    assigned = [store.assign(doc_id(n), signer.signature(docs[n])) for n in range(count)]
    store.close()
    stories = [story for story, _ in assigned]
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
    return time.perf_counter() - began, sum(joined for _, joined in assigned)


def peak_rss_kb() -> int:
    """This process's own peak resident memory (KiB), not inherited from the parent as ru_maxrss is."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def crawl_child(es_url: str, port: int, data_dir: str, prefix: str, prefilled: int) -> int:
    """In the child process: the staged crawl, then one JSON line (timers, documents, peak RSS)."""
    import bench_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    wall, timers, total = bench_demo.run_staged(es_url, port, Path(data_dir), prefix)
    print(json.dumps({"wall": wall, "documents": total - prefilled, "seconds": dict(timers.seconds),
                      "first": dict(timers.first), "calls": dict(timers.calls),
                      "maxrss_kb": peak_rss_kb(), "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    return 0


def measure(args, es: Elasticsearch, size: int, tmp: Path) -> dict:
    prefix = f"bench-cost-{uuid.uuid4().hex[:8]}"
    data_dir = tmp / f"data-{size}"
    try:
        print(f"corpus {size}: pre-filling ...", flush=True)
        fill, joined = prefill(es, prefix, data_dir, size, args.copy_every)
        print(f"corpus {size}: pre-filled in {fill:.0f}s ({joined} near-duplicates joined an earlier story), "
              "crawling the demo web ...", flush=True)
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
    print(f"{'corpus N':>9} {'docs':>5}{head}{'peak RSS MB':>20}{'ru_maxrss MB':>14}{'crawl wall s':>14}")
    for size, row in rows.items():
        cells = "".join(f"{per_doc(row, stage):>12.2f} ({per_doc(row, stage) / max(per_doc(base, stage), 1e-9):4.2f}x)"
                        for _, stage in STAGES)
        rss = row["maxrss_kb"] / 1024
        print(f"{size:>9} {row['documents']:>5}{cells}{rss:>12.0f} ({rss / (base['maxrss_kb'] / 1024):4.2f}x)"
              f"{row['ru_maxrss_kb'] / 1024:>14.0f}{row['wall']:>14.1f}")
    print("index runs in worker threads beside the other stages (bulk round trips, not a share of the wall time)")
    print("peak RSS: the crawl process's own (VmHWM); ru_maxrss: what getrusage says, which includes the peak of "
          "this bench process (the pre-fill) that started it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Bulk indexing throughput: banwave's index path next to the raw bulk API, same documents, same run.

    .venv/bin/python bench/bench_index.py [--es-url URL] [--docs N] [--batch N]

Documents are the demo web's gold texts (demo/sites/gold.jsonl) repeated with
distinct ids to N, shaped like real DOCUMENT items (text, title, entity and
figure fields). Each variant writes into its own fresh index created from
deploy/elasticsearch/docs.template.json (unique prefix, deleted afterwards):

- reference: ``client.bulk`` with a request body built before the clock starts;
- banwave, new documents: ``BulkSender.send`` (streaming_bulk, per-document
  results) with the mget of stored content hashes, as a crawl runs it;
- banwave without the content-hash check (INDEX_SKIP_UNCHANGED = False);
- banwave re-sending the same documents: all unchanged, nothing rewritten;
- banwave as a crawl builds it (``build_delivery``'s DocsLayout: the indices behind the
  alias read per batch, the mget naming each), INDEX_PARTITION ``none`` and ``year``
  (the documents' dates spread over ten years: ten year indices, created before the
  clock starts), new documents, then the same again (all unchanged, looked up in all ten).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from elasticsearch import Elasticsearch  # noqa: E402

import config  # noqa: E402
import settings as project  # noqa: E402
from pipelines.bulk import BulkSender  # noqa: E402
from pipelines.elastic import drop_indices, setup_indices  # noqa: E402
from pipelines.partition import DocsLayout  # noqa: E402
import demo


def documents(n: int) -> list[dict]:
    gold = demo.gold()
    docs = []
    for i in range(n):
        row = gold[i % len(gold)]
        text = f"{row['text']}\n（第{i}号）"
        published = f"{2016 + i % 10}{row['published'][4:]}" if row["published"] else f"{2016 + i % 10}-06-01"
        docs.append({
            "id": hashlib.sha1(f"{row['url']}#{i}".encode()).hexdigest(), "url": row["url"], "source": row["site"],
            "doc_type": row["doc_type"], "title": row["title"], "text": text, "author": row["author"],
            "published": published, "timeline_at": published, "lang": "zh" if row["site"] != "en-news" else "en",
            "content_hash": hashlib.sha256(text.encode()).hexdigest(), "relevant": row["relevant"],
            "entities": [{"type": "platform", "name": "Amazon", "text": "亚马逊", "start": 0, "end": 3}],
            "platforms": ["Amazon"], "sellers": ["傲基"], "entity_names": ["Amazon", "傲基"],
            "figures": [{"kind": "count", "text": "5万", "start": 4, "end": 6, "value": 50000.0, "counted": "stores"}],
            "stores_max": 50000.0, "keywords": ["封号", "卖家"], "story_id": str(i),
        })
    return docs


def fresh_alias(client: Elasticsearch) -> tuple[str, str]:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    setup_indices(client, prefix)
    return prefix, f"{prefix}-docs"


def timed(client: Elasticsearch, alias: str, run) -> float:
    start = time.perf_counter()
    run()
    client.indices.refresh(index=alias)
    return time.perf_counter() - start


def one_round(client: Elasticsearch, docs: list[dict], batch: int) -> list[tuple[str, float]]:
    """Each variant once, each into a fresh index; returns (label, seconds) with the reference first."""
    prefixes, rows = [], []

    def sender(skip: bool, partition: str | None = None) -> BulkSender:
        layout = DocsLayout(client, alias, f"{alias}-v1", partition) if partition else None
        return BulkSender(client, chunk_docs=batch, chunk_bytes=project.INDEX_BATCH_BYTES, skip_unchanged=skip,
                          layout=layout)

    def send_all(bulk: BulkSender, alias: str, expect: str) -> None:
        for start in range(0, len(docs), batch):
            outcome = bulk.send([(alias, d["id"], d) for d in docs[start:start + batch]])
            assert len(getattr(outcome, expect)) == len(docs[start:start + batch]), "not all " + expect

    try:
        prefix, alias = fresh_alias(client)
        prefixes.append(prefix)
        bodies = []
        for start in range(0, len(docs), batch):
            body = []
            for doc in docs[start:start + batch]:
                body += [{"index": {"_index": alias, "_id": doc["id"]}}, doc]
            bodies.append(body)
        rows.append(("reference: client.bulk, prebuilt body",
                     timed(client, alias, lambda: [client.bulk(operations=body) for body in bodies])))
        prefix, alias = fresh_alias(client)
        prefixes.append(prefix)
        rows.append(("banwave BulkSender, new documents (mget + streaming_bulk)",
                     timed(client, alias, lambda: send_all(sender(True), alias, "indexed"))))
        rows.append(("banwave BulkSender, same documents again (all unchanged)",
                     timed(client, alias, lambda: send_all(sender(True), alias, "unchanged"))))
        prefix, alias = fresh_alias(client)
        prefixes.append(prefix)
        rows.append(("banwave BulkSender, no content-hash check",
                     timed(client, alias, lambda: send_all(sender(False), alias, "indexed"))))
        for partition in ("none", "year"):
            prefix, alias = fresh_alias(client)
            prefixes.append(prefix)
            # not timed: one document per year first, so the year indices exist (created once a year in use)
            sender(True, partition).send([(alias, f"warm-{d['id']}", d) for d in docs[:10]])
            rows.append((f"banwave, INDEX_PARTITION={partition}, new documents",
                         timed(client, f"{alias}*", lambda: send_all(sender(True, partition), alias, "indexed"))))
            rows.append((f"banwave, INDEX_PARTITION={partition}, same documents again",
                         timed(client, f"{alias}*", lambda: send_all(sender(True, partition), alias, "unchanged"))))
    finally:
        for prefix in prefixes:
            drop_indices(client, prefix)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es-url", default=config.test_es_url())
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=project.INDEX_BATCH_DOCS, help="documents per bulk request")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    client = Elasticsearch(args.es_url, request_timeout=60)
    docs = documents(args.docs)
    best: dict[str, float] = {}
    try:
        for _ in range(args.rounds):  # interleaved rounds, best of each: the shared server's load varies
            for label, seconds in one_round(client, docs, args.batch):
                best[label] = min(seconds, best.get(label, seconds))
    finally:
        client.close()

    size = sum(len(json.dumps(d, ensure_ascii=False).encode()) for d in docs) / len(docs)
    print(f"bulk indexing, {len(docs)} documents (mean {size:.0f} bytes), {args.batch} per request, {args.es_url}")
    print(f"best of {args.rounds} interleaved rounds")
    reference = next(iter(best.values()))
    for label, seconds in best.items():
        print(f"  {label:60} {len(docs) / seconds:8.0f} docs/s  ({seconds / reference:.2f}x the reference's time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

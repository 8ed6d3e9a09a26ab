"""Search relevance on the judged query set: nDCG@10 and precision@5 per query and overall.

Tuned: the `banwave search` query (cli/query.py). Reference, measured in the
same run on the same index: a plain ``multi_match`` over title and text in both
analyzers, which is what a search box without entity handling would do.

The index is the demo web's documents (demo/sites/gold.jsonl) tagged by the
NLP stage and indexed under a throw-away prefix, or with ``--index ALIAS`` an
existing index (e.g. ``banwave-docs`` after ``make demo``).

Run:  .venv/bin/python bench/bench_search.py [--es-url URL] [--index ALIAS] [--verbose]
"""
from __future__ import annotations

import argparse
import os
import sys
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from elasticsearch import Elasticsearch  # noqa: E402

from cli.query import Filters, QueryParser  # noqa: E402
from cli.search_quality import evaluate, load_judged, mean  # noqa: E402
from cli.search import search  # noqa: E402
from searchdata import gold_index  # noqa: E402


def baseline(client, alias: str):
    def run(query: str) -> list[str]:
        response = client.search(index=alias, size=10, _source=["url"], query={"multi_match": {
            "query": query, "fields": ["title^2", "title.en^2", "text", "text.en"]}})
        return [hit["_source"]["url"] for hit in response["hits"]["hits"]]
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es-url", default=os.environ.get("BANWAVE_TEST_ES_URL", "http://127.0.0.1:9200"))
    parser.add_argument("--index", metavar="ALIAS", help="evaluate this existing index instead of indexing the demo")
    parser.add_argument("--verbose", action="store_true", help="print each query's top 10 with grades")
    args = parser.parse_args()
    judged = load_judged()
    context = nullcontext((Elasticsearch(args.es_url), args.index, None)) if args.index else gold_index(args.es_url)
    with context as (client, alias, _):
        query_parser = QueryParser()
        tuned = evaluate(lambda q: [h["url"] for h in search(client, alias, q, Filters(), 10, query_parser)["hits"]],
                         judged)
        reference = evaluate(baseline(client, alias), judged)
    print(f"{len(judged)} judged queries on {args.index or 'the tagged demo documents'}")
    print(f"{'nDCG@10':>8} {'P@5':>5}  {'ref nDCG':>8} {'ref P@5':>7}  query")
    for item, score, ref in zip(judged, tuned, reference):
        print(f"{score.ndcg10:8.3f} {score.p5:5.2f}  {ref.ndcg10:8.3f} {ref.p5:7.2f}  {item.query}")
        if args.verbose:
            for rank, key in enumerate(score.ranked, 1):
                print(f"{'':26}{rank:2}. [{item.grades.get(key, 0)}] {key}")
    print(f"{mean(s.ndcg10 for s in tuned):8.3f} {mean(s.p5 for s in tuned):5.2f}  "
          f"{mean(s.ndcg10 for s in reference):8.3f} {mean(s.p5 for s in reference):7.2f}  "
          "mean (banwave search | plain multi_match reference)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

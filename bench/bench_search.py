"""Search relevance on the judged query sets: nDCG@10 and precision@5 per query and overall.

Tuned: the `banwave search` query (cli/query.py), with one hit per story
(``--collapse``, the command's default) and without. References, measured in
the same run on the same index: the previous release's query
(bench/previous_query.py, frozen) and a plain ``multi_match`` over title and
text in both analyzers, which is what a search box without entity handling
would do.

Two query sets (tests/data/search/): ``old``, the 22 queries the search was
tuned on, and ``new``, 45 queries an analyst wrote and judged without seeing
the search (its before-tuning score is in docs/analysts.md).

The index is the demo web's documents (demo/sites/gold.jsonl) tagged by the
NLP stage, with the dedupe stage's story ids, indexed under a throw-away
prefix; or with ``--index ALIAS`` an existing index (e.g. ``banwave-docs``
after ``make demo``).

Run:  .venv/bin/python bench/bench_search.py [--es-url URL] [--index ALIAS] [--set old|new] [--verbose]
"""
from __future__ import annotations

import argparse
import sys
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from elasticsearch import Elasticsearch  # noqa: E402

import config  # noqa: E402
import previous_query  # noqa: E402
from cli.query import Filters, QueryParser  # noqa: E402
from cli.search import search  # noqa: E402
from cli.search_quality import evaluate, load_judged_sets, mean  # noqa: E402
from searchdata import gold_index  # noqa: E402


def plain_multi_match(client, alias: str):
    def run(query: str) -> list[str]:
        response = client.search(index=alias, size=10, _source=["url"], query={"multi_match": {
            "query": query, "fields": ["title^2", "title.en^2", "text", "text.en"]}})
        return [hit["_source"]["url"] for hit in response["hits"]["hits"]]
    return run


def previous_release(client, alias: str):
    parser = previous_query.QueryParser()

    def run(query: str) -> list[str]:
        units = parser.parse(query)
        body = previous_query.search_body(query, units, previous_query.Filters(), 10)
        return [hit["_source"]["url"] for hit in client.search(index=alias, **body)["hits"]["hits"]]
    return run


def banwave_search(client, alias: str, parser: QueryParser, collapse: bool):
    def run(query: str) -> list[str]:
        return [hit["url"] for hit in search(client, alias, query, Filters(), 10, parser, collapse=collapse)["hits"]]
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es-url", default=config.test_es_url())
    parser.add_argument("--index", metavar="ALIAS", help="evaluate this existing index instead of indexing the demo")
    parser.add_argument("--set", choices=("old", "new"), action="append", help="only these query sets")
    parser.add_argument("--verbose", action="store_true", help="print each query's top 10 with grades")
    args = parser.parse_args()
    sets = {name: judged for name, judged in load_judged_sets().items() if not args.set or name in args.set}
    context = nullcontext((Elasticsearch(args.es_url), args.index, None)) if args.index else gold_index(args.es_url)
    with context as (client, alias, _):
        query_parser = QueryParser()
        systems = {
            "banwave search --collapse": banwave_search(client, alias, query_parser, True),
            "banwave search --no-collapse": banwave_search(client, alias, query_parser, False),
            "previous release": previous_release(client, alias),
            "plain multi_match": plain_multi_match(client, alias),
        }
        scores, seconds = {}, dict.fromkeys(systems, 0.0)
        for run in systems.values():
            run("封店 warm-up")  # loads jieba's dictionary and warms Elasticsearch's caches, not timed
        for name, judged in sets.items():
            for system, run in systems.items():
                started = time.perf_counter()
                scores[name, system] = evaluate(run, judged)
                seconds[system] += time.perf_counter() - started
    queries = sum(len(judged) for judged in sets.values())
    where = args.index or "the tagged demo documents"
    names = list(systems)
    for name, judged in sets.items():
        print(f"\n== set {name!r}: {len(judged)} judged queries on {where}")
        print("  ".join(f"{'nDCG P@5':>13}" for _ in names) + "  query")
        print("  ".join(f"{n[:13]:>13}" for n in names))
        for i, item in enumerate(judged):
            print("  ".join(f"{scores[name, s][i].ndcg10:7.3f} {scores[name, s][i].p5:5.2f}" for s in names)
                  + f"  {item.query}")
            if args.verbose:
                for rank, key in enumerate(scores[name, names[0]][i].ranked, 1):
                    print(f"{'':30}{rank:2}. [{item.grades.get(key, 0)}] {key}")
    print("\nMeans (nDCG@10, precision@5):")
    print(f"{'set':5} {'queries':>7}  " + "  ".join(f"{n:>28}" for n in names))
    for name, judged in sets.items():
        cells = [f"{mean(s.ndcg10 for s in scores[name, n]):>19.3f} {mean(s.p5 for s in scores[name, n]):8.2f}"
                 for n in names]
        print(f"{name:5} {len(judged):7}  " + "  ".join(cells))
    print(f"{'ms per query (parse, search, client)':>20}  "
          + "  ".join(f"{1000 * seconds[n] / queries:>28.1f}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())

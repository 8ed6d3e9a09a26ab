"""Search relevance on a judged query set: nDCG@10 and precision@5.

Two judged sets under tests/data/search/ name documents by URL path plus
fragment, so they hold wherever the demo web ran: ``judged.yaml`` (22 queries
written by the engineer who tuned the search) and ``judged_new.yaml`` (45
queries written and judged by an analyst who never saw the search; see the
README there). Used by bench/bench_search.py and tests/test_search_relevance.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlsplit

import yaml

from config import REPO_ROOT

JUDGED_DIR = REPO_ROOT / "tests" / "data" / "search"
# set name -> file; "old" was tuned on, "new" was written blind by someone else
JUDGED_SETS = {"old": JUDGED_DIR / "judged.yaml", "new": JUDGED_DIR / "judged_new.yaml"}
RELEVANT_GRADE = 2  # precision counts documents graded at least this


@dataclass(frozen=True)
class Judged:
    query: str
    grades: dict[str, int]  # url key -> grade 1..3


def url_key(url: str) -> str:
    """A document's identity independent of host and port: path plus fragment."""
    parts = urlsplit(url)
    return parts.path + (f"#{parts.fragment}" if parts.fragment else "")


def load_judged(path: Path) -> list[Judged]:
    data = yaml.safe_load(path.read_text("utf-8"))
    return [Judged(str(item["query"]), {str(k): int(v) for k, v in item["relevant"].items()}) for item in data["queries"]]


def load_judged_sets() -> dict[str, list[Judged]]:
    """Every judged set by name (see JUDGED_SETS)."""
    return {name: load_judged(path) for name, path in JUDGED_SETS.items()}


def dcg(grades: Iterable[int]) -> float:
    return sum((2 ** g - 1) / math.log2(rank + 2) for rank, g in enumerate(grades))


def ndcg(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    ideal = dcg(sorted(grades.values(), reverse=True)[:k])
    return dcg(grades.get(key, 0) for key in ranked[:k]) / ideal if ideal else 0.0


def precision(ranked: list[str], grades: dict[str, int], k: int = 5) -> float:
    return sum(grades.get(key, 0) >= RELEVANT_GRADE for key in ranked[:k]) / k


@dataclass(frozen=True)
class QueryScore:
    query: str
    ndcg10: float
    p5: float
    ranked: list[str]


def evaluate(run: Callable[[str], list[str]], judged: list[Judged]) -> list[QueryScore]:
    """Score ``run`` (query -> ranked URLs) on every judged query."""
    scores = []
    for item in judged:
        ranked = [url_key(url) for url in run(item.query)]
        scores.append(QueryScore(item.query, ndcg(ranked, item.grades), precision(ranked, item.grades), ranked))
    return scores


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0

"""Eval gate: the tagger must keep its scores on the gold set (tests/data/nlp/gold.jsonl).

Floors from the issue: entity F1 >= 0.90, figure F1 >= 0.90 (value within 1%, currency
right), relevance accuracy >= 0.95. `python bench/bench_nlp.py` prints the details.
"""
from pathlib import Path

import pytest

from nlp import Tagger
from nlp.evaluation import FIGURE_KINDS, SCORED_ENTITY_TYPES, evaluate, load_gold

GOLD = Path(__file__).parent / "data" / "nlp" / "gold.jsonl"
ENTITY_F1_FLOOR = 0.90
FIGURE_F1_FLOOR = 0.90
RELEVANCE_ACCURACY_FLOOR = 0.95


@pytest.fixture(scope="module")
def gold():
    return load_gold(GOLD)


@pytest.fixture(scope="module")
def scores(gold):
    return evaluate(gold, Tagger().tag)


def test_gold_set_is_big_and_varied_enough(gold):
    assert len(gold) >= 80
    assert {g["lang"] for g in gold} == {"zh", "en"}
    assert sum(not g["relevant"] for g in gold) >= 15  # hard negatives
    kinds = {f["kind"] for g in gold for f in g["figures"]}
    types = {e["type"] for g in gold for e in g["entities"]}
    assert kinds == set(FIGURE_KINDS) and types == set(SCORED_ENTITY_TYPES)
    for g in gold:  # every annotation is in its text
        assert all(m["text"] in g["text"] for m in g["entities"] + g["figures"]), g["id"]


def test_entity_f1(scores):
    assert scores.entity_total.f1 >= ENTITY_F1_FLOOR, "\n".join(scores.errors)


def test_figure_f1(scores):
    assert scores.figure_total.f1 >= FIGURE_F1_FLOOR, "\n".join(scores.errors)


def test_relevance_accuracy(scores):
    assert scores.relevance_accuracy >= RELEVANCE_ACCURACY_FLOOR, "\n".join(scores.errors)

"""Eval gate: the tagger must keep its scores on the gold sets under tests/data/nlp/.

gold.jsonl, floors from the issue: entity F1 >= 0.95 (0.90 before names outside the alias
table were discovered), figure F1 >= 0.90 (value within 1%, currency right), relevance accuracy
>= 0.95. gold_unseen.jsonl (sellers, associations and government bodies that are not in the
alias table): F1 >= 0.80 over those three types together and >= 0.70 for each.
`python bench/bench_nlp.py` prints the details.
"""
from pathlib import Path

import pytest

from nlp import Tagger
from nlp.evaluation import DISCOVERED_TYPES, FIGURE_KINDS, SCORED_ENTITY_TYPES, evaluate, load_gold
from nlp.resources import load_aliases

DATA = Path(__file__).parent / "data" / "nlp"
ENTITY_F1_FLOOR = 0.95
FIGURE_F1_FLOOR = 0.90
RELEVANCE_ACCURACY_FLOOR = 0.95
UNSEEN_F1_FLOOR = 0.80
UNSEEN_TYPE_F1_FLOOR = 0.70


@pytest.fixture(scope="module")
def tagger():
    return Tagger()


@pytest.fixture(scope="module")
def gold():
    return load_gold(DATA / "gold.jsonl")


@pytest.fixture(scope="module")
def unseen():
    return load_gold(DATA / "gold_unseen.jsonl")


@pytest.fixture(scope="module")
def scores(gold, tagger):
    return evaluate(gold, tagger.tag)


@pytest.fixture(scope="module")
def unseen_scores(unseen, tagger):
    return evaluate(unseen, tagger.tag)


def test_gold_set_is_big_and_varied_enough(gold):
    assert len(gold) >= 80
    assert {g["lang"] for g in gold} == {"zh", "en"}
    assert sum(not g["relevant"] for g in gold) >= 15  # hard negatives
    kinds = {f["kind"] for g in gold for f in g["figures"]}
    types = {e["type"] for g in gold for e in g["entities"]}
    assert kinds == set(FIGURE_KINDS) and types == set(SCORED_ENTITY_TYPES)
    for g in gold:  # every annotation is in its text
        assert all(m["text"] in g["text"] for m in g["entities"] + g["figures"]), g["id"]


def test_unseen_gold_set_names_what_the_alias_table_does_not(unseen):
    assert len(unseen) >= 40
    assert {g["lang"] for g in unseen} == {"zh", "en"}
    assert sum(not g["entities"] for g in unseen) >= 10  # hard negatives: hospitals, clubs, 有关协会
    known = {form for alias in load_aliases() for form in alias.forms}
    for etype in DISCOVERED_TYPES:
        mentions = [e for g in unseen for e in g["entities"] if e["type"] == etype]
        assert sum(e["text"] not in known for e in mentions) >= 10, etype
    for g in unseen:
        assert all(m["text"] in g["text"] for m in g["entities"] + g["figures"]), g["id"]


def test_entity_f1(scores):
    assert scores.entity_total.f1 >= ENTITY_F1_FLOOR, "\n".join(scores.errors)


def test_figure_f1(scores):
    assert scores.figure_total.f1 >= FIGURE_F1_FLOOR, "\n".join(scores.errors)


def test_relevance_accuracy(scores):
    assert scores.relevance_accuracy >= RELEVANCE_ACCURACY_FLOOR, "\n".join(scores.errors)


def test_unseen_names_are_discovered(unseen_scores):
    errors = "\n".join(e for e in unseen_scores.errors if "entity" in e)
    assert unseen_scores.discovered_total.f1 >= UNSEEN_F1_FLOOR, errors
    for etype in DISCOVERED_TYPES:
        assert unseen_scores.entities[etype].f1 >= UNSEEN_TYPE_F1_FLOOR, f"{etype}\n{errors}"

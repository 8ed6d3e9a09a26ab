"""Eval gate: the tagger must keep its scores on every labelled set; floors sit just under the
figures of one bench run (docs/nlp.md "Gold sets, scores and speed"; bench/bench_nlp.py prints them).

- ``$BANWAVE_EVALDATA/nlp_dev.jsonl``, 45 sentences written outside the team (read from the shared
  evaluation data, never copied here): relevance recall >= 0.95 at precision >= 0.90 (issue 10),
  entity and figure F1.
- ``tests/data/nlp/gold_plain.jsonl`` (ours: traditional Chinese, roles, unknown sellers, near
  misses): relevance, entities with and without the alias table, figures, roles.
- ``gold.jsonl`` and ``gold_unseen.jsonl`` (ours, strict: canonical names must be right too).
- The relevance model: its cross-validated figures (recall >= 0.95 at precision >= 0.90), that
  it was trained on the corpus shipped beside it, and (slow) that training reproduces it exactly.
- Every blind batch ``tests/data/nlp/blind*.jsonl`` (each scored once blind, a development set
  since; see its README): floors just under what the tagger reaches on it now (BLIND_FLOORS), or
  the issue's requirements for a batch not listed there, one test per file.
"""
import json
from pathlib import Path

import pytest

import config
from nlp.evaluation import (DISCOVERED_TYPES, FIGURE_KINDS, SCORED_ENTITY_TYPES, evaluate, evaluate_plain,
                            load_gold)
from nlp.resources import load_aliases

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "nlp"
BLIND_BATCHES = sorted(DATA.glob("blind*.jsonl"))

# gold.jsonl / gold_unseen.jsonl (strict)
ENTITY_F1_FLOOR = 0.97
FIGURE_F1_FLOOR = 0.95
RELEVANCE_ACCURACY_FLOOR = 0.95
UNSEEN_F1_FLOOR = 0.95
UNSEEN_RULES_ONLY_F1_FLOOR = 0.90
UNSEEN_TYPE_F1_FLOOR = 0.90
# the issue's requirements, on nlp_dev.jsonl, the cross-validation and the blind batch
REQUIRED_RECALL = 0.95
REQUIRED_PRECISION = 0.90
REQUIRED_DISCOVERY_F1 = 0.90  # sellers, associations, governments with the alias table emptied (blind batch)
# Each batch, once scored blind, is a development set: it is held just under what the tagger reaches
# on it now (all above the requirements). blind1 was scored blind at relevance P 0.770 R 0.975,
# discovery F1 0.789 (blind1.README.md); blind2 at P 0.868 R 0.975, discovery 0.806 (blind2.README.md),
# then held at P 0.90 R 0.95 and discovery 0.88 until the fourth round took it to P 0.944 R 0.975
# and discovery 0.913 (blind1: P 0.929 R 0.983, discovery 0.970); blind3 at P 0.914 R 0.975,
# discovery 0.790 (blind3.README.md), which the fifth round's cues took to 0.952 (blind1 0.979,
# blind2 0.936); blind4 at P 0.922 R 0.992, discovery 0.871 (blind4.README.md). A new batch
# without an entry is held to the requirements.
# (sixth round: discovery blind1 0.988, blind2 0.956, blind3 0.979, blind4 0.990 — blind4 was 0.871 blind;
# blind3 precision 0.914 -> 0.907 with the model retrained for the round's entities, still above the issue's 0.90)
# (eighth round, structures that mark a business or a body: blind5 0.951 -> 0.986, blind6 0.871 -> 0.994, blind2 0.956 -> 0.970;
# development figures: both batches' misses were read for the kinds of cue)
# blind7 (an eighth writer) scored blind with the eighth round's tagger: P 0.967 R 0.983, discovery 0.902
# (blind7.README.md), the first blind batch at the requirement; held at the requirement, not lowered.
BLIND_FLOORS = {"blind1.jsonl": {"precision": 0.92, "recall": 0.975, "discovery_f1": 0.98},
                "blind2.jsonl": {"precision": 0.935, "recall": 0.97, "discovery_f1": 0.965},
                "blind3.jsonl": {"precision": REQUIRED_PRECISION, "recall": 0.97, "discovery_f1": 0.97},
                "blind4.jsonl": {"precision": 0.915, "recall": 0.98, "discovery_f1": 0.985},
                "blind5.jsonl": {"precision": 0.92, "recall": 0.97, "discovery_f1": 0.98},
                "blind6.jsonl": {"precision": 0.95, "recall": 0.96, "discovery_f1": 0.99},
                "blind7.jsonl": {"precision": 0.96, "recall": 0.98, "discovery_f1": 0.90}}
# nlp_dev.jsonl with the alias table emptied: 0.765 before the fifth round, 0.880 after it, 0.923 after
# the sixth (what is left are bare known names with no cue at all, which no pattern can find)
DEV_DISCOVERY_F1_FLOOR = 0.91


@pytest.fixture(scope="module")
def gold():
    return load_gold(DATA / "gold.jsonl")


@pytest.fixture(scope="module")
def unseen():
    return load_gold(DATA / "gold_unseen.jsonl")


@pytest.fixture(scope="module")
def dev():
    path = config.evaldata_dir() / "nlp_dev.jsonl"
    if not path.is_file():
        pytest.fail(f"evaldata not found at {path}: set BANWAVE_EVALDATA or put shared/evaldata beside the checkout",
                    pytrace=False)
    return load_gold(path)


# --- nlp_dev.jsonl (outside the team) ---------------------------------------------------------

def test_dev_relevance_recall_first(dev, tagger):
    scores = evaluate_plain(dev, tagger.tag)
    errors = "\n".join(e for e in scores.errors if "relevance" in e)
    assert scores.relevance.recall >= REQUIRED_RECALL, errors
    assert scores.relevance.precision >= REQUIRED_PRECISION, errors


def test_dev_entities_and_figures(dev, tagger):
    scores = evaluate_plain(dev, tagger.tag)
    assert scores.entity_total.f1 >= 0.97, "\n".join(scores.errors)
    assert scores.figure_total.f1 >= 0.97, "\n".join(scores.errors)


def test_dev_discovery_without_the_alias_table(dev, rules_only):
    scores = evaluate_plain(dev, rules_only.tag)
    assert scores.discovered_total.f1 >= DEV_DISCOVERY_F1_FLOOR, "\n".join(e for e in scores.errors if "entity" in e)


# --- gold_plain.jsonl (ours) ------------------------------------------------------------------

@pytest.fixture(scope="module")
def plain():
    return load_gold(DATA / "gold_plain.jsonl")


def test_plain_set_covers_what_the_issue_lists(plain):
    assert len(plain) >= 50 and {i["lang"] for i in plain} == {"zh", "zh-hant", "en"}
    assert sum(not i["relevant"] for i in plain) >= 10
    currencies = {f[2] for i in plain for f in i["figures"] if f[0] == "money"}
    assert {"CNY", "USD", "EUR", "GBP", "HKD", "TWD", "JPY"} <= currencies
    roles = {f[3] for i in plain for f in i["figures"] if f[0] == "money"}
    assert {"loss", "frozen", "fine", "sales", "valuation", "subsidy", "other"} <= roles
    for item in plain:
        assert all(surface in item["text"] for _, surface in item["entities"]), item["id"]


def test_plain_relevance(plain, tagger):
    scores = evaluate_plain(plain, tagger.tag)
    errors = "\n".join(e for e in scores.errors if "relevance" in e)
    assert scores.relevance.recall >= 0.90 and scores.relevance.precision >= 0.95, errors


def test_plain_entities_with_and_without_the_alias_table(plain, tagger, rules_only):
    full, bare = evaluate_plain(plain, tagger.tag), evaluate_plain(plain, rules_only.tag)
    assert full.entity_total.f1 >= 0.97, "\n".join(full.errors)
    assert bare.discovered_total.f1 >= 0.90, "\n".join(e for e in bare.errors if "entity" in e)


def test_plain_figures_and_roles(plain, tagger):
    scores = evaluate_plain(plain, tagger.tag)
    assert scores.figure_total.f1 >= 0.95, "\n".join(scores.errors)
    assert scores.role_accuracy >= 0.73, "\n".join(e for e in scores.errors if "role" in e)


# --- gold.jsonl and gold_unseen.jsonl (ours, strict) --------------------------------------------

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


def test_gold_entities_figures_relevance(gold, tagger):
    scores = evaluate(gold, tagger.tag)
    assert scores.entity_total.f1 >= ENTITY_F1_FLOOR, "\n".join(scores.errors)
    assert scores.figure_total.f1 >= FIGURE_F1_FLOOR, "\n".join(scores.errors)
    assert scores.relevance_accuracy >= RELEVANCE_ACCURACY_FLOOR, "\n".join(scores.errors)


def test_unseen_names_are_discovered(unseen, tagger, rules_only):
    scores, bare = evaluate(unseen, tagger.tag), evaluate(unseen, rules_only.tag)
    errors = "\n".join(e for e in scores.errors if "entity" in e)
    assert scores.discovered_total.f1 >= UNSEEN_F1_FLOOR, errors
    assert bare.discovered_total.f1 >= UNSEEN_RULES_ONLY_F1_FLOOR, "\n".join(bare.errors)
    for etype in DISCOVERED_TYPES:
        assert scores.entities[etype].f1 >= UNSEEN_TYPE_F1_FLOOR, f"{etype}\n{errors}"


# --- the relevance model ----------------------------------------------------------------------

def test_cross_validated_relevance_meets_the_requirement(tagger):
    cv = tagger.relevance.model.cv
    assert cv["texts"] >= 1000
    assert cv["recall"] >= REQUIRED_RECALL and cv["precision"] >= REQUIRED_PRECISION, cv


def test_the_model_was_trained_on_the_shipped_corpus():
    from nlp.train import MODEL_PATH, _corpus_hash, load_corpus

    model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert model["corpus"]["sha256"] == _corpus_hash(load_corpus()), "run `python -m nlp train`"


@pytest.mark.slow
def test_training_reproduces_the_shipped_model(tmp_path):
    from nlp.train import MODEL_PATH, main

    assert main(["--out", str(tmp_path / "model.json")]) == 0
    assert json.loads((tmp_path / "model.json").read_text("utf-8")) == json.loads(MODEL_PATH.read_text("utf-8"))


# --- the blind batches (written outside the NLP code; each scored once before any tuning) ----------

def test_there_is_a_blind_batch():
    assert BLIND_BATCHES, f"no blind*.jsonl under {DATA.relative_to(REPO)}"


@pytest.fixture(scope="module", params=BLIND_BATCHES, ids=lambda path: path.name)
def blind(request):
    required = {"precision": REQUIRED_PRECISION, "recall": REQUIRED_RECALL, "discovery_f1": REQUIRED_DISCOVERY_F1}
    return load_gold(request.param), BLIND_FLOORS.get(request.param.name, required)


def test_blind_relevance(blind, tagger):
    gold, floors = blind
    scores = evaluate_plain(gold, tagger.tag)
    assert scores.relevance.recall >= floors["recall"] and scores.relevance.precision >= floors["precision"], \
        "\n".join(e for e in scores.errors if "relevance" in e)


def test_blind_entities_without_the_alias_table(blind, rules_only):
    gold, floors = blind
    scores = evaluate_plain(gold, rules_only.tag)
    assert scores.discovered_total.f1 >= floors["discovery_f1"], "\n".join(e for e in scores.errors if "entity" in e)

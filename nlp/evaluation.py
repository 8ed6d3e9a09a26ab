"""Scoring against the gold sets under tests/data/nlp/, shared by the eval gate test and bench.

Gold items: ``{"id", "lang", "text", "relevant", "entities": [{"type", "text", "name"}],
"figures": [{"kind", "text", "value", "currency", "counted", "qualifier"}]}``. Gold lists
each mention once per occurrence; offsets are not annotated (they are checked by property tests).

- Entities: a prediction is right when type, surface text and canonical name all equal a gold
  mention's (multiset match). Only the scored types count; media/person/location are ignored.
- Figures: right when the kind is equal, the predicted span overlaps an occurrence of the gold
  text, the value is within 1% and the currency is equal (one-to-one, greedy in text order).
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

SCORED_ENTITY_TYPES = ("seller", "association", "platform", "government")
# The types whose unknown names the rules must find (gold_unseen.jsonl); platforms are few and all known.
DISCOVERED_TYPES = ("seller", "association", "government")
FIGURE_KINDS = ("money", "count", "percent")
VALUE_TOLERANCE = 0.01


@dataclass
class PRF:
    """True positives, false positives, false negatives; precision, recall, F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: "PRF") -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn


@dataclass
class Scores:
    entities: dict[str, PRF] = field(default_factory=lambda: {t: PRF() for t in SCORED_ENTITY_TYPES})
    figures: dict[str, PRF] = field(default_factory=lambda: {k: PRF() for k in FIGURE_KINDS})
    relevance_correct: int = 0
    documents: int = 0
    counted_correct: int = 0
    qualifier_correct: int = 0
    figures_matched: int = 0
    errors: list[str] = field(default_factory=list)  # one line per miss, for reading
    mentions: list[tuple[str, str, bool]] = field(default_factory=list)  # (type, gold surface, found) per gold mention

    @staticmethod
    def total(parts: Iterable[PRF]) -> PRF:
        total = PRF()
        for part in parts:
            total.add(part)
        return total

    @property
    def entity_total(self) -> PRF:
        return self.total(self.entities.values())

    @property
    def discovered_total(self) -> PRF:
        return self.total(self.entities[t] for t in DISCOVERED_TYPES)

    @property
    def figure_total(self) -> PRF:
        return self.total(self.figures.values())

    @property
    def relevance_accuracy(self) -> float:
        return self.relevance_correct / self.documents if self.documents else 0.0


def recall_of_unknown_names(mentions: Iterable[tuple[str, str, bool]], known: Callable[[str], bool]) -> PRF:
    """Recall (tp, fn) on the sellers, associations and government bodies whose names the alias table
    does not know (``known(surface)`` false): the issue's "sellers the alias table lacks", apart from
    the well-known names that only the table finds."""
    prf = PRF()
    for etype, surface, hit in mentions:
        if etype in DISCOVERED_TYPES and not known(surface):
            prf.tp += hit
            prf.fn += not hit
    return prf


def alias_lookup(aliases: Iterable, simplify: Callable[[str], str]) -> Callable[[str], bool]:
    """``known(surface)``: is the surface, in either script, a form of the alias table (case, spaces and
    punctuation ignored, as the plain scoring does)?"""
    forms = {_norm(simplify(form)) for alias in aliases for form in alias.forms}
    return lambda surface: _norm(simplify(surface)) in forms


def load_gold(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score_entities(gold: dict, predicted: list[dict], scores: Scores) -> None:
    def keys(mentions):
        return Counter((m["type"], m["text"], m["name"]) for m in mentions if m["type"] in SCORED_ENTITY_TYPES)

    gold_keys, predicted_keys = keys(gold["entities"]), keys(predicted)
    for key in gold_keys | predicted_keys:
        tp = min(gold_keys[key], predicted_keys[key])
        prf = scores.entities[key[0]]
        prf.tp += tp
        prf.fp += predicted_keys[key] - tp
        prf.fn += gold_keys[key] - tp
        scores.mentions += [(key[0], key[1], True)] * tp + [(key[0], key[1], False)] * (gold_keys[key] - tp)
        if predicted_keys[key] > tp:
            scores.errors.append(f"{gold['id']}: entity FP {key}")
        if gold_keys[key] > tp:
            scores.errors.append(f"{gold['id']}: entity FN {key}")


def _occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    spans, start = [], text.find(needle)
    while start >= 0:
        spans.append((start, start + len(needle)))
        start = text.find(needle, start + 1)
    return spans


def figure_matches(text: str, gold_figure: dict, predicted: dict) -> bool:
    if gold_figure["kind"] != predicted["kind"] or gold_figure["currency"] != predicted["currency"]:
        return False
    value = gold_figure["value"]
    if abs(predicted["value"] - value) > VALUE_TOLERANCE * abs(value):
        return False
    return any(s < predicted["end"] and predicted["start"] < e for s, e in _occurrences(text, gold_figure["text"]))


def score_figures(gold: dict, predicted: list[dict], scores: Scores) -> None:
    unmatched = list(predicted)
    for gold_figure in gold["figures"]:
        match = next((p for p in unmatched if figure_matches(gold["text"], gold_figure, p)), None)
        if match is None:
            scores.figures[gold_figure["kind"]].fn += 1
            scores.errors.append(f"{gold['id']}: figure FN {gold_figure['kind']} {gold_figure['text']!r} "
                                 f"{gold_figure['value']} {gold_figure['currency']}")
            continue
        unmatched.remove(match)
        scores.figures[gold_figure["kind"]].tp += 1
        scores.figures_matched += 1
        scores.counted_correct += match.get("counted") == gold_figure.get("counted")
        scores.qualifier_correct += match.get("qualifier") == gold_figure.get("qualifier")
    for extra in unmatched:
        scores.figures[extra["kind"]].fp += 1
        scores.errors.append(f"{gold['id']}: figure FP {extra['kind']} {extra['text']!r} {extra['value']} "
                             f"{extra['currency']}")


def evaluate(gold_items: list[dict], tag) -> Scores:
    """Score ``tag(text, lang) -> dict`` (the Tagger.tag interface) on the gold items."""
    scores = Scores()
    for gold in gold_items:
        result = tag(gold["text"], gold.get("lang"))
        score_entities(gold, result["entities"], scores)
        score_figures(gold, result["figures"], scores)
        scores.documents += 1
        if result["relevant"] == gold["relevant"]:
            scores.relevance_correct += 1
        else:
            scores.errors.append(f"{gold['id']}: relevance {result['relevant']} ({result['relevance']}), "
                                 f"gold {gold['relevant']}")
    return scores


# --- the plain format of the corpus, the evaluation data and the blind batch -------------------
# {"id", "text", "relevant", "entities": [[type, surface]], "figures": [[kind, value, currency, role?]]}
# Scored like ../shared/evaldata/score_nlp.py: an entity is right when the type is equal and one
# surface contains the other (punctuation and case ignored); a figure when the kind is equal, the
# value within 1% and the currency equal where the gold one is given. Roles are scored on the
# money figures matched, where the gold gives one.

def _norm(surface: str) -> str:
    return "".join(ch for ch in surface.lower() if ch.isalnum())


@dataclass
class PlainScores:
    relevance: PRF = field(default_factory=PRF)
    relevance_correct: int = 0
    documents: int = 0
    entities: dict[str, PRF] = field(default_factory=lambda: {t: PRF() for t in SCORED_ENTITY_TYPES})
    figures: dict[str, PRF] = field(default_factory=lambda: {k: PRF() for k in FIGURE_KINDS})
    roles_correct: int = 0
    roles_scored: int = 0
    errors: list[str] = field(default_factory=list)
    mentions: list[tuple[str, str, bool]] = field(default_factory=list)  # (type, gold surface, found) per gold mention

    @property
    def discovered_total(self) -> PRF:
        return Scores.total(self.entities[t] for t in DISCOVERED_TYPES)

    @property
    def entity_total(self) -> PRF:
        return Scores.total(self.entities.values())

    @property
    def figure_total(self) -> PRF:
        return Scores.total(self.figures.values())

    @property
    def relevance_accuracy(self) -> float:
        return self.relevance_correct / self.documents if self.documents else 0.0

    @property
    def role_accuracy(self) -> float:
        return self.roles_correct / self.roles_scored if self.roles_scored else 1.0


def evaluate_plain(items: list[dict], tag) -> PlainScores:
    """Score ``tag(text, lang) -> dict`` on items of the plain format (see above)."""
    scores = PlainScores()
    for item in items:
        lang = item.get("lang")
        result = tag(item["text"], lang if lang in ("zh", "en") else None)
        _plain_relevance(item, result, scores)
        _plain_entities(item, result["entities"], scores)
        _plain_figures(item, result["figures"], scores)
    return scores


def _plain_relevance(item: dict, result: dict, scores: PlainScores) -> None:
    scores.documents += 1
    gold, predicted = bool(item["relevant"]), bool(result["relevant"])
    scores.relevance_correct += gold == predicted
    scores.relevance.tp += gold and predicted
    scores.relevance.fp += predicted and not gold
    scores.relevance.fn += gold and not predicted
    if gold != predicted:
        scores.errors.append(f"{item['id']}: relevance {predicted} ({result['relevance']}), gold {gold}")


def _plain_entities(item: dict, predicted: list[dict], scores: PlainScores) -> None:
    """Gold lists each surface once (WRITERS.md), so repeated predictions of one surface count once."""
    left = list(dict.fromkeys((e["type"], _norm(e["text"]), e["text"]) for e in predicted
                              if e["type"] in SCORED_ENTITY_TYPES))
    for etype, surface in item["entities"]:
        if etype not in SCORED_ENTITY_TYPES:
            continue
        gold = _norm(surface)
        match = next((p for p in left if p[0] == etype and p[1] and (p[1] in gold or gold in p[1])), None)
        scores.mentions.append((etype, surface, match is not None))
        if match is None:
            scores.entities[etype].fn += 1
            scores.errors.append(f"{item['id']}: entity FN {etype} {surface}")
        else:
            left.remove(match)
            scores.entities[etype].tp += 1
    for etype, _, surface in left:
        scores.entities[etype].fp += 1
        scores.errors.append(f"{item['id']}: entity FP {etype} {surface}")


def _plain_figures(item: dict, predicted: list[dict], scores: PlainScores) -> None:
    left = list(predicted)
    for kind, value, currency, *role in item["figures"]:
        match = next((p for p in left if p["kind"] == kind and abs(p["value"] - value) <= VALUE_TOLERANCE * abs(value)
                      and (currency is None or p["currency"] == currency)), None)
        if match is None:
            scores.figures[kind].fn += 1
            scores.errors.append(f"{item['id']}: figure FN {kind} {value} {currency or ''}")
            continue
        left.remove(match)
        scores.figures[kind].tp += 1
        if kind == "money" and role and role[0]:
            scores.roles_scored += 1
            scores.roles_correct += match["role"] == role[0]
            if match["role"] != role[0]:
                scores.errors.append(f"{item['id']}: role {match['role']} for {match['text']!r}, gold {role[0]}")
    for extra in left:
        scores.figures[extra["kind"]].fp += 1
        scores.errors.append(f"{item['id']}: figure FP {extra['kind']} {extra['text']!r} {extra['value']}")

"""Relevance: is a document about platforms closing, suspending, freezing or penalising sellers'
stores or accounts, or the fallout? A logistic model over the lexicon and the text's n-grams.

Features of a document, all from the one segmentation the tagger already has:

- ``lex:<group>``: the lexicon groups of ``nlp/data/relevance.yaml`` that the text hits
  (closure, fallout, manipulation, ... ; Chinese terms are substrings, so 冻结资金 counts as
  冻结, English terms whole words), and ``lex:platform`` / ``lex:seller`` for entities found;
- ``w:<word>``: the distinct jieba words (lower case; no punctuation or numbers);
- ``c:<chars>``: the distinct character bigrams and trigrams of its Chinese runs, which catch
  what the segmentation splits or glues differently (资金被冻住了, 站点被暂停);
- ``b:<w1 w2>``: distinct English word bigrams ("selling privileges", "were suspended").

The n-gram features are binary and scaled to unit length (a long article does not outweigh a
sentence); the lexicon features are binary and unscaled, so one strong term still counts in a
long page. Weights and bias come from ``nlp/data/relevance_model.json``, written by
``python -m nlp train`` (``nlp/train.py``) from the labelled corpus; the bias is shifted so the
operating point chosen by cross-validation (recall first) sits at a score of 0.5.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Iterable, Sequence

from nlp.entities import Entity, Segmentation

_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
_LATIN_WORD = re.compile(r"[a-z][a-z'-]*")
LEXICON_ENTITY_TYPES = ("platform", "seller")
REASONS = 5  # features kept in relevance_reasons


def _trie_regex(words: Iterable[str]) -> str:
    """An alternation of literal words factored by common prefixes: the regex engine then tries
    one branch per character instead of every word at every position."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return build(trie)


class Lexicon:
    """The term groups of ``relevance.yaml``, one regular-expression pass per group (groups
    overlap: 站点被亚马逊暂停 is a closure and 亚马逊 a marketplace term)."""

    def __init__(self, lexicon: dict):
        self._regexes: dict[str, re.Pattern] = {}
        for name, spec in lexicon["groups"].items():
            terms = {t.lower() for t in spec["terms"]}
            alternatives = []
            cjk = [t for t in terms if not t.isascii()]
            latin = [t for t in terms if t.isascii()]
            if cjk:
                alternatives.append(_trie_regex(cjk))
            if latin:  # whole words: the left boundary is checked in score(), see below
                alternatives.append(f"(?:{_trie_regex(latin)})(?![a-z0-9])")
            alternatives += [f"(?:{p})" for p in spec["patterns"]]
            if alternatives:
                # no leading \b: a leading assertion stops the engine skipping ahead by first character
                self._regexes[name] = re.compile("|".join(alternatives))

    @property
    def feature_names(self) -> list[str]:
        """The lexicon features a document can have: the term groups, then the entity types."""
        return [*self._regexes, *LEXICON_ENTITY_TYPES]

    def hits(self, lowered: str) -> dict[str, set[str]]:
        """Group -> the distinct terms of it found in ``lowered`` (the lower-cased text)."""
        found: dict[str, set[str]] = {}
        for name, regex in self._regexes.items():
            for match in regex.finditer(lowered):
                start = match.start()
                if start and _is_ascii_alnum(lowered[start]) and _is_ascii_alnum(lowered[start - 1]):
                    continue  # inside a word ("marketplace" must not hit "place")
                found.setdefault(name, set()).add(match.group())
        return found


def features(text: str, seg: Segmentation, entities: Sequence[Entity], lexicon: Lexicon) -> tuple[set[str], dict[str, set[str]]]:
    """The document's n-gram features and its lexicon hits (group -> terms), as the model reads them."""
    lowered = text.lower()
    grams = {"w:" + w for w in map(str.lower, seg.words) if len(w) > 1 or not w.isascii() and w.isalpha()}
    grams = {g for g in grams if any(ch.isalpha() for ch in g[2:])}
    for run in _CJK_RUN.findall(text):
        grams.update("c:" + run[i:i + 2] for i in range(len(run) - 1))
        grams.update("c:" + run[i:i + 3] for i in range(len(run) - 2))
    latin = _LATIN_WORD.findall(lowered)
    grams.update(f"b:{a} {b}" for a, b in zip(latin, latin[1:]))
    hits = lexicon.hits(lowered)
    for etype in LEXICON_ENTITY_TYPES:
        names = {e.name for e in entities if e.type == etype}
        if names:
            hits[etype] = names
    return grams, hits


class RelevanceModel:
    """The trained weights (``relevance_model.json``): score and reasons for one document."""

    def __init__(self, path: Path):
        model = json.loads(path.read_text(encoding="utf-8"))
        self.bias = float(model["bias"])
        self.weights: dict[str, float] = model["weights"]
        self.lexicon_weights: dict[str, float] = model["lexicon_weights"]
        self.cv = model.get("cv", {})

    def score(self, grams: set[str], hits: dict[str, set[str]]) -> tuple[float, list[str]]:
        """Score in [0, 1] and the features that pushed it most toward its verdict."""
        known = [g for g in grams if g in self.weights]
        scale = 1.0 / math.sqrt(len(known)) if known else 0.0
        contributions = [(self.weights[g] * scale, g) for g in known]
        contributions += [(self.lexicon_weights.get(group, 0.0), f"lex:{group}") for group in hits]
        z = self.bias + sum(c for c, _ in contributions)
        score = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        sign = 1.0 if z >= 0 else -1.0
        # lexicon groups first, then words and word pairs, then character n-grams (亚马 and 马逊 say
        # less than 亚马逊); single characters and short English words (被, in) explain nothing
        strongest = sorted(((_READABILITY[g[0]], -c * sign, g) for c, g in contributions
                            if c * sign > 0 and _explains(g)))
        return round(score, 4), list(dict.fromkeys(_readable(g, hits) for *_, g in strongest))[:REASONS]


_READABILITY = {"l": 0, "w": 1, "b": 1, "c": 2}


def _explains(feature: str) -> bool:
    value = feature.partition(":")[2]
    return len(value) >= (4 if value.isascii() else 2)


def _readable(feature: str, hits: dict[str, set[str]]) -> str:
    """``lex:closure`` -> ``closure: 冻结, 暂停``; ``w:封号`` -> ``封号``."""
    kind, _, value = feature.partition(":")
    if kind == "lex":
        return f"{value}: {', '.join(sorted(hits[value])[:3])}"
    return value


class RelevanceScorer:
    """Lexicon + model: ``score`` gives (relevance, reasons); ``is_relevant`` the boolean."""

    THRESHOLD = 0.5  # the trained bias puts the cross-validated operating point here

    def __init__(self, lexicon: dict, model_path: Path | None):
        self.lexicon = Lexicon(lexicon)
        self.model = RelevanceModel(model_path) if model_path is not None else None

    def score(self, text: str, seg: Segmentation, entities: Sequence[Entity]) -> tuple[float, list[str]]:
        if self.model is None:
            raise RuntimeError("this Tagger was built without a relevance model (relevance_model=None)")
        grams, hits = features(text, seg, entities, self.lexicon)
        return self.model.score(grams, hits)

    def is_relevant(self, score: float, threshold: float | None = None) -> bool:
        return score >= (self.THRESHOLD if threshold is None else threshold)


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()

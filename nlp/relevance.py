"""Relevance: is a document about platforms closing, suspending, freezing or penalising sellers'
stores or accounts, or the fallout? A logistic model over the lexicon and the text's n-grams.

Features of a document, all from the one segmentation the tagger already has:

- ``lex:<group>``: the lexicon groups of ``nlp/data/relevance.yaml`` that the text hits
  (closure, fallout, manipulation, ... ; Chinese terms are substrings, so 冻结资金 counts as
  冻结, English terms whole words), ``lex:<type>`` for the entity types found (platform,
  association, government; not seller, see LEXICON_ENTITY_TYPES) and conjunctions of these (``CONJUNCTIONS``);
- ``w:<word>``: the distinct jieba words (lower case; words without a letter get no weight);
- ``c:<chars>``: the distinct character bigrams of its Chinese runs, which catch what the
  segmentation splits or glues differently (资金被冻住了, 站点被暂停); trigrams as well cost
  time and lost out-of-fold precision (0.929 against 0.945 at recall 0.98);
- ``b:<w1 w2>``: distinct English word bigrams ("selling privileges", "were suspended").

The n-gram features are binary and scaled to unit length (a long article does not outweigh a
sentence); the lexicon features are binary and unscaled, so one strong term still counts in a
long page. Weights and bias come from ``nlp/data/relevance_model.json``, written by
``python -m nlp train`` (``nlp/train.py``) from the labelled corpus; the bias is shifted so the
operating point chosen by cross-validation (recall first) sits at a score of 0.5.

Each feature kind is a set lookup per distinct n-gram of the document, so the model costs about
as much as the lexicon; the reasons kept are the strongest features in the direction of the
verdict, lexicon groups first (an analyst reads "closure: 冻结, 封号" more easily than "冻结").
"""
from __future__ import annotations

import json
import math
import re
from itertools import chain
from pathlib import Path
from typing import NamedTuple, Sequence

from nlp.regex import with_first_characters
from nlp.segmentation import Entity, Segmentation

_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
_LATIN_WORD = re.compile(r"[a-z][a-z'-]*")
_ALNUM_WORD = re.compile(r"[a-z0-9]+")
# Entity types that are features. A seller named is not one: texts by new writers name sellers in
# near misses (a launch, a freight quote, a shop closing for its own reasons) and the feature, a
# trait of the corpus's relevant texts, made them relevant (held-out precision 0.908 -> 0.944 on
# blind2 without it, docs/nlp.md). Sellers still count beside a body (body+sellers).
LEXICON_ENTITY_TYPES = ("platform", "association", "government")
# Pairs of lexicon features whose co-occurrence is a feature of its own (a linear model cannot
# form it): a body speaking about sellers (a commerce bureau's meeting with affected exporters)
# or about the fallout (an association counting losses, a bureau's subsidy for firms that must
# change course), a trade body on the ban's causes (urging members to stop buying reviews: the
# police and courts speak of 刷单 scams too, so only associations),
# and a ban word beside a marketplace or platform (封 near 店铺, not near a game account).
CONJUNCTIONS = {"body+sellers": (("association", "government"), ("marketplace", "seller")),
                "body+fallout": (("association", "government"), ("fallout",)),
                "association+cause": (("association",), ("cause", "manipulation")),
                "ban+market": (("wave", "closure", "penalty"), ("marketplace", "platform")),
                "ban+scam": (("seller_ban", "closure"), ("scam_crime", "phishing")),
                "ban+own": (("seller_ban", "closure"), ("own_closure",)),
                "ban+consumer": (("seller_ban", "closure"), ("consumer",)),
                "ban+social": (("seller_ban", "closure"), ("social_game",))}
REASONS = 5  # features kept in relevance_reasons


class Lexicon:
    """The term groups of ``relevance.yaml``. Terms are looked up through what ``features`` has
    already computed — a two-character Chinese term among the document's character bigrams, a
    longer one only where the document has its first bigram, a one-word English term in the
    document's set of words — and the longer ones confirmed by a substring test, so no expression
    scans the text for them; the hand-written patterns are one regular expression (groups
    overlap: 站点被亚马逊暂停 is a closure pattern, 亚马逊 a marketplace term)."""

    def __init__(self, lexicon: dict):
        self.groups = list(lexicon["groups"])
        self._groups_of: dict[str, list[str]] = {}
        patterns = []
        for name, spec in lexicon["groups"].items():
            for term in {t.lower() for t in spec["terms"]}:
                self._groups_of.setdefault(term, []).append(name)
            if spec["patterns"]:
                patterns.append(f"(?P<{name}>{with_first_characters('|'.join(f'(?:{p})' for p in spec['patterns']))})")
        self._by_bigram: dict[str, list[str]] = {}  # longer Chinese terms by their first two characters
        self._bigram_terms: frozenset = frozenset()  # two-character Chinese terms: hit when a bigram of the text
        self._words: frozenset = frozenset()        # one-word English terms (letters and digits)
        other = []                                  # phrases, and terms starting with a digit (双11)
        for term in self._groups_of:
            if _CJK_RUN.match(term[:2]):
                if len(term) == 2:
                    self._bigram_terms |= {term}
                else:
                    self._by_bigram.setdefault(term[:2], []).append(term)
            elif _ALNUM_WORD.fullmatch(term):
                self._words |= {term}
            else:
                other.append(term)
        # whole words only for a phrase that begins or ends with a Latin letter or digit; such a
        # phrase is looked for only where its first word is one of the document's words
        self._phrases = [(_ALNUM_WORD.match(t).group() if _is_ascii_alnum(t[0]) else None, t,
                          re.compile(("(?<![a-z0-9])" if _is_ascii_alnum(t[0]) else "") + re.escape(t)
                                     + ("(?![a-z0-9])" if _is_ascii_alnum(t[-1]) else "")))
                         for t in sorted(other)]
        # first-character lookaheads on the whole and on each group: the first halves the cost of
        # this pass, the second saves about a seventh of the rest (a position is tried against
        # only the groups that can start there)
        self._patterns = re.compile(with_first_characters("|".join(patterns))) if patterns else None

    @property
    def feature_names(self) -> list[str]:
        """The lexicon features a document can have: the term groups, the entity types, the conjunctions."""
        return [*self.groups, *LEXICON_ENTITY_TYPES, *CONJUNCTIONS]

    def hits(self, lowered: str, bigrams: set[str]) -> dict[str, set[str]]:
        """Group -> the distinct terms of it found in ``lowered`` (the lower-cased text, whose
        Chinese character bigrams are ``bigrams``). Terms are substrings: 冻结资金 hits 冻结, and
        被封号 hits both 被封 and 封号."""
        terms = [*self._bigram_terms.intersection(bigrams),
                 *(t for bigram in bigrams & self._by_bigram.keys() for t in self._by_bigram[bigram] if t in lowered)]
        tokens = set(_ALNUM_WORD.findall(lowered))
        terms += self._words.intersection(tokens)
        terms += [t for first, t, regex in self._phrases
                  if (first is None or first in tokens) and t in lowered and regex.search(lowered)]
        found: dict[str, set[str]] = {}
        for term in terms:
            for name in self._groups_of[term]:
                found.setdefault(name, set()).add(term)
        if self._patterns is not None:
            for match in self._patterns.finditer(lowered):
                start = match.start()
                if start and _is_ascii_alnum(lowered[start]) and _is_ascii_alnum(lowered[start - 1]):
                    continue  # inside a word ("marketplace" must not hit "place")
                found.setdefault(match.lastgroup, set()).add(match.group())
        return found


class Features(NamedTuple):
    """What the model reads of a document: distinct words, Chinese character bigrams,
    English word pairs, and the lexicon hits (group or entity type -> the terms or names found)."""

    words: set[str]
    chars: set[str]
    pairs: set[str]
    hits: dict[str, set[str]]

    def grams(self) -> dict[str, set[str]]:
        """The n-gram sets by kind, as the model file keys its weights: w, c, b."""
        return {"w": self.words, "c": self.chars, "b": self.pairs}


def features(text: str, seg: Segmentation, entities: Sequence[Entity], lexicon: Lexicon) -> Features:
    """The document's features (``text`` is the simplified text ``seg`` segments)."""
    lowered = text.lower()
    words = set(map(str.lower, set(seg.words)))  # punctuation and numbers have no weight (see nlp/train.py)
    chars: set[str] = set()
    for run in _CJK_RUN.findall(text):
        chars.update(map(str.__add__, run, run[1:]))  # each character and the next: the run's bigrams
    latin = _LATIN_WORD.findall(lowered)
    pairs = {f"{a} {b}" for a, b in zip(latin, latin[1:])}
    hits = lexicon.hits(lowered, chars)
    for etype in LEXICON_ENTITY_TYPES:
        names = {e.name for e in entities if e.type == etype}
        if names:
            hits[etype] = names
    # sellers are no feature of their own, only a side of a conjunction (body+sellers)
    sellers = {e.name for e in entities if e.type == "seller"}
    sides = {**hits, "seller": sellers} if sellers else hits
    for name, (left, right) in CONJUNCTIONS.items():
        first = next((sides[f] for f in left if f in sides), None)
        second = next((sides[f] for f in right if f in sides), None)
        if first and second:
            hits[name] = {next(iter(sorted(first))), next(iter(sorted(second)))}
    return Features(words, chars, pairs, hits)


class RelevanceModel:
    """The trained weights (``relevance_model.json``): score and reasons for one document."""

    def __init__(self, path: Path):
        model = json.loads(path.read_text(encoding="utf-8"))
        self.bias = float(model["bias"])
        self.weights: dict[str, dict[str, float]] = model["weights"]
        self.lexicon_weights: dict[str, float] = model["lexicon_weights"]
        self.cv = model.get("cv", {})
        # the n-grams that can be reasons, by kind and by the sign of their weight (see _reasons)
        self._reason_grams = {(kind, sign): frozenset(g for g, w in table.items()
                                                      if w * sign > 0 and len(g) >= (4 if g.isascii() else 2))
                              for kind, table in self.weights.items() for sign in (1.0, -1.0)}

    def score(self, doc: Features) -> tuple[float, list[str]]:
        """Score in [0, 1] and the features that pushed it most toward its verdict."""
        known = {kind: grams & self.weights[kind].keys() for kind, grams in doc.grams().items()}
        count = sum(map(len, known.values()))
        scale = 1.0 / math.sqrt(count) if count else 0.0
        lexicon = [(self.lexicon_weights.get(group, 0.0), group) for group in doc.hits]
        # fsum: exact whatever the (set) order, so a document scores the same in every process
        z = (self.bias + scale * math.fsum(chain.from_iterable(map(self.weights[kind].__getitem__, grams)
                                                               for kind, grams in known.items()))
             + math.fsum(w for w, _ in lexicon))
        score = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        return round(score, 4), self._reasons(1.0 if z >= 0 else -1.0, known, lexicon, doc.hits)

    def _reasons(self, sign: float, known: dict[str, set[str]], lexicon: list, hits: dict) -> list[str]:
        """The features that pushed the score most toward its verdict: lexicon groups first, then
        words and word pairs, then character bigrams (亚马 says less than 亚马逊); single
        characters and short English words (被, in) explain nothing to a reader. The n-grams that
        can be reasons are a set per kind and sign, so a document's are found by an intersection,
        and a kind's only when the reasons before it are too few (most documents never need
        their bigrams)."""
        # ties broken by the feature itself: set order varies between processes (hash seeds), and
        # a re-crawl must give the same document
        reasons = [f"{group}: {', '.join(sorted(hits[group])[:3])}"
                   for w, group in sorted(lexicon, key=lambda pair: (-pair[0] * sign, pair[1])) if w * sign > 0]
        for kinds in (("w", "b"), ("c",)):
            if len(reasons) >= REASONS:
                break
            pairs = [(self.weights[kind][g], g) for kind in kinds for g in known[kind] & self._reason_grams[kind, sign]]
            reasons += [g for _, g in sorted(pairs, key=lambda pair: (-pair[0] * sign, pair[1]))]
        return list(dict.fromkeys(reasons))[:REASONS]


class RelevanceScorer:
    """Lexicon + model: ``score`` gives (relevance, reasons); ``is_relevant`` the boolean."""

    THRESHOLD = 0.5  # the trained bias puts the cross-validated operating point here

    def __init__(self, lexicon: dict, model_path: Path | None):
        self.lexicon = Lexicon(lexicon)
        self.model = RelevanceModel(model_path) if model_path is not None else None

    def score(self, text: str, seg: Segmentation, entities: Sequence[Entity]) -> tuple[float, list[str]]:
        if self.model is None:
            raise RuntimeError("this Tagger was built without a relevance model (relevance_model=None)")
        return self.model.score(features(text, seg, entities, self.lexicon))

    def is_relevant(self, score: float, threshold: float | None = None) -> bool:
        return score >= (self.THRESHOLD if threshold is None else threshold)


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()

"""Relevance: is a document about platform store closures, seller bans, account suspensions
or their fallout?  A small linear model over term groups (``nlp/data/relevance.yaml``)."""
from __future__ import annotations

import math
import re
from typing import Callable, Iterable

from nlp.entities import Entity

# Entity types whose presence counts for the "entities" group.
_MARKET_ENTITY_TYPES = frozenset({"platform", "seller"})


class RelevanceScorer:
    """Score in [0, 1] and a boolean, from term groups and the entities found.

    Terms that the segmenter keeps as one word are looked up in the document's word set;
    the others (被封, "shut down") and the patterns go into one regular expression over the
    lower-cased text, so a document costs one set intersection per group and one regex pass.
    That expression has no leading ``\b``: a leading assertion stops the regex engine from
    skipping ahead by first character (2x slower); the left word boundary of matches starting
    with a letter is checked in Python instead, matches being few.
    """

    def __init__(self, lexicon: dict, is_one_word: Callable[[str], bool]):
        self.bias = float(lexicon["bias"])
        self.threshold = float(lexicon["threshold"])
        self.groups: dict[str, tuple[float, float, int]] = {}
        self._word_terms: dict[str, frozenset[str]] = {}
        regex_parts = []
        for name, spec in lexicon["groups"].items():
            self.groups[name] = (float(spec["weight"]), float(spec.get("per_extra", 0)), int(spec.get("max_extra", 0)))
            terms = [t.lower() for t in spec.get("terms", [])]
            self._word_terms[name] = frozenset(t for t in terms if is_one_word(t))
            alternatives = [rf"{re.escape(t)}(?![a-z0-9])" if t.isascii() else re.escape(t)
                            for t in sorted(set(terms) - self._word_terms[name], key=len, reverse=True)]
            alternatives += [f"(?:{p})" for p in spec.get("patterns", [])]
            if alternatives:
                regex_parts.append(f"(?P<{name}>{'|'.join(alternatives)})")
        self._regex = re.compile("|".join(regex_parts)) if regex_parts else None

    def score(self, text: str, words: Iterable[str], entities: Iterable[Entity]) -> float:
        """Relevance of a document from its text, its distinct segmented words and its entities."""
        token_set = set(map(str.lower, words))
        hits = {name: set(terms & token_set) for name, terms in self._word_terms.items()}
        if self._regex is not None:
            lowered = text.lower()
            for match in self._regex.finditer(lowered):
                start = match.start()
                if start and _is_ascii_alnum(lowered[start]) and _is_ascii_alnum(lowered[start - 1]):
                    continue  # inside a word ("marketplace" must not hit "place")
                hits[match.lastgroup].add(match.group())
        if "entities" in self.groups and any(e.type in _MARKET_ENTITY_TYPES for e in entities):
            hits.setdefault("entities", set()).add("entity")
        z = self.bias
        for name, (weight, per_extra, max_extra) in self.groups.items():
            found = len(hits.get(name, ()))
            if found:
                z += weight + per_extra * min(found - 1, max_extra)
        return round(1.0 / (1.0 + math.exp(-z)), 4)

    def is_relevant(self, score: float, threshold: float | None = None) -> bool:
        return score >= (self.threshold if threshold is None else threshold)


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()

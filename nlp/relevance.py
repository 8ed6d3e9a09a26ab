"""Relevance: is a document about platform store closures, seller bans, account suspensions
or their fallout?  A small linear model over term groups (``nlp/data/relevance.yaml``)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable

from nlp.entities import Entity

# Entity types whose presence counts for the "entities" group.
_MARKET_ENTITY_TYPES = frozenset({"platform", "seller"})


@dataclass(frozen=True)
class _Group:
    name: str
    weight: float
    per_extra: float
    max_extra: int
    pattern: re.Pattern | None


def _group_pattern(terms: Iterable[str], patterns: Iterable[str]) -> re.Pattern | None:
    parts = []
    for term in sorted(terms, key=len, reverse=True):
        escaped = re.escape(term)
        parts.append(rf"\b{escaped}\b" if term.isascii() else escaped)
    parts.extend(f"(?:{p})" for p in patterns)
    return re.compile("|".join(parts), re.I) if parts else None


class RelevanceScorer:
    """Score in [0, 1] and a boolean, from term groups and the entities found."""

    def __init__(self, lexicon: dict):
        self.bias = float(lexicon["bias"])
        self.threshold = float(lexicon["threshold"])
        self.groups = [
            _Group(name, float(spec["weight"]), float(spec.get("per_extra", 0)), int(spec.get("max_extra", 0)),
                   _group_pattern(spec.get("terms", []), spec.get("patterns", [])))
            for name, spec in lexicon["groups"].items()
        ]

    def score(self, text: str, entities: Iterable[Entity]) -> float:
        has_market_entity = any(e.type in _MARKET_ENTITY_TYPES for e in entities)
        z = self.bias
        for group in self.groups:
            if group.pattern is None:
                hits = 1 if group.name == "entities" and has_market_entity else 0
            else:
                hits = len({m.group().lower() for m in group.pattern.finditer(text)})
            if hits:
                z += group.weight + group.per_extra * min(hits - 1, group.max_extra)
        return round(1.0 / (1.0 + math.exp(-z)), 4)

    def is_relevant(self, score: float, threshold: float | None = None) -> bool:
        return score >= (self.threshold if threshold is None else threshold)

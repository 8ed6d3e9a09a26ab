"""Names paired with another form of themselves in parentheses: 傲基股份（Aukey）, Patozon (帕拓逊),
深圳市跨境电子商务协会（SCEA）. Both forms are one entity with one canonical name."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from nlp.entity_tables import (NameNormaliser, PAIR_PROPER_TAGS, PAREN_AFTER, PAREN_INNER, is_cjk, looks_like_name,
                               type_of_latin_name)
from nlp.segmentation import Entity, Segmentation


class ParenthesisPairs:
    """The parenthesis pass of ``EntityRecognizer.find``, built once from the entity rules."""

    def __init__(self, rules: dict, places: frozenset, canonical: NameNormaliser,
                 excluded: Callable[[str, str, int, int], bool]):
        self._exclude = re.compile(rules["paired_name_exclude"])
        self._en_stopwords = frozenset(rules["en_name_stopwords"])
        self._list_stopwords = frozenset(rules["zh_list_item_stopwords"])
        self._places = places
        self._canonical = canonical
        self._excluded = excluded  # (type, text, start, end): the name or the words before it say it is no such body

    def new_pairs(self, text: str, seg: Segmentation, found: list[Entity], taken: bytearray) -> list[Entity]:
        """A name and its other script in parentheses, one or both not found by any other rule:
        傲基（Aukey）, Patozon (帕拓逊), Anker（安克创新）, Ecoluxe（杭州逸居家居用品有限公司）. A writer
        pairs scripts only for a name, so both sides are that entity: of the type of the side already
        found, else of the Latin form's head word (Association, Bureau ...), else a seller. Not places
        (深圳（Shenzhen）), people (two Latin words), acronyms (独立站（DTC）) or known stop words."""
        by_span = {(e.start, e.end): e for e in found}
        pairs = []
        for i, word in enumerate(seg.words):
            if word not in ("（", "(") or i == 0:
                continue
            inner = PAREN_INNER.match(text, seg.offsets[i])
            p = i - 1 if seg.words[i - 1] != " " else i - 2
            if inner is None or p < 0:
                continue
            outer = self._outer(seg, p, inner.group("name").isascii())
            if outer is None:
                continue
            spans = [outer, inner.span("name")]
            known = [by_span.get(span) for span in spans]
            if all(known) or any(any(taken[a:b]) for span, e in zip(spans, known) if e is None for a, b in [span]):
                continue
            surfaces = [text[a:b] for a, b in spans]
            latin = next(t for t in surfaces if t.isascii())
            if self._exclude.search(surfaces[1]) or latin.split()[0] in self._en_stopwords:
                continue
            entity = next((e for e in known if e is not None), None)
            etype = entity.type if entity is not None else type_of_latin_name(latin)
            if etype is None or any(self._excluded(etype, text, a, b) for a, b in spans):
                continue  # (logistics firm Swiftlane (迅航物流): neither form is a seller)
            chinese = next(t for t in surfaces if not t.isascii())
            name = entity.name if entity is not None else self._canonical(chinese)
            for (a, b), e in zip(spans, known):
                if e is None:
                    taken[a:b] = b"\x01" * (b - a)
                    pairs.append(Entity(etype, text[a:b], a, b, name))
        return pairs

    def _outer(self, seg: Segmentation, p: int, inner_is_latin: bool) -> tuple[int, int] | None:
        """The span of the name right before a parenthesis (word ``p`` is its last word): Chinese words
        jieba does not know or tags as proper names (up to three; the last may be a common word after
        an unknown one: 安克 创新) when the parenthesis holds Latin, capitalised Latin words otherwise."""
        words, end = seg.words, seg.offsets[p + 1]
        first = p
        if inner_is_latin:
            while first >= 0 and p - first < 3 and is_cjk(words[first][0]):
                tag = seg.tag(first)
                if tag is None or tag in PAIR_PROPER_TAGS:
                    first -= 1
                elif first == p and len(words[p]) > 1 and tag in ("v", "vn", "n") and p > 0 and seg.tag(p - 1) is None \
                        and is_cjk(words[p - 1][0]):
                    first -= 1
                else:
                    break
            first += 1
            if first > p or (first == p and seg.tag(p) in ("ns", "nr")) or words[first] in self._list_stopwords:
                return None
            return seg.offsets[first], end
        while first >= 0 and p - first < 5 and (words[first][:1].isupper() or words[first] in (" ", "&")):
            first -= 1
        first += 1
        while first <= p and not words[first][:1].isupper():
            first += 1
        return (seg.offsets[first], end) if first <= p else None

    def paired_names(self, text: str, found: list[Entity], taken: bytearray) -> list[Entity]:
        """Another form of a name in parentheses right after it is the same entity: 傲基股份（Aukey）,
        深圳市跨境电子商务协会（SCEA）, Aukey（深圳市傲基电子商务股份有限公司）. Both get one canonical
        name: a known one from the alias table, else the Chinese or company form's."""
        paired = list(found)
        for k, entity in enumerate(found):
            if entity.type not in ("seller", "association", "government"):
                continue
            match = PAREN_AFTER.match(text, entity.end)
            if match is None or self._exclude.search(match.group("name")):
                continue
            start, end = match.span("name")
            inner = next((e for e in found if e.start == start and e.end == end), None)
            if inner is not None:  # both already found: give them one name
                if inner.type == entity.type and inner.name != entity.name:
                    name = _pair_name(entity, inner)
                    paired = [replace(e, name=name) if e in (entity, inner) else e for e in paired]
                continue
            if any(taken[start:end]) or not looks_like_name(match.group("name")) or match.group("name") in self._places:
                continue
            taken[start:end] = b"\x01" * (end - start)
            paired.append(Entity(entity.type, match.group("name"), start, end, entity.name, entity.known))
        return paired


def _pair_name(outer: Entity, inner: Entity) -> str:
    """One canonical name for two forms of an entity: an alias-table name wins, then the Chinese
    form, then the outer one."""
    for entity in (outer, inner):
        if entity.known:
            return entity.name
    return inner.name if outer.text.isascii() and not inner.text.isascii() else outer.name

"""Entities: known names from the alias table, unknown organisations from suffix rules.

Works on the words of the shared jieba segmentation (no second pass): the Tagger adds Chinese
aliases to the jieba dictionary, so a word lookup finds them; Latin-script aliases and English
rule patterns are regular expressions over the text. Alias matches win over overlapping rule matches.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Sequence

from nlp.resources import Alias

# Tags jieba gives to proper names: places, organisations, people, other proper nouns, English.
_PROPER_TAGS = frozenset({"ns", "nt", "nz", "nr", "nrt", "nrfg", "j", "eng"})
# Words around a person name that make a jieba "nr" tag believable (发言人王某表示, 王某称).
_PERSON_CUES_BEFORE = frozenset({"董事长", "总经理", "创始人", "CEO", "负责人", "发言人", "记者", "会长", "秘书长", "局长", "厅长"})
_PERSON_CUES_AFTER = frozenset({"表示", "称", "说", "认为", "指出", "透露", "介绍", "坦言", "回应"})


@dataclass(frozen=True)
class Entity:
    """One entity mention as emitted in the interface (``as_dict``)."""

    type: str
    text: str
    start: int
    end: int
    name: str

    def as_dict(self) -> dict:
        return {"type": self.type, "text": self.text, "start": self.start, "end": self.end, "name": self.name}


class Segmentation:
    """A document's jieba words with their offsets; tags are looked up only where needed.

    Kept as parallel lists rather than one object per word: a long document has tens of
    thousands of words and building objects for them cost more than the entity search.
    """

    __slots__ = ("words", "offsets", "_tags")

    def __init__(self, words: list[str], tags: dict[str, str]):
        self.words = words
        self.offsets = list(accumulate(map(len, words), initial=0))  # word i spans offsets[i]:offsets[i+1]
        self._tags = tags

    def tag(self, i: int) -> str | None:
        """jieba's dictionary tag of word ``i``; None for words only the HMM found."""
        return self._tags.get(self.words[i])

    def indices_of(self, vocabulary) -> list[int]:
        """Indices of the words that are in ``vocabulary`` (a set or dict)."""
        return [i for i, word in enumerate(self.words) if word in vocabulary]


def _latin_regex(forms: Sequence[str]) -> re.Pattern | None:
    if not forms:
        return None
    alternation = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    first_chars = re.escape("".join(sorted({f[0] for f in forms})))
    # the first-character lookahead lets the scan skip positions no alias can start at
    return re.compile(rf"(?=[{first_chars}])(?<![A-Za-z0-9])(?:{alternation})(?![A-Za-z0-9])")


class EntityRecognizer:
    """Find entities in a segmented text; built once from the alias table and rules."""

    def __init__(self, aliases: Sequence[Alias], rules: dict, tags: dict[str, str]):
        self._zh_alias: dict[str, Alias] = {}
        self._latin_alias: dict[str, Alias] = {}
        for alias in aliases:
            for form in alias.forms:
                (self._latin_alias if form.isascii() else self._zh_alias)[form] = alias
        self._latin_re = _latin_regex(list(self._latin_alias))
        self._suffixes: dict[str, str] = rules["zh_suffixes"]
        self._name_tags = frozenset(rules["zh_name_tags"])
        self._name_stopwords = frozenset(rules["zh_name_stopwords"])
        self._needs_place = frozenset(rules["zh_needs_place"])
        self._max_name_tokens = int(rules["max_name_tokens"])
        self._en_patterns = [(rule["type"], tuple(rule["triggers"]), re.compile(rule["pattern"]))
                             for rule in rules["en_patterns"]]
        self._en_leading = re.compile(r"^(?:(?:%s)\s+)+" % "|".join(map(re.escape, rules["en_leading_stopwords"])))
        self._not_followed = {k: re.compile(v, re.I) for k, v in rules["not_followed_by"].items()}
        self._not_preceded = {k: re.compile(v, re.I) for k, v in rules["not_preceded_by"].items()}
        # words jieba's dictionary tags as places or people, for the untyped location/person entities
        self._place_or_person_words = frozenset(w for w, tag in tags.items() if tag in ("ns", "nr"))

    def find(self, text: str, seg: Segmentation) -> list[Entity]:
        """All entity mentions in ``text``, sorted by offset, non-overlapping."""
        taken = bytearray(len(text))  # 1 where an entity already sits
        found: list[Entity] = []

        def claim(entity: Entity) -> None:
            if not any(taken[entity.start:entity.end]):
                taken[entity.start:entity.end] = b"\x01" * (entity.end - entity.start)
                found.append(entity)

        for entity in self._aliases(text, seg):
            if self._plausible(text, entity):
                claim(entity)
        for entity in sorted(self._rule_matches(text, seg, taken), key=lambda e: e.start - e.end):
            claim(entity)
        for entity in self._people_and_places(seg, taken):
            claim(entity)
        return sorted(found, key=lambda e: e.start)

    def _aliases(self, text: str, seg: Segmentation):
        if self._latin_re is not None:
            for match in self._latin_re.finditer(text):
                alias = self._latin_alias[match.group()]
                yield Entity(alias.type, match.group(), match.start(), match.end(), alias.canonical)
        for i in seg.indices_of(self._zh_alias):
            alias = self._zh_alias[seg.words[i]]
            yield Entity(alias.type, seg.words[i], seg.offsets[i], seg.offsets[i + 1], alias.canonical)

    def _plausible(self, text: str, entity: Entity) -> bool:
        """False when the context says this is not the entity (亚马逊雨林, the Amazon River)."""
        after = self._not_followed.get(entity.name)
        if after is not None and after.match(text, entity.end):
            return False
        before = self._not_preceded.get(entity.name)
        return before is None or before.search(text, max(0, entity.start - 20), entity.start) is None

    def _rule_matches(self, text: str, seg: Segmentation, taken: bytearray):
        for i in seg.indices_of(self._suffixes):
            if not taken[seg.offsets[i]]:
                start = self._chinese_name_start(seg, i, self._suffixes[seg.words[i]], taken)
                if start is not None:
                    end = seg.offsets[i + 1]
                    yield Entity(self._suffixes[seg.words[i]], text[start:end], start, end, text[start:end])
        for etype, triggers, pattern in self._en_patterns:
            if not any(trigger in text for trigger in triggers):
                continue
            for match in pattern.finditer(text):
                start, end = match.span("name")
                lead = self._en_leading.match(text[start:end])
                if lead:
                    start += lead.end()
                if end - start > 3 and " " in text[start:end]:
                    yield Entity(etype, text[start:end], start, end, " ".join(text[start:end].split()))

    def _chinese_name_start(self, seg: Segmentation, suffix_index: int, etype: str, taken: bytearray) -> int | None:
        """Walk back from a suffix word over name-like words; the name's start offset, or None."""
        first = suffix_index
        while first > 0 and suffix_index - first < self._max_name_tokens:
            j = first - 1
            word, tag = seg.words[j], seg.tag(j)
            if taken[seg.offsets[j]] or word in self._name_stopwords or not _name_like(word, tag, self._name_tags):
                break
            first = j
        wanted = {"ns"} if etype in self._needs_place else _PROPER_TAGS | {None}
        while first < suffix_index and seg.tag(first) not in wanted:
            first += 1
        return seg.offsets[first] if first < suffix_index else None

    def _people_and_places(self, seg: Segmentation, taken: bytearray):
        words, offsets = seg.words, seg.offsets
        for i in seg.indices_of(self._place_or_person_words):
            word, start, end = words[i], offsets[i], offsets[i + 1]
            if taken[start]:
                continue
            tag = seg.tag(i)
            if tag == "ns" and len(word) > 1:
                yield Entity("location", word, start, end, word)
            elif tag == "nr" and 2 <= len(word) <= 3:
                before = words[i - 1] if i else ""
                after = words[i + 1] if i + 1 < len(words) else ""
                if before in _PERSON_CUES_BEFORE or after in _PERSON_CUES_AFTER:
                    yield Entity("person", word, start, end, word)


def _name_like(word: str, tag: str | None, name_tags: frozenset) -> bool:
    if tag is None:  # found by the HMM: an unknown word, often a name
        return word.isalnum()
    return tag in name_tags

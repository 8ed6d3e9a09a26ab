"""Entities: known names from the alias table, unknown organisations from suffix rules.

Works on the tokens of the shared jieba segmentation (no second pass): Chinese aliases are
jieba words, so a token lookup finds them; Latin-script aliases and English rule patterns are
regular expressions over the text. Alias matches win over rule matches that overlap them.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

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
        return asdict(self)


@dataclass(frozen=True)
class Token:
    word: str
    start: int
    end: int
    tag: str | None  # jieba dictionary tag; None for words the HMM found


def _latin_regex(forms: Sequence[str]) -> re.Pattern | None:
    if not forms:
        return None
    alternation = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternation})(?![A-Za-z0-9])")


class EntityRecognizer:
    """Find entities in a segmented text; built once from the alias table and rules."""

    def __init__(self, aliases: Sequence[Alias], rules: dict):
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
        self._en_patterns = [(etype, re.compile(p)) for etype, patterns in rules["en_patterns"].items()
                             for p in patterns]
        self._en_leading = re.compile(r"^(?:(?:%s)\s+)+" % "|".join(map(re.escape, rules["en_leading_stopwords"])))
        self._not_followed = {k: re.compile(v, re.I) for k, v in rules["not_followed_by"].items()}
        self._not_preceded = {k: re.compile(v, re.I) for k, v in rules["not_preceded_by"].items()}

    @property
    def chinese_forms(self) -> dict[str, Alias]:
        """Chinese surface forms, to be added to the jieba dictionary so they segment whole."""
        return dict(self._zh_alias)

    def find(self, text: str, tokens: Sequence[Token]) -> list[Entity]:
        """All entity mentions in ``text``, sorted by offset, non-overlapping."""
        taken = bytearray(len(text))  # 1 where an entity already sits
        found: list[Entity] = []

        def claim(entity: Entity) -> None:
            if not any(taken[entity.start:entity.end]):
                taken[entity.start:entity.end] = b"\x01" * (entity.end - entity.start)
                found.append(entity)

        for entity in self._aliases(text, tokens):
            if self._plausible(text, entity):
                claim(entity)
        for entity in sorted(self._rule_matches(text, tokens, taken), key=lambda e: e.start - e.end):
            claim(entity)
        for entity in self._people_and_places(tokens, taken):
            claim(entity)
        return sorted(found, key=lambda e: e.start)

    def _aliases(self, text: str, tokens: Sequence[Token]):
        if self._latin_re is not None:
            for match in self._latin_re.finditer(text):
                alias = self._latin_alias[match.group()]
                yield Entity(alias.type, match.group(), match.start(), match.end(), alias.canonical)
        for token in tokens:
            alias = self._zh_alias.get(token.word)
            if alias is not None:
                yield Entity(alias.type, token.word, token.start, token.end, alias.canonical)

    def _plausible(self, text: str, entity: Entity) -> bool:
        """False when the context says this is not the entity (亚马逊雨林, the Amazon River)."""
        after = self._not_followed.get(entity.name)
        if after is not None and after.match(text, entity.end):
            return False
        before = self._not_preceded.get(entity.name)
        return before is None or before.search(text, max(0, entity.start - 20), entity.start) is None

    def _rule_matches(self, text: str, tokens: Sequence[Token], taken: bytearray):
        for i, token in enumerate(tokens):
            etype = self._suffixes.get(token.word)
            if etype is not None and not taken[token.start]:
                entity = self._chinese_name(tokens, i, etype, taken)
                if entity is not None:
                    yield Entity(etype, text[entity[0]:entity[1]], entity[0], entity[1], text[entity[0]:entity[1]])
        for etype, pattern in self._en_patterns:
            for match in pattern.finditer(text):
                start, end = match.span("name")
                lead = self._en_leading.match(text[start:end])
                if lead:
                    start += lead.end()
                if end - start > 3 and " " in text[start:end]:
                    yield Entity(etype, text[start:end], start, end, " ".join(text[start:end].split()))

    def _chinese_name(self, tokens: Sequence[Token], suffix_index: int, etype: str, taken: bytearray):
        """Walk back from a suffix token over name-like tokens; return (start, end) or None."""
        name_tokens: list[Token] = []
        j = suffix_index - 1
        while j >= 0 and len(name_tokens) < self._max_name_tokens:
            token = tokens[j]
            if (token.end != tokens[j + 1].start or taken[token.start] or token.word in self._name_stopwords
                    or not _name_like(token, self._name_tags)):
                break
            name_tokens.insert(0, token)
            j -= 1
        wanted = {"ns"} if etype in self._needs_place else _PROPER_TAGS | {None}
        while name_tokens and name_tokens[0].tag not in wanted:
            name_tokens.pop(0)
        if not name_tokens:
            return None
        return name_tokens[0].start, tokens[suffix_index].end

    def _people_and_places(self, tokens: Sequence[Token], taken: bytearray):
        for i, token in enumerate(tokens):
            if taken[token.start]:
                continue
            if token.tag == "ns" and len(token.word) > 1:
                yield Entity("location", token.word, token.start, token.end, token.word)
            elif token.tag == "nr" and 2 <= len(token.word) <= 3:
                before = tokens[i - 1].word if i else ""
                after = tokens[i + 1].word if i + 1 < len(tokens) else ""
                if before in _PERSON_CUES_BEFORE or after in _PERSON_CUES_AFTER:
                    yield Entity("person", token.word, token.start, token.end, token.word)


def _name_like(token: Token, name_tags: frozenset) -> bool:
    if token.tag is None:  # found by the HMM: an unknown word, often a name
        return token.word.strip() != "" and (token.word.isalnum())
    return token.tag in name_tags


def make_tokens(words: Sequence[str], tag_of: Callable[[str], str | None]) -> list[Token]:
    """Tokens with offsets from a segmentation (the words tile the text)."""
    tokens, pos = [], 0
    for word in words:
        tokens.append(Token(word, pos, pos + len(word), tag_of(word)))
        pos += len(word)
    return tokens

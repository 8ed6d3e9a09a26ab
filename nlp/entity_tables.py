"""Tables and builders of the entity recognizer: compiled patterns with their trigger words,
heads taken from jieba's dictionary, the Latin alias expression, canonical names, and the small
tests on words and parenthesised forms that the tagging pass (``nlp.entities``) applies.
"""
from __future__ import annotations

import re
from typing import Sequence

from nlp.regex import first_char_lookahead, trie_regex, with_first_characters


def latin_regex(forms: Sequence[str]) -> re.Pattern | None:
    """One expression for the Latin-script aliases (case-sensitive, whole words), or None."""
    if not forms:
        return None
    # the first-character lookahead lets the scan skip positions no alias can start at; the trie
    # (longest form first, as an alternation sorted by length) tries one branch per character
    return re.compile(rf"{first_char_lookahead(forms)}(?<![A-Za-z0-9])(?:{trie_regex(forms)})(?![A-Za-z0-9])")


class NameNormaliser:
    """Canonical name of an unknown organisation: its surface text, whitespace collapsed and
    the legal form dropped (有限公司, 有限责任公司, Co., Ltd., Inc.), so that 深圳市明辉科技有限公司
    and 深圳市明辉科技 share a name. Nothing else is removed: the place prefix tells apart firms
    of the same trade name in different cities, and 股份 (华南数码股份) is part of a stock name."""

    def __init__(self, legal_suffixes: dict):
        self._zh = tuple(sorted(legal_suffixes["zh"], key=len, reverse=True))
        self._en = re.compile(legal_suffixes["en"])

    def __call__(self, surface: str) -> str:
        if surface.isascii():
            name = self._en.sub("", " ".join(surface.split()))
            return name or surface
        for suffix in self._zh:
            if surface.endswith(suffix) and len(surface) > len(suffix):
                return surface[:-len(suffix)]
        return surface


def compile_patterns(rules: list[dict]) -> list[tuple[str, tuple[str, ...], re.Pattern, bool, bool]]:
    return [(rule["type"], tuple(rule["triggers"]), re.compile(with_first_characters(rule["pattern"])),
             rule["single_word"], rule["list"]) for rule in rules]


def business_name_pattern(rules: dict, heads: Sequence[str]) -> tuple[str, tuple[str, ...], re.Pattern, bool, bool]:
    """The pattern of English trade names that end in a word saying "a business" (Redwave Outfitters),
    as ``compile_patterns`` gives them: triggered by its heads, ``en_business_name`` with {heads} and
    {stop} (the words no such name contains before its head) filled in."""
    stop = {*rules["en_business_name_stopwords"], *rules["en_name_stopwords"]}
    pattern = rules["en_business_name"].replace("{heads}", trie_regex(heads)).replace("{stop}", trie_regex(stop))
    return "seller", tuple(heads), re.compile(with_first_characters(pattern)), False, False


LIST_SEPARATOR = re.compile(r",?\s+and\s+|,\s+|\s?(?:、|和|及|与|到)\s?")


def split_list(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of the items of a listed name group ("Mpow, Aukey and RAVPower")."""
    spans, at = [], start
    for separator in LIST_SEPARATOR.finditer(text, start, end):
        spans.append((at, separator.start()))
        at = separator.end()
    spans.append((at, end))
    return [(a, b) for a, b in spans if b > a]


def patterns_by_trigger(patterns, triggers) -> dict[str, frozenset[int]]:
    """For each trigger word the scan may find, the indices of the patterns it stands for: those with
    that trigger or one inside it (a longer trigger found, "Association of", stands for "Association")."""
    return {t: frozenset(i for i, rule in enumerate(patterns) if any(u in t for u in rule[1])) for t in triggers}


def triggered(patterns, by_trigger: dict[str, frozenset[int]], found: set[str]):
    """The patterns, in their order, one of whose trigger words is in the text (``found``: the triggers
    one scan found in it; far cheaper than running every pattern, or than testing each pattern's
    triggers: a lookup per trigger found)."""
    return [patterns[i] for i in sorted(set().union(*map(by_trigger.__getitem__, found)))]


def dictionary_names(tags: dict[str, str], places: frozenset, suffixes: dict[str, str], exclude: list[str],
                      place_suffixes: dict[str, str]) -> dict:
    """jieba dictionary organisations (tag nt) that start with a place or a national prefix and end
    in a suffix: whole names such as 美国商务部, 上海市公安局 or 国家统计局, which the segmentation
    keeps as one word; and
    the few bodies the dictionary tags as places (香港海关, tag ns)."""
    names = {}
    for tag_wanted, by_end, excluded in (("nt", suffixes, tuple(exclude)), ("ns", place_suffixes, ())):
        ends = tuple(sorted(by_end, key=len, reverse=True))
        for word, tag in tags.items():
            if tag != tag_wanted or not word.endswith(ends) or (excluded and word.endswith(excluded)):
                continue
            if any(word[:n] in places for n in range(2, min(len(word) - 1, 6))):
                names[word] = (by_end[next(e for e in ends if word.endswith(e))], True)
    return names


def final_character_heads(tags: dict[str, str], finals: dict[str, str], exclude: list[str]) -> dict:
    """Heads by their last character: dictionary words such as 发展局, 调查局, 保障局 (tag n, nt, l, nz),
    and the character alone (刑事警察 局); not 布局, 当局, 部署 (``exclude``)."""
    excluded = tuple(exclude)
    heads = {ch: (etype, False) for ch, etype in finals.items()}
    for word, tag in tags.items():
        if len(word) >= 3 and word[-1] in finals and tag in ("n", "nt", "l", "nz") and not word.endswith(excluded):
            heads[word] = (finals[word[-1]], False)
    return heads


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


PAREN_AFTER = re.compile(r"[”」』]?\s?[（(]\s?(?P<name>[A-Za-z][A-Za-z0-9&.' -]{1,40}[A-Za-z0-9.]|[\u4e00-\u9fff]{2,20})\s?[）)]")


PAREN_INNER = re.compile(r"[（(]\s?(?P<name>[A-Za-z][A-Za-z0-9&.' -]{0,40}[A-Za-z0-9.]|[\u4e00-\u9fff]{2,20})\s?[）)]")
# jieba tags that leave a word a possible name before a Latin form in parentheses
PAIR_PROPER_TAGS = frozenset({"nz", "nrt", "nt", "j", "eng", "nrfg"})
LATIN_HEADS = (("association", re.compile(r"\b(?:Association|Chamber|Federation|Council)\b")),
                ("government", re.compile(r"\b(?:Bureau|Department|Ministry|Administration|Commission|Customs|Office|"
                                          r"Authority|Agency|Police)\b")))


def type_of_latin_name(latin: str) -> str | None:
    """The type a Latin form's head word gives; a seller for a brand-like form (one word, or two
    joined by &), None for anything else (people: "Jack Ma"; acronyms: DTC, FBA)."""
    for etype, head in LATIN_HEADS:
        if head.search(latin):
            return etype
    tokens = [t for t in latin.split() if t != "&"]
    if len(tokens) > 2 or (len(tokens) == 2 and "&" not in latin) or (latin.isupper() and len(latin) <= 4):
        return None
    return "seller"


def looks_like_name(inner: str) -> bool:
    """A parenthesised form worth taking as a name: a capitalised Latin name (Aukey, SCEA) or Chinese."""
    return not inner.isascii() or inner[0].isupper()


def name_like(word: str, tag: str | None, name_tags: frozenset) -> bool:
    if tag is None:  # found by the HMM: an unknown word, often a name (but not a number: 600家电)
        return word.isalnum() and not word.isdigit()
    return tag in name_tags

"""Regular expressions built from word lists (the lexicons under ``nlp/data``)."""
from __future__ import annotations

import re
from typing import Iterable


def trie_regex(words: Iterable[str]) -> str:
    """An alternation of literal words factored by common prefixes (longest match first): the
    regex engine then tries one branch per character instead of every word at every position."""
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


def word_list_regex(words: Iterable[str]) -> str:
    """``trie_regex`` of ``words`` with a first-character lookahead (most positions are rejected by
    one set test); words that start or end with a Latin letter or digit match whole words only.
    The Chinese and the Latin words each sit behind a lookahead of their own first characters
    too: a position that passes the first is then tried against one trie, not both (a third of
    the time of the role cues' scans)."""
    words = sorted(set(words))
    if not words:
        return "(?!)"
    cjk = [w for w in words if not (w[0].isascii() and w[0].isalnum())]
    latin = [w for w in words if w[0].isascii() and w[0].isalnum()]
    parts = [f"{first_char_lookahead(cjk)}(?:{trie_regex(cjk)})"] if cjk else []
    if latin:
        parts.append(rf"{first_char_lookahead(latin)}(?<![A-Za-z0-9])(?:{trie_regex(latin)})(?![A-Za-z0-9])")
    return f"{first_char_lookahead(words)}(?:{'|'.join(parts)})"


def first_char_lookahead(words) -> str:
    """A lookahead for the first characters of ``words``."""
    return f"(?=[{re.escape(''.join(sorted({w[0] for w in words})))}])"


def with_first_characters(pattern: str) -> str:
    """``pattern`` behind a lookahead for the characters a match can start with, when they are a
    literal set: the engine then rejects most positions with one set test."""
    chars = first_chars(pattern)
    return f"(?=[{re.escape(''.join(sorted(chars)))}])(?:{pattern})" if chars else pattern


def first_chars(pattern: str) -> set[str] | None:
    """The characters a match of ``pattern`` can start with, or None when that is not a short
    literal set (a leading class such as \\w, a match that may be empty). Lets a
    caller put a first-character lookahead before an alternation of hand-written patterns."""
    from re import _constants as c, _parser  # the stdlib's parser; stable in 3.11+

    def first(items) -> set[str] | None:
        if not items:
            return None
        op, av = items[0]
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):  # zero-width (\\b, look-arounds): what follows starts the match
            return first(items[1:])
        if op is c.LITERAL:
            return {chr(av)}
        if op is c.SUBPATTERN:
            return first(list(av[-1]))
        if op is c.BRANCH:
            result: set[str] = set()
            for branch in av[1]:
                chars = first(list(branch))
                if chars is None:
                    return None
                result |= chars
            return result
        if op is c.IN:
            chars: set[str] = set()
            for kind, v in av:
                if kind is c.LITERAL:
                    chars.add(chr(v))
                elif kind is c.RANGE and v[1] - v[0] < 64:  # [A-Z], not [\u4e00-\u9fff]
                    chars.update(map(chr, range(v[0], v[1] + 1)))
                else:
                    return None
            return chars
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            chars = first(list(av[2]))
            if chars is None or av[0] >= 1:
                return chars
            rest = first(items[1:])  # an optional part (国家 in (?:国家)?商务部): the match may start after it
            return None if rest is None else chars | rest
        return None

    return first(list(_parser.parse(pattern)))

"""Traditional Chinese, normalised to simplified for tagging with offsets unchanged.

Taiwan and Hong Kong sellers and media write 賣家, 帳號, 凍結, 萬, 新台幣; the dictionaries,
lexicons and the relevance model are simplified. The tagger therefore tags a simplified copy of
the text whose every character sits at the same offset as in the original, and takes surface
forms from the original: an entity or figure found at ``start:end`` of the copy is
``text[start:end]`` of the document.

OpenCC's ``t2s`` (phrase-aware: 乾燥 -> 干燥 but 乾隆 stays) does the conversion. Its phrase
tables map phrases to phrases of the same length in practice; should an output ever differ in
length, the text is converted character by character instead (OpenCC's own character table,
read once), which keeps every offset by construction. Texts without a single traditional-only
character — nearly all mainland text — are returned as they are after one regex scan.
"""
from __future__ import annotations

import logging
import re

import opencc

logger = logging.getLogger(__name__)

_CONFIG = "t2s.json"
# CJK Extension A, the unified block and the compatibility ideographs: every character OpenCC's
# t2s character table can change lives here.
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))


class Simplifier:
    """Traditional -> simplified Chinese with the same length and offsets (see the module doc)."""

    def __init__(self) -> None:
        self._converter = opencc.OpenCC(_CONFIG)
        chars = "".join(chr(code) for low, high in _CJK_RANGES for code in range(low, high + 1))
        # one character per line, so no phrase rule applies: OpenCC's character-level mapping
        converted = self._converter.convert("\n".join(chars)).split("\n")
        self._table = {ord(t): s for t, s in zip(chars, converted) if t != s and len(s) == 1}
        self._traditional = re.compile("[%s]" % "".join(map(chr, sorted(self._table))))

    def has_traditional(self, text: str) -> bool:
        return self._traditional.search(text) is not None

    def simplify(self, text: str) -> str:
        """``text`` in simplified characters, each at its original offset."""
        if self._traditional.search(text) is None:
            return text
        converted = self._converter.convert(text)
        if len(converted) != len(text):
            logger.debug("OpenCC changed the length of a %s-character text: converting by character", len(text))
            return text.translate(self._table)
        return converted

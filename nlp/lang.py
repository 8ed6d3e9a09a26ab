"""banwave's one language detector: extraction labels documents with it, and the tagger picks its
tokeniser (jieba for Chinese, words for English) with it when a text comes without a language."""
from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_SAMPLE = 3000
SUPPORTED = ("zh", "en")
"""The languages the tagger has lexicons for."""


def detect(text: str, declared: str = "", cjk_ratio: float = 0.3) -> str | None:
    """"zh" if CJK ideographs are at least ``cjk_ratio`` of the letters (kana or hangul first make
    it "ja"/"ko"); otherwise the ``declared`` language (a page's ``<html lang>``), else "en" for
    mostly-ASCII Latin text; None when nothing tells. A script count is enough to route jieba vs
    English tokenisation; it does not tell Latin languages apart. Ideographs are weighed against
    letters, so a Chinese article quoting English names stays Chinese and an English one naming
    傲基 stays English."""
    sample = text[:_SAMPLE]
    letters = sum(map(str.isalpha, sample))
    declared = (declared or "").split("-")[0].lower()
    if letters:
        if _count(_KANA, sample) / letters > 0.1:
            return "ja"
        if _count(_HANGUL, sample) / letters > 0.3:
            return "ko"
        if _count(_CJK, sample) / letters >= cjk_ratio:
            return "zh"
        if declared and declared not in ("zh", "ja", "ko"):
            return declared
        if _count(_ASCII_LETTER, sample) / letters > 0.5:
            return "en"
    return declared or None


def tagging_language(text: str, lang: str | None) -> str:
    """The lexicon to tag ``text`` with: ``lang`` when the tagger has it, else "zh" for text in
    ideographs (Japanese kanji read best through jieba too) and "en" for anything else."""
    if lang in SUPPORTED:
        return lang
    return "zh" if detect(text) in ("zh", "ja") else "en"


def _count(pattern: re.Pattern, text: str) -> int:
    """Matches of a one-character class in ``text`` (subn builds one string, findall a list of all)."""
    return pattern.subn("", text)[1]

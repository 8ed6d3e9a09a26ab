"""Language guess for the two languages banwave tags: Chinese or English."""
from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]+")
SUPPORTED = ("zh", "en")


def detect(text: str) -> str:
    """'zh' when CJK characters are at least as many as English words, else 'en'.

    Characters are weighed against words, not letters, so a Chinese article quoting English
    names stays Chinese and an English one naming 傲基 stays English. Only the first 2,000
    characters are read; text without letters of either kind is 'en'."""
    head = text[:2000]
    cjk = len(_CJK.findall(head))
    words = len(_LATIN.findall(head))
    return "zh" if cjk and cjk >= words else "en"

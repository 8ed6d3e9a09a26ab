"""Language guess for the two languages banwave tags: Chinese or English."""
from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]+")
SUPPORTED = ("zh", "en")


def detect(text: str) -> str:
    """'zh' when CJK characters make up at least a fifth of the letters (a Chinese article
    quoting English names stays Chinese), else 'en'. Only the first 2,000 characters are read."""
    head = text[:2000]
    cjk = len(_CJK.findall(head))
    # count English words, not letters: one Chinese character carries about one word
    latin = len(_LATIN.findall(head))
    return "zh" if cjk and cjk >= 0.2 * (cjk + latin) else "en"

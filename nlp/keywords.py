"""Keywords for tag clouds: jieba's TF-IDF, scored on the tokens the tagger already has."""
from __future__ import annotations

from typing import Iterable, Mapping

import re

import jieba
import jieba.analyse

_LETTER = re.compile(r"[^\W\d_]")  # a word needs a letter (Chinese characters are letters) to be a keyword


class KeywordExtractor:
    """TF-IDF keywords with jieba's IDF table and a domain stop-word list.

    ``jieba.analyse.TFIDF.extract_tags`` would segment the text again; ``top`` takes the
    tagger's tokens instead so segmentation happens once per document.
    """

    def __init__(self, tokenizer: jieba.Tokenizer, stopwords: Iterable[str]):
        self.tfidf = jieba.analyse.TFIDF()
        self.tfidf.tokenizer = tokenizer  # bound to our instance, never jieba's global one
        self.tfidf.stop_words = self.tfidf.stop_words | {w.lower() for w in stopwords}

    def top(self, word_counts: Mapping[str, int], k: int, minus: Mapping[str, int] | None = None) -> list[str]:
        """The ``k`` words with the highest TF-IDF weight (ties keep first-seen order), from
        the document's word counts less ``minus``. English words count case-insensitively,
        shown as first written."""
        if k <= 0:
            return []
        stop_words = self.tfidf.stop_words
        freq: dict[str, int] = {}
        shown: dict[str, str] = {}
        minus = minus or {}
        for word, count in word_counts.items():
            count -= minus.get(word, 0)
            if count <= 0:
                continue
            word = word.strip()
            key = word.lower()
            if len(word) < 2 or key in stop_words or not _LETTER.search(word):
                continue
            freq[key] = freq.get(key, 0) + count
            shown.setdefault(key, word)
        idf, median = self.tfidf.idf_freq, self.tfidf.median_idf
        weights = {key: n * idf.get(shown[key], median) for key, n in freq.items()}
        return [shown[key] for key in sorted(weights, key=weights.__getitem__, reverse=True)[:k]]

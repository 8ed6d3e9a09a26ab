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

    _CACHE_LIMIT = 200_000  # distinct words remembered (the vocabulary of a crawl, bounded)

    def __init__(self, tokenizer: jieba.Tokenizer, stopwords: Iterable[str]):
        self.tfidf = jieba.analyse.TFIDF()
        self.tfidf.tokenizer = tokenizer  # bound to our instance, never jieba's global one
        self.tfidf.stop_words = self.tfidf.stop_words | {w.lower() for w in stopwords}
        # word -> (its key, shown form, IDF), or None when it can never be a keyword: the same
        # words recur in every document, so each is checked once
        self._entries: dict[str, tuple[str, str, float] | None] = {}

    def top(self, word_counts: Mapping[str, int], k: int, minus: Mapping[str, int] | None = None) -> list[str]:
        """The ``k`` words with the highest TF-IDF weight (ties keep first-seen order), from
        the document's word counts less ``minus``. English words count case-insensitively,
        shown as first written."""
        if k <= 0:
            return []
        freq: dict[str, int] = {}
        first: dict[str, tuple[str, float]] = {}
        minus = minus or {}
        entries = self._entries
        for word, count in word_counts.items():
            entry = entries.get(word, False)
            if entry is False:
                entry = self._entry(word)
                if len(entries) < self._CACHE_LIMIT:
                    entries[word] = entry
            if entry is None:
                continue
            count -= minus.get(word, 0)
            if count <= 0:
                continue
            key, shown, idf = entry
            freq[key] = freq.get(key, 0) + count
            first.setdefault(key, (shown, idf))
        weights = {key: n * first[key][1] for key, n in freq.items()}
        return [first[key][0] for key in sorted(weights, key=weights.__getitem__, reverse=True)[:k]]

    def _entry(self, word: str) -> tuple[str, str, float] | None:
        shown = word.strip()
        key = shown.lower()
        if len(shown) < 2 or key in self.tfidf.stop_words or not _LETTER.search(shown):
            return None
        return key, shown, self.tfidf.idf_freq.get(shown, self.tfidf.median_idf)

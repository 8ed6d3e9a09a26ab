"""The Tagger: one jieba segmentation per document, shared by entities, figures, relevance and keywords."""
from __future__ import annotations

import logging
from pathlib import Path

import jieba
import jieba.posseg

from nlp import lang as lang_detect
from nlp.entities import EntityRecognizer, Token, make_tokens
from nlp.figures import FigureExtractor
from nlp.keywords import KeywordExtractor
from nlp.relevance import RelevanceScorer
from nlp.resources import DATA_DIR, load_aliases, load_rates, load_word_list, load_yaml

logger = logging.getLogger(__name__)

DEFAULT_KEYWORDS = 10
# Chinese aliases get this jieba tag so posseg-based tools see them as names.
_ALIAS_TAG = "nt"


class Tagger:
    """Turns a document's text into entities, figures, relevance and keywords.

    Building one loads jieba's dictionary (about 1 s from jieba's prefix-dict cache, a few
    seconds the first time) plus the data under ``nlp/data``; build it once and reuse it.
    ``cache_dir`` puts jieba's prefix-dict cache there instead of the system temp directory.
    """

    def __init__(self, keywords: int = DEFAULT_KEYWORDS, cache_dir: str | Path | None = None):
        self.keywords = keywords
        self.tokenizer = jieba.Tokenizer()
        if cache_dir is not None:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            self.tokenizer.tmp_dir = str(cache_dir)
        self.tokenizer.initialize()
        self.tokenizer.load_userdict(str(DATA_DIR / "userdict.txt"))
        self.entities = EntityRecognizer(load_aliases(), load_yaml("entity_rules.yaml"))
        for form in self.entities.chinese_forms:
            self.tokenizer.add_word(form, tag=_ALIAS_TAG)
        # Only the word->tag table is used (a dictionary lookup per token); running posseg's
        # HMM over every document would cost more than the segmentation itself.
        self.postokenizer = jieba.posseg.POSTokenizer(self.tokenizer)
        self._tags = {**self.postokenizer.word_tag_tab, **self.tokenizer.user_word_tag_tab}
        self.figures = FigureExtractor(load_yaml("figures.yaml"), load_rates())
        self.relevance = RelevanceScorer(load_yaml("relevance.yaml"))
        self.keyword_extractor = KeywordExtractor(self.tokenizer, load_word_list(DATA_DIR / "stopwords.txt"))
        logger.debug("tagger ready: %s dictionary words, %s Chinese aliases",
                     len(self.tokenizer.FREQ), len(self.entities.chinese_forms))

    def tokens(self, text: str) -> list[Token]:
        """The document's jieba segmentation with offsets and dictionary tags."""
        return make_tokens(self.tokenizer.lcut(text), self._tags.get)

    def tag(self, text: str, lang: str | None = None, relevance_threshold: float | None = None) -> dict:
        """Tag one document: the interface fields minus "id" (see docs/nlp.md)."""
        if lang not in lang_detect.SUPPORTED:
            lang = lang_detect.detect(text)
        tokens = self.tokens(text)
        entities = self.entities.find(text, tokens)
        figures = self.figures.find(text, [t.start for t in tokens])
        relevance = self.relevance.score(text, entities)
        return {
            "lang": lang,
            "relevant": self.relevance.is_relevant(relevance, relevance_threshold),
            "relevance": relevance,
            "entities": [e.as_dict() for e in entities],
            "figures": [f.as_dict() for f in figures],
            "keywords": self.keyword_extractor.top(self._keyword_candidates(tokens, figures), self.keywords),
        }

    def _keyword_candidates(self, tokens: list[Token], figures) -> list[str]:
        """Token words minus the pieces of figures (万多家, 多亿元); counted nouns (卖家) stay."""
        if not figures:
            return [t.word for t in tokens]
        in_figure = bytearray(tokens[-1].end)
        for figure in figures:
            in_figure[figure.start:figure.end] = b"\x01" * (figure.end - figure.start)
        counted = self.figures.counted
        return [t.word for t in tokens if not in_figure[t.start] or t.word.lower() in counted]


def tag_record(record: object, tagger: Tagger, line_number: int | None = None) -> dict:
    """Tag one input record ``{"id", "text", "lang"?}`` and return its output line as a dict.

    A record that cannot be tagged (not an object, no string "text") gives
    ``{"id": <its id, else line_number>, "error": "<one line>"}`` instead of raising.
    """
    if not isinstance(record, dict):
        return {"id": line_number, "error": f"expected a JSON object, got {type(record).__name__}"}
    record_id = record.get("id", line_number)
    text = record.get("text")
    if not isinstance(text, str):
        return {"id": record_id, "error": 'missing or non-string "text"'}
    lang = record.get("lang")
    return {"id": record_id, **tagger.tag(text, lang if isinstance(lang, str) else None)}

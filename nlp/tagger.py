"""The Tagger: one jieba segmentation per document, shared by entities, figures, relevance and keywords."""
from __future__ import annotations

import logging
from bisect import bisect_right
from collections import Counter
from pathlib import Path

import jieba
import jieba.posseg

from nlp.lang import tagging_language
from nlp.entities import EntityRecognizer
from nlp.figure_roles import FigureRoles
from nlp.figures import FigureExtractor
from nlp.keywords import KeywordExtractor
from nlp.relevance import RelevanceScorer
from nlp.resources import DATA_DIR, load_aliases, load_rates, load_word_list, load_yaml
from nlp.script import Simplifier
from nlp.segmentation import Segmentation

logger = logging.getLogger(__name__)

DEFAULT_KEYWORDS = 10
RELEVANCE_MODEL = DATA_DIR / "relevance_model.json"
ALIAS_TABLE = DATA_DIR / "aliases.tsv"
# Chinese aliases get this jieba tag so posseg-based tools see them as names.
_ALIAS_TAG = "nt"


class Tagger:
    """Turns a document's text into entities, figures, relevance and keywords.

    Building one loads jieba's dictionary (about 1 s from jieba's prefix-dict cache, a few
    seconds the first time) plus the data under ``nlp/data``; build it once and reuse it.
    ``cache_dir`` puts jieba's prefix-dict cache there instead of the system temp directory.
    ``relevance_model=None`` builds a tagger without relevance scores, for ``python -m nlp train``
    to compute the features of a model that does not exist yet. ``alias_table=None`` tags without
    the alias table (rules and patterns only), as the bench measures name discovery.
    """

    def __init__(self, keywords: int = DEFAULT_KEYWORDS, cache_dir: str | Path | None = None,
                 relevance_model: Path | None = RELEVANCE_MODEL, alias_table: Path | None = ALIAS_TABLE):
        self.keywords = keywords
        self.simplifier = Simplifier()
        self.tokenizer = jieba.Tokenizer()
        if cache_dir is not None:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            self.tokenizer.tmp_dir = str(cache_dir)
        self.tokenizer.initialize()
        self.tokenizer.load_userdict(str(DATA_DIR / "userdict.txt"))
        aliases = load_aliases(alias_table, self.simplifier.simplify) if alias_table is not None else []
        for alias in aliases:  # Chinese names must segment whole for the entity lookup to see them
            for form in alias.forms:
                if not form.isascii():
                    self.tokenizer.add_word(form, tag=_ALIAS_TAG)
        # Only the word->tag table is used (a dictionary lookup per word); running posseg's
        # HMM over every document would cost more than the segmentation itself.
        self.postokenizer = jieba.posseg.POSTokenizer(self.tokenizer)
        self._tags = {**self.postokenizer.word_tag_tab, **self.tokenizer.user_word_tag_tab}
        self.entities = EntityRecognizer(aliases, load_yaml("entity_rules.yaml"), self._tags,
                                         load_word_list(DATA_DIR / "en_business_heads.txt"))
        figure_lexicon = load_yaml("figures.yaml")
        self.figures = FigureExtractor(figure_lexicon, load_rates())
        self.roles = FigureRoles(figure_lexicon["roles"], figure_lexicon["scope"])
        self.relevance = RelevanceScorer(load_yaml("relevance.yaml"), relevance_model)
        self.keyword_extractor = KeywordExtractor(self.tokenizer, load_word_list(DATA_DIR / "stopwords.txt"))
        logger.debug("tagger ready: %s dictionary words, %s known entities", len(self.tokenizer.FREQ), len(aliases))

    def segment(self, text: str) -> Segmentation:
        """The document's jieba segmentation with offsets and dictionary tags."""
        return Segmentation(self.tokenizer.lcut(text), self._tags)

    def tag(self, text: str, lang: str | None = None, relevance_threshold: float | None = None) -> dict:
        """Tag one document: the interface fields minus "id" (see docs/nlp.md).

        Traditional Chinese is tagged in a simplified copy with the same offsets
        (``nlp.script``); surface texts are sliced from ``text`` itself."""
        lang = tagging_language(text, lang)
        simple = self.simplifier.simplify(text)
        seg = self.segment(simple)
        word_counts = Counter(seg.words)
        entities = self.entities.find(simple, seg)
        figures = self.roles.annotate(simple, self.figures.find(simple, seg.offsets, word_counts), entities)
        relevance, reasons = self.relevance.score(simple, seg, entities)
        entity_dicts = [e.as_dict() for e in entities]
        figure_dicts = [f.as_dict() for f in figures]
        if simple is not text:  # the original's surface forms (傲基股份 in 傲基股份, 萬 in 30萬家)
            for item in (*entity_dicts, *figure_dicts):
                item["text"] = text[item["start"]:item["end"]]
        return {
            "lang": lang,
            "relevant": self.relevance.is_relevant(relevance, relevance_threshold),
            "relevance": relevance,
            "relevance_reasons": reasons,
            "entities": entity_dicts,
            "figures": figure_dicts,
            "keywords": self.keyword_extractor.top(word_counts, self.keywords, self._figure_words(seg, figures)),
        }

    def _figure_words(self, seg: Segmentation, figures) -> Counter:
        """Words inside figures (万多家, 多亿元), kept out of keywords; counted nouns (卖家) stay in."""
        in_figures = Counter()
        for figure in figures:
            first = bisect_right(seg.offsets, figure.start) - 1
            last = bisect_right(seg.offsets, figure.end - 1) - 1
            in_figures.update(w for w in seg.words[first:last + 1] if w.lower() not in self.figures.counted)
        return in_figures


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

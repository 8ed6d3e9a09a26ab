"""FROZEN: the previous release's search query (cli/query.py as of main 4d793d9), kept only as
a reference for bench/bench_search.py. Do not change it; the product's query is cli/query.py.

The search request behind ``banwave search`` (and the relevance bench).

The query is cut into units: the known entities the NLP tagger finds in it
(alias table and suffix rules) and, for the rest, jieba's words. Each unit is
one clause and a document must match most of them (all of one or two):

- a **word** matches as a phrase in the ``cjk``-analysed text (bigrams in
  order, i.e. the exact characters) or, for Latin words, in the
  English-stemmed ``.en`` fields (the ``english`` analyzer would cut Chinese
  into single characters, which match almost anything);
- an **entity** matches any of its surface forms in the text, or its canonical
  name in the flat entity field (``sellers``…), so "Aukey" finds documents that
  only say 傲基 and vice versa.

Article titles count triple; a forum post's title is its thread's, shared by
every post, so it counts triple on the first post (its author's words) and
little on replies, where the post's own text decides. The whole query
as a phrase and the tagger's relevance verdict add boosts; filters (seller,
date, kind) never change the score.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from math import ceil

from nlp.resources import load_aliases

# entity type -> (flat keyword field of the docs mapping, weight of the whole entity unit)
ENTITY_FIELDS = {
    "seller": ("sellers", 1.0),
    "association": ("associations", 1.0),
    "government": ("governments", 1.0),
    "media": ("media", 1.0),
    # nearly every relevant document names the platform: it tells Amazon the
    # marketplace from 亚马逊雨林, but must not outweigh the rest of the query
    "platform": ("platforms", 0.3),
}
ENTITY_FIELD_BOOST = 3.0
FIGURE_BOOST = 3.0
TITLE_BOOST = 3.0
THREAD_TITLE_BOOST = 0.1
# an article's title, or a thread's title on its first post (the author's own words)
OWNS_TITLE = {"bool": {"should": [{"bool": {"must_not": [{"term": {"doc_type": "post"}}]}}, {"term": {"floor": 1}}]}}
PHRASE_BOOST = 2.0
RELEVANT_BOOST = 1.5
# private-use characters around highlighted words: never in real text, and not control
# characters (the highlighter trims those at fragment edges)
MARK_START, MARK_END = "\ue000", "\ue001"
HIGHLIGHT = {"pre_tags": [MARK_START], "post_tags": [MARK_END], "fragment_size": 110, "number_of_fragments": 1}
SOURCE_FIELDS = ["url", "title", "published", "source", "source_kind", "doc_type", "lang", "author",
                 "sellers", "associations", "platforms", "governments", "media", "loss_cny", "relevant"]
KINDS = ("news", "forum")

_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Entity:
    """A known entity named in a query: canonical name, type and every surface form."""

    type: str
    name: str
    forms: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Figure:
    """A money amount (in CNY) or a count named in a query."""

    kind: str
    value: float


@dataclass(frozen=True)
class Unit:
    """One piece of a parsed query: a word, an entity or a figure (with the text that named it)."""

    text: str
    entity: Entity | None = None
    figure: Figure | None = None


def is_cjk(text: str) -> bool:
    return bool(_CJK_CHAR.search(text))


class QueryParser:
    """Cuts queries into units and maps ``--seller`` values to canonical names.

    The NLP Tagger (jieba plus the alias table) is built lazily, once, on first
    use: loading jieba's dictionary takes about a second.
    """

    def __init__(self, tagger=None):
        self._tagger = tagger
        self._aliases = {a.canonical: a for a in load_aliases()}
        self._by_form = {form.casefold(): alias for alias in self._aliases.values() for form in alias.forms}

    @cached_property
    def tagger(self):
        if self._tagger is None:
            from nlp import Tagger

            self._tagger = Tagger(keywords=0)
        return self._tagger

    def _entity(self, canonical: str, etype: str) -> Entity:
        alias = self._aliases.get(canonical)
        return Entity(etype, canonical, alias.forms if alias else (canonical,))

    def resolve(self, name: str, etype: str | None = None) -> Entity | None:
        """The known entity one of whose forms is exactly ``name`` (any case), or None."""
        alias = self._by_form.get(name.strip().casefold())
        if alias is None or (etype is not None and alias.type != etype):
            return None
        return self._entity(alias.canonical, alias.type)

    def parse(self, query: str) -> list[Unit]:
        """Entities (tagger spans, and Latin aliases in any case), figures, and the words between."""
        tagged = self.tagger.tag(query)
        spans: list[tuple[int, int, Unit]] = []
        for found in tagged["entities"]:
            if found["type"] in ENTITY_FIELDS:
                entity = self._entity(found["name"], found["type"])
                spans.append((found["start"], found["end"], Unit(found["text"], entity=entity)))
        folded = query.casefold()
        for form, alias in self._by_form.items():
            if form.isascii() and alias.type in ENTITY_FIELDS:
                for match in re.finditer(rf"(?<![a-z0-9]){re.escape(form)}(?![a-z0-9])", folded):
                    entity = self._entity(alias.canonical, alias.type)
                    spans.append((match.start(), match.end(), Unit(query[match.start():match.end()], entity=entity)))
        for found in tagged["figures"]:
            value = found["value_cny"] if found["kind"] == "money" else found["value"]
            if found["kind"] in ("money", "count") and value:
                spans.append((found["start"], found["end"], Unit(found["text"], figure=Figure(found["kind"], value))))
        units: list[Unit] = []
        position = 0
        for start, end, unit in sorted(spans, key=lambda s: (s[0], -s[1])):
            if start < position:
                continue  # overlaps a longer or earlier span
            units += self._words(query[position:start])
            units.append(unit)
            position = end
        units += self._words(query[position:])
        return units

    def _words(self, text: str) -> list[Unit]:
        """jieba's words, without spaces and punctuation; a lone Chinese character joins its
        neighbour (cjk indexes character pairs, so 卡 alone would match nothing)."""
        words: list[list] = []  # [word, start, end]
        waiting = None  # a lone character waiting to be glued to the next word
        position = 0
        for word in self.tagger.tokenizer.lcut(text):
            start, position = position, position + len(word)
            if not _WORD.search(word):
                waiting = None
                continue
            if waiting is not None and waiting[2] == start and is_cjk(word[0]):
                waiting[0], waiting[2], waiting = waiting[0] + word, position, None
                continue
            lone = len(word) == 1 and is_cjk(word)
            if lone and words and words[-1][2] == start and is_cjk(words[-1][0][-1]):
                words[-1][0], words[-1][2] = words[-1][0] + word, position
                continue
            words.append([word, start, position])
            waiting = words[-1] if lone else None
        return [Unit(word) for word, _, _ in words]


@dataclass(frozen=True)
class Filters:
    """What ``--seller``, ``--since``, ``--kind``, ``--relevant`` restrict to (empty = no restriction)."""

    sellers: tuple[str, ...] = ()
    since: str | None = None
    kind: str | None = None
    relevant_only: bool = False

    def clauses(self) -> list[dict]:
        clauses: list[dict] = []
        if self.sellers:
            clauses.append({"terms": {"sellers": list(self.sellers)}})
        if self.since:
            clauses.append({"range": {"published": {"gte": self.since}}})
        if self.kind:
            clauses.append({"term": {"source_kind": self.kind}})
        if self.relevant_only:
            clauses.append({"term": {"relevant": True}})
        return clauses


def _text_match(text: str, boost: float = 1.0) -> dict:
    """``text`` in body, article title and thread title: as a phrase of bigrams when Chinese,
    as stemmed English words otherwise."""
    if len(text) == 1 and is_cjk(text):
        # cjk indexes character pairs: a lone character is only inside them (rare, and slower)
        return {"bool": {"should": [
            {"wildcard": {"text": {"value": f"*{text}*"}}},
            {"wildcard": {"title": {"value": f"*{text}*", "boost": TITLE_BOOST}}},
        ], "boost": boost}}
    if is_cjk(text):
        body, title, thread = ["text"], ["title"], ["thread_title"]
        kind = {"type": "phrase"}
    else:
        body, title, thread = ["text.en", "text"], ["title.en", "title"], ["thread_title"]
        kind = {"type": "best_fields", "operator": "and"}
    return {"bool": {"should": [
        {"multi_match": {"query": text, "fields": body, **kind}},
        {"bool": {"must": [{"multi_match": {"query": text, "fields": title, **kind}}],
                  "filter": [OWNS_TITLE], "boost": TITLE_BOOST}},
        {"multi_match": {"query": text, "fields": thread, **kind, "boost": THREAD_TITLE_BOOST}},
    ], "boost": boost}}


def _figure_match(figure: Figure) -> dict:
    """Any figure of the document equal to ``figure``; money within 5% (currency conversion)."""
    if figure.kind == "money":
        value = {"range": {"figures.value_cny": {"gte": figure.value * 0.95, "lte": figure.value * 1.05}}}
    else:
        value = {"term": {"figures.value": figure.value}}
    return {"bool": {"filter": [value, {"term": {"figures.kind": figure.kind}}], "boost": FIGURE_BOOST}}


def _unit_clause(unit: Unit) -> dict:
    if unit.figure is not None:
        return {"bool": {"should": [_text_match(unit.text), _figure_match(unit.figure)]}}
    if unit.entity is None:
        return _text_match(unit.text)
    field_name, weight = ENTITY_FIELDS[unit.entity.type]
    forms = [_text_match(form) for form in dict.fromkeys((unit.text, *unit.entity.forms))]
    return {"bool": {"should": [
        {"dis_max": {"queries": forms}},
        {"term": {field_name: {"value": unit.entity.name, "boost": ENTITY_FIELD_BOOST}}},
    ], "boost": weight}}


def required_matches(units: int) -> int:
    """How many of the query's units a document must match: one of one or two (ranking puts
    documents with both first), then 60%."""
    return 1 if units <= 2 else ceil(units * 0.6)


def build_query(query: str, units: list[Unit], filters: Filters = Filters()) -> dict:
    """The Elasticsearch ``query`` for a user query, its parsed units and the filters."""
    # constant: a term query would scale the boost by the IDF of relevant=true, which shrinks as
    # more documents are judged relevant (thread context made 亚马逊雨林 outrank sellers' stores)
    boosts: list[dict] = [{"constant_score": {"filter": {"term": {"relevant": True}}, "boost": RELEVANT_BOOST}}]
    if len(units) > 1:
        boosts.append(_text_match(query.strip(), PHRASE_BOOST))
    must = ({"bool": {"should": [_unit_clause(u) for u in units], "minimum_should_match": required_matches(len(units))}}
            if units else {"match_all": {}})
    return {"bool": {"must": [must], "should": boosts, "filter": filters.clauses()}}


def highlight(units: list[Unit]) -> dict:
    """Highlighting for the snippet: every unit, entities in any of their forms, so a
    document found through 傲基 for the query "Aukey" shows 傲基 marked."""
    texts = [form for unit in units for form in ((unit.text, *unit.entity.forms) if unit.entity else (unit.text,))]
    clauses = [{"match_phrase": {"text": t}} for t in texts] + [{"match_phrase": {"text.en": t}} for t in texts
                                                              if not is_cjk(t)]
    fields = {name: {"highlight_query": {"bool": {"should": clauses}}} if clauses else {} for name in ("text", "text.en")}
    return {**HIGHLIGHT, "fields": {"title": {"number_of_fragments": 0}, **fields},
            "no_match_size": HIGHLIGHT["fragment_size"]}


def search_body(query: str, units: list[Unit], filters: Filters = Filters(), size: int = 10) -> dict:
    """The full ``_search`` body: query, highlight, returned fields; newest first among equal scores."""
    return {
        "query": build_query(query, units, filters),
        "highlight": highlight(units),
        "_source": SOURCE_FIELDS,
        "size": size,
        "sort": ["_score", {"published": {"order": "desc", "missing": "_last"}}],
        "track_total_hits": True,
    }

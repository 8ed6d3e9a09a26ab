"""The search request behind ``banwave search`` (and the relevance bench).

The query is cut into units: the known entities the NLP tagger finds in it
(alias table and suffix rules), money amounts and counts, and, for the rest,
jieba's words less question words and particles (cli/data/query_stopwords.txt:
"傲基损失多少" asks about 傲基 and 损失). Each unit is one clause; a document
must match one of them, in any order, and the documents that match a share of
them that grows with the query (``required_matches``) rank above all others,
so a long question still finds the thread that answers half of it:

- a **Chinese word** matches its character pairs in the ``cjk``-analysed text:
  all of them as a phrase scores highest, most of them (a partial form: 封号
  for 封号潮, 被封 or 封店 for 被封店) still matches;
- a **Latin word** matches in the English-stemmed ``.en`` fields (the
  ``english`` analyzer would cut Chinese into single characters, which match
  almost anything);
- an **entity** matches any of its surface forms in the text, or its canonical
  name in the flat entity field (``sellers``…), so "Aukey" finds documents that
  only say 傲基 and vice versa. A name the tagger found by its suffix but the
  alias table lacks (深圳跨境协会) also matches the table's entities of its
  type that contain its characters in order (深圳市跨境电子商务协会).

Article titles count triple; a forum post's title is its thread's, shared by
every post, so it counts triple on the first post (its author's words) and
little on replies, where the post's own text decides. The query's words as
one phrase, and within a few positions of each other (proximity), and the
tagger's relevance verdict add boosts; filters (seller, date, kind) never
change the score. ``collapse`` keeps the best document of each story
(``story_id``: syndicated and reposted copies) and counts its copies.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from math import ceil
from pathlib import Path

from config import REPO_ROOT
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
# the query's words within this many positions of each other (any order for Latin words)
PROXIMITY_SLOP = 6
PROXIMITY_BOOST = 1.0
# a Chinese word whose character pairs all match (the exact form) over one matching most of them
EXACT_FORM_BOOST = 2.0
# share of a Chinese word's character pairs a partial form must have
PARTIAL_FORM_SHARE = 0.6
RELEVANT_BOOST = 2.0
# documents matching the required share of a long query's units rank above those matching fewer
MOST_UNITS_BOOST = 10.0
# share of a query's units (beyond two) a document must match to rank in the first tier
QUERY_SHARE = 0.5
STOPWORDS_FILE = REPO_ROOT / "cli" / "data" / "query_stopwords.txt"
TYPE_WORDS_FILE = REPO_ROOT / "cli" / "data" / "query_type_words.txt"
# a document naming any entity of the type a query word names (政府部门 -> governments)
TYPE_WORD_BOOST = 1.0
# a discovered name (not in the alias table) shorter than this is not expanded to table entries
MIN_PARTIAL_NAME = 4
# private-use characters around highlighted words: never in real text, and not control
# characters (the highlighter trims those at fragment edges)
MARK_START, MARK_END = "\ue000", "\ue001"
HIGHLIGHT = {"pre_tags": [MARK_START], "post_tags": [MARK_END], "fragment_size": 110, "number_of_fragments": 1}
SOURCE_FIELDS = ["url", "title", "published", "source", "source_kind", "doc_type", "lang", "author",
                 "sellers", "associations", "platforms", "governments", "media", "loss_cny", "relevant", "story_id"]
STORY_FIELD = "story_id"
KINDS = ("news", "forum")

_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Entity:
    """A known entity named in a query: canonical name, type and every surface form; ``names``:
    the canonical names its entity field may hold (its own, and those of the fuller names it
    stands for)."""

    type: str
    name: str
    forms: tuple[str, ...] = field(default=())
    names: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Figure:
    """A money amount (in CNY) or a count named in a query."""

    kind: str
    value: float


@dataclass(frozen=True)
class Unit:
    """One piece of a parsed query: a word, an entity or a figure (with the text that named it);
    ``kind_of``: the entity type a word names as a kind (政府部门: government), if any."""

    text: str
    entity: Entity | None = None
    figure: Figure | None = None
    kind_of: str | None = None


def is_cjk(text: str) -> bool:
    return bool(_CJK_CHAR.search(text))


def load_stopwords(path: Path = STOPWORDS_FILE) -> frozenset[str]:
    """The query stop words: one per line, '#' starts a comment; Latin words in lower case."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return frozenset(line.casefold() for line in lines if line)


def load_type_words(path: Path = TYPE_WORDS_FILE) -> dict[str, str]:
    """Word (Latin in lower case) -> entity type, from ``type<TAB>word|word…`` lines."""
    words = {}
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        etype, _, forms = line.partition("\t")
        if etype not in ENTITY_FIELDS or not forms.strip():
            raise ValueError(f"{path.name}:{number}: expected 'entity type<TAB>word|word', got {line!r}")
        words.update((form.strip().casefold(), etype) for form in forms.split("|") if form.strip())
    return words


def in_order(short: str, long: str) -> bool:
    """True when every character of ``short`` occurs in ``long`` in the same order."""
    rest = iter(long)
    return all(char in rest for char in short)


class QueryParser:
    """Cuts queries into units and maps ``--seller`` values to canonical names.

    The NLP Tagger (jieba plus the alias table) is built lazily, once, on first
    use: loading jieba's dictionary takes about a second.
    """

    def __init__(self, tagger=None):
        self._tagger = tagger
        self._aliases = {a.canonical: a for a in load_aliases()}
        self._by_form = {form.casefold(): alias for alias in self._aliases.values() for form in alias.forms}
        self.stopwords = load_stopwords()
        self.type_words = load_type_words()

    @cached_property
    def tagger(self):
        if self._tagger is None:
            from nlp import Tagger

            self._tagger = Tagger(keywords=0)
        return self._tagger

    def _entity(self, canonical: str, etype: str) -> Entity:
        alias = self._aliases.get(canonical)
        if alias is not None:
            return Entity(etype, canonical, alias.forms, (canonical,))
        fuller = self._fuller(canonical, etype)
        forms = (canonical, *(form for a in fuller for form in a.forms))
        return Entity(etype, canonical, tuple(dict.fromkeys(forms)), (canonical, *(a.canonical for a in fuller)))

    def _fuller(self, name: str, etype: str) -> list:
        """The table's entities of ``etype`` with a form holding ``name``'s characters in order: a
        partial organisation name (广东商务厅) reaches the full one (广东省商务厅)."""
        if len(name) < MIN_PARTIAL_NAME:
            return []
        return [alias for alias in self._aliases.values() if alias.type == etype
                and any(len(form) > len(name) and in_order(name, form) for form in alias.forms)]

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
        """jieba's words, without spaces, punctuation and stop words; a lone Chinese character
        joins its neighbour (cjk indexes character pairs, so 卡 alone would match nothing)."""
        words: list[list] = []  # [word, start, end]
        waiting = None  # a lone character waiting to be glued to the next word
        position = 0
        for word in self.tagger.tokenizer.lcut(text):
            start, position = position, position + len(word)
            if not _WORD.search(word) or word.casefold() in self.stopwords:
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
        return [Unit(word, kind_of=self.type_words.get(word.casefold())) for word, _, _ in words]


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


def _cjk_pairs(text: str) -> int:
    """How many character pairs the ``cjk`` analyzer makes of a Chinese word."""
    return max(1, len(text) - 1)


def _form_match(text: str, fields: list[str], boost: float = 1.0) -> dict:
    """``text`` in ``fields``: a Chinese word as all its character pairs in order (boosted), or
    most of them (a partial form); Latin words stemmed, all of them."""
    if is_cjk(text):
        # all pairs but a share of those after the first: 被封 or 封店 for 被封店
        partial = max(1, ceil((_cjk_pairs(text) - 1) * PARTIAL_FORM_SHARE))
        return {"bool": {"should": [
            {"multi_match": {"query": text, "fields": fields, "type": "phrase", "boost": EXACT_FORM_BOOST}},
            {"multi_match": {"query": text, "fields": fields, "minimum_should_match": partial}},
        ], "boost": boost}}
    return {"multi_match": {"query": text, "fields": fields, "type": "best_fields", "operator": "and",
                            "boost": boost}}


def _text_match(text: str, boost: float = 1.0) -> dict:
    """``text`` in body, article title and thread title (see ``_form_match``)."""
    if len(text) == 1 and is_cjk(text):
        # cjk indexes character pairs: a lone character is only inside them (rare, and slower)
        return {"bool": {"should": [
            {"wildcard": {"text": {"value": f"*{text}*"}}},
            {"wildcard": {"title": {"value": f"*{text}*", "boost": TITLE_BOOST}}},
        ], "boost": boost}}
    if is_cjk(text):
        body, title, thread = ["text"], ["title"], ["thread_title"]
    else:
        body, title, thread = ["text.en", "text"], ["title.en", "title"], ["thread_title"]
    return {"bool": {"should": [
        _form_match(text, body),
        {"bool": {"must": [_form_match(text, title)], "filter": [OWNS_TITLE], "boost": TITLE_BOOST}},
        _form_match(text, thread, THREAD_TITLE_BOOST),
    ], "boost": boost}}


def _in_body_or_own_title(text: str, options: dict) -> dict:
    """A ``multi_match`` of ``text`` in the body, or in the title where the document wrote it (a
    reply's title is its thread's)."""
    cjk = is_cjk(text)
    body = ["text"] if cjk else ["text.en", "text"]
    title = ["title"] if cjk else ["title.en", "title"]
    return {"bool": {"should": [
        {"multi_match": {"query": text, "fields": body, **options}},
        {"bool": {"must": [{"multi_match": {"query": text, "fields": title, **options}}], "filter": [OWNS_TITLE]}},
    ]}}


def _whole_query(text: str) -> dict:
    """The whole query as written: as one phrase when Chinese, all its words when Latin."""
    kind = {"type": "phrase"} if is_cjk(text) else {"operator": "and"}
    return _in_body_or_own_title(text, {**kind, "boost": PHRASE_BOOST})


def _proximity(units: list[Unit]) -> list[dict]:
    """The query's words (less stop words) within PROXIMITY_SLOP positions of each other."""
    words = [unit.text for unit in units if unit.entity is None and unit.figure is None]
    if len(words) < 2:
        return []
    return [_in_body_or_own_title(" ".join(words), {"type": "phrase", "slop": PROXIMITY_SLOP,
                                                   "boost": PROXIMITY_BOOST})]


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
    if unit.kind_of is not None:
        field_name = ENTITY_FIELDS[unit.kind_of][0]
        return {"bool": {"should": [_text_match(unit.text),
                                    {"constant_score": {"filter": {"exists": {"field": field_name}},
                                                        "boost": TYPE_WORD_BOOST}}]}}
    if unit.entity is None:
        return _text_match(unit.text)
    field_name, weight = ENTITY_FIELDS[unit.entity.type]
    forms = [_text_match(form) for form in dict.fromkeys((unit.text, *unit.entity.forms))]
    return {"bool": {"should": [
        {"dis_max": {"queries": forms}},
        {"terms": {field_name: list(unit.entity.names or (unit.entity.name,)), "boost": ENTITY_FIELD_BOOST}},
    ], "boost": weight}}


def required_matches(units: int) -> int:
    """How many of the query's units a document must match to rank in the first tier: one of one
    or two (ranking puts documents with both first), then a share (QUERY_SHARE) of them."""
    return 1 if units <= 2 else ceil(units * QUERY_SHARE)


def build_query(query: str, units: list[Unit], filters: Filters = Filters()) -> dict:
    """The Elasticsearch ``query`` for a user query, its parsed units and the filters."""
    # constant: a term query would scale the boost by the IDF of relevant=true, which shrinks as
    # more documents are judged relevant (thread context made 亚马逊雨林 outrank sellers' stores)
    boosts: list[dict] = [{"constant_score": {"filter": {"term": {"relevant": True}}, "boost": RELEVANT_BOOST}}]
    if len(units) > 1:
        boosts.append(_whole_query(query.strip()))
        boosts += _proximity(units)

    clauses = [_unit_clause(u) for u in units]
    must = {"bool": {"should": clauses, "minimum_should_match": 1}} if units else {"match_all": {}}
    if required_matches(len(units)) > 1:
        most = {"bool": {"should": clauses, "minimum_should_match": required_matches(len(units))}}
        boosts.append({"constant_score": {"filter": most, "boost": MOST_UNITS_BOOST}})
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


def search_body(query: str, units: list[Unit], filters: Filters = Filters(), size: int = 10,
                collapse: bool = False) -> dict:
    """The full ``_search`` body: query, highlight, returned fields; newest first among equal scores.
    ``collapse``: the best document of each story, with its number of copies (inner hits
    ``copies``) and the number of stories (aggregation ``stories``)."""
    body = {
        "query": build_query(query, units, filters),
        "highlight": highlight(units),
        "_source": SOURCE_FIELDS,
        "size": size,
        "sort": ["_score", {"published": {"order": "desc", "missing": "_last"}}],
        "track_total_hits": True,
    }
    if collapse:
        body["collapse"] = {"field": STORY_FIELD, "inner_hits": {"name": "copies", "size": 0}}
        body["aggs"] = {"stories": {"cardinality": {"field": STORY_FIELD}}}
    return body

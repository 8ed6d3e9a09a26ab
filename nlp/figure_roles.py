"""What a figure measures and whose it is: ``role`` for money, ``scope`` and ``subject`` for all.

A wave's coverage mixes figures of different kinds in one sentence: a seller's annual sales
(年销售额数十亿元), its frozen funds, an association's industry-wide loss estimate, a subsidy
cap. Summed or charted together they mislead, so each money figure gets a role from the cue
words nearest to it (lexicon: ``roles`` in ``nlp/data/figures.yaml``):

- the nearest cue in the figure's clause (a cue before the figure wins a tie with one after:
  Chinese puts the noun first, 冻结资金约1.3亿元; English often after, "$2.5 million ... frozen");
- else the nearest in its sentence ("损失惨重，仅傲基一家就达5亿元");
- a figure in parentheses right after another money figure is the same amount in another
  currency ("500 million yuan ($77 million)") and takes its role;
- else ``other``.

``scope`` is ``industry`` when the clause speaks of the trade or of many sellers (行业, 合计,
"Chinese sellers", several sellers named in the clause, a count of sellers beside a loss), else
``seller`` with ``subject`` = the canonical name of the seller named nearest in the clause, or
failing that before the figure in the sentence; else null. Counts and percents get a scope and
subject too, never a role.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from typing import Sequence

from nlp.figures import Figure
from nlp.regex import word_list_regex
from nlp.segmentation import Entity

ROLES = ("loss", "frozen", "fine", "sales", "valuation", "subsidy", "other")
# Roles that count as money lost by sellers: they alone feed loss_cny, the report and the loss panels.
LOSS_ROLES = frozenset({"loss", "frozen", "fine"})
_CLAUSE = re.compile(r"[，；：:;！？!?。\n（）()]|,\s|\.\s|\.$")
_SENTENCE = re.compile(r"[。！？!?\n]|\.\s|\.$")
_OPEN_PAREN = re.compile(r"\s*[（(]\s*$")
_SELLER_COUNT = re.compile(r"(?:卖家|商家|企业|店铺|sellers|merchants|companies|stores)")


class FigureRoles:
    """Adds role, scope and subject to figures; built once from ``figures.yaml``."""

    def __init__(self, roles: dict, scope: dict):
        self._role_of = {}
        for role, cues in roles.items():  # a cue listed under two roles keeps the first
            for cue in [*cues["zh"], *cues["en"]]:
                self._role_of.setdefault(cue.lower(), role)
        self._roles = re.compile(word_list_regex(self._role_of))
        self._industry = re.compile(word_list_regex(w.lower() for w in [*scope["industry_zh"], *scope["industry_en"]]))

    def annotate(self, text: str, figures: list[Figure], entities: Sequence[Entity]) -> list[Figure]:
        """The figures with role (money only), scope and subject filled in."""
        if not figures:
            return figures
        lowered = text.lower()
        clauses = _Boundaries(lowered, _CLAUSE)
        sentences = _Boundaries(lowered, _SENTENCE)
        sellers = [e for e in entities if e.type == "seller"]
        out: list[Figure] = []
        for figure in figures:
            clause, sentence = clauses.around(figure), sentences.around(figure)
            role = None
            if figure.kind == "money":
                role = self._inherited_role(text, figure, out) or self._role(lowered, figure, clause, sentence)
            scope, subject = self._scope(lowered, figure, clause, sentence, sellers, role)
            figure.role, figure.scope, figure.subject = role, scope, subject
            out.append(figure)
        return out

    def _inherited_role(self, text: str, figure: Figure, before: list[Figure]) -> str | None:
        previous = next((f for f in reversed(before) if f.kind == "money"), None)
        if previous is not None and _OPEN_PAREN.fullmatch(text, previous.end, figure.start):
            return previous.role
        return None

    def _role(self, lowered: str, figure: Figure, clause: tuple[int, int], sentence: tuple[int, int]) -> str:
        for start, end in (clause, sentence):
            best, best_distance = None, None
            for match in self._roles.finditer(lowered, start, end):
                if match.start() < figure.end and figure.start < match.end():
                    continue  # a cue inside the figure's own text
                # a cue after the figure counts as slightly further: Chinese puts the noun first
                distance = figure.start - match.end() if match.end() <= figure.start else match.start() - figure.end + 0.5
                if best_distance is None or distance < best_distance:
                    best, best_distance = self._role_of[match.group()], distance
            if best is not None:
                return best
        return "other"

    def _scope(self, lowered: str, figure: Figure, clause: tuple[int, int], sentence: tuple[int, int],
               sellers: Sequence[Entity], role: str | None) -> tuple[str | None, str | None]:
        start, end = clause
        if self._industry.search(lowered, start, end):
            return "industry", None
        in_clause = [e for e in sellers if start <= e.start and e.end <= end]
        if len({e.name for e in in_clause}) > 1:
            return "industry", None  # several sellers, one figure: a multi-seller total
        if in_clause:
            before = [e for e in in_clause if e.end <= figure.start]
            return "seller", (before[-1] if before else in_clause[0]).name
        sentence_start = sentence[0]
        before = [e for e in sellers if sentence_start <= e.start and e.end <= figure.start]
        if before:
            return "seller", before[-1].name
        if role in LOSS_ROLES and _SELLER_COUNT.search(lowered, sentence_start, figure.start):
            return "industry", None  # "5万家卖家 … 损失超过1000亿元"
        return None, None


class _Boundaries:
    """Clause or sentence boundaries of a text, found in one pass, looked up per figure."""

    def __init__(self, text: str, boundary: re.Pattern):
        spans = [m.span() for m in boundary.finditer(text)]
        self._starts = [start for start, _ in spans]
        self._ends = [end for _, end in spans]
        self._length = len(text)

    def around(self, figure: Figure) -> tuple[int, int]:
        """From the end of the last boundary before the figure to the start of the next after it."""
        k = bisect_left(self._starts, figure.start)  # boundaries starting before the figure: 0..k-1
        start = self._ends[k - 1] if k else 0
        k = bisect_left(self._starts, figure.end)
        end = self._starts[k] if k < len(self._starts) else self._length
        return min(start, figure.start), max(end, figure.end)

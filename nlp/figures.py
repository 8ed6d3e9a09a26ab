"""Figures: money, counts and percentages in Chinese and English text.

Numbers are found with one regular expression, then classified by what stands next to them:
a currency (money), a percent sign or 成 (percent), a measure word or a counted noun (count).
A number with none of these (years, dates, ordinals, distances) is not a figure. The lexicon
(currencies, counted nouns, measure words, qualifiers) is ``nlp/data/figures.yaml``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bisect import bisect_right

from nlp.numbers import ARABIC_PATTERN, CN_NUMERAL_CHARS, ParsedNumber, parse_number
from nlp.regex import first_char_lookahead

_CN = CN_NUMERAL_CHARS
_EN_WORD_NUMBER = (r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
                   r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
                   r"eighty|ninety|hundred|thousand)")
# The lookahead on the first character lets the engine skip most positions without trying
# every alternative (a third of the scan time on mixed text).
_NUMBER_PARTS = (
    rf"百分之(?P<pct_of>{ARABIC_PATTERN}|[{_CN}点]+)"
    rf"|(?P<den>\d+|[{_CN}]+)分之(?P<num>\d+|[{_CN}]+)"
    rf"|(?P<arabic>(?:{ARABIC_PATTERN})(?:[多余几]?[十百千万亿])*[多余]?)"
    rf"(?:(?P<en_mul>\s?(?:thousand|million|billion|trillion)\b|(?:bn|mn|k|m|K|M)\b))?"
    rf"|(?P<chinese>(?:[数上](?=[十百千万亿]))?[{_CN}]+(?:[多余][十百千万亿]+)?[多余]?)")
NUMBER_RE = re.compile(
    rf"(?=[\d{_CN}数上zotfsenhZOTFSENH])(?:{_NUMBER_PARTS}"
    rf"|(?P<words>\b(?i:{_EN_WORD_NUMBER}(?:[\s-]+(?:and\s+)?{_EN_WORD_NUMBER})*"
    rf"(?:\s+(?:million|billion))?)\b))"
)
# The same without numbers written in English words, for a text none of whose words is one:
# their first letters (o, t, f, s, e, n, h) are most letters of English text.
NUMBER_RE_NO_WORDS = re.compile(rf"(?=[\d{_CN}数上])(?:{_NUMBER_PARTS}|(?P<words>(?!)))")
_EN_NUMBER_WORDS = frozenset(w for word in _EN_WORD_NUMBER[3:-1].split("|") for w in (word, word.capitalize(), word.upper()))
_ORDINAL_BEFORE = re.compile(r"(?:第|No\.\s?|#|[Nn]umber\s|[Ll]ine\s|[Rr]oute\s)$")
_PERCENT_AFTER = re.compile(r"\s?(?:%|％|percent\b|per cent\b|个百分点)|成(?![员立功本交为都了长])")
_TIME_AFTER_MEASURE = re.compile(r"(?:月|小时|星期|礼拜|季度|工作日|多月|年|天|周|钟|分钟)")
_CLOCK_BEFORE = re.compile(r"(?:上午|下午|晚上|凌晨|早上|中午|今晚|明早|傍晚|晚)\s*$")
_CLOCK_AFTER = re.compile(r"(?:半|钟|\d|[一二三四五六七八九十]+分)")
_EN_DETERMINERS = frozenset("my the its our their his her these those your them us".split())
_CLAUSE_BREAK = "，。；：！？、,.;:!?()（）\n"
_CN_WINDOW_STOP = frozenset(_CLAUSE_BREAK + "的被在是和与及等了将有")
_EN_STOPWORDS = frozenset("of and or the a an in on at to for from by with were was is are had has have it its their "
                          "who which that this than per each".split())
_RANGE_CONNECTOR = re.compile(r"\s*(?:至|到|-|－|~|～|—|–)\s*$")
_RANGE_CONNECTOR_EN = re.compile(r"\s+(?:to|and)\s+$")
_RANGE_OPENER_EN = re.compile(r"(?i)\b(?:between|from|range from|ranged from)\s+$")
# Shares written in words: "half of", "a quarter of", "two-thirds of", "one in four", 一半, 半数.
_DENOMINATORS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4,
                 "fourths": 4, "fifth": 5, "fifths": 5, "tenth": 10, "tenths": 10,
                 "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_NUMERATORS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}
# The lookahead holds the first characters of all three alternatives: most positions of a text
# fail it, where each alternative was tried before (it halved the scan).
_SHARE_WORDS = re.compile(
    r"(?i)(?=[hatodm一半])(?:(?<![\w-])(?:(?P<half>half)(?= of\b)"
    r"|(?P<num>a|one|two|three)[\s-](?P<den>thirds?|quarters?|fourths?|fifths?|tenths?)(?= of\b)"
    r"|(?P<one>one|two|three) (?:in|out of) (?P<of>two|three|four|five|six|seven|eight|nine|ten)\b)"
    r"|(?P<zh>一半|半数)"
    r"|\b(?P<vague>(?:tens|hundreds) of thousands|dozens|hundreds|thousands|millions|tens of millions)"
    r"(?= of (?!(?:days|weeks|months|years|hours|miles|kilometres|dollars|yuan|euros|pounds|times)\b)))")
# jieba words one of which a text needs for _SHARE_WORDS to find anything in it
_SHARE_TRIGGERS = frozenset(w for word in "half third thirds quarter quarters fourth fourths fifth fifths tenth tenths "
                            "in out dozens hundreds thousands millions".split() for w in (word, word.capitalize())) | {
                                "一半", "半数", "半"}
_VAGUE_VALUES = {"dozens": 10, "hundreds": 100, "thousands": 1000, "tens of thousands": 10_000,
                 "hundreds of thousands": 100_000, "millions": 1e6, "tens of millions": 1e7}


@dataclass(slots=True)
class Figure:
    """One figure as emitted in the interface (``as_dict``); role, scope and subject are set by
    ``nlp.figure_roles`` once the entities are known."""

    kind: str
    text: str
    start: int
    end: int
    value: float
    currency: str | None
    qualifier: str | None
    value_cny: float | None
    counted: str | None
    value_max: float | None = None      # upper end of a range (both of its figures carry it)
    value_cny_max: float | None = None
    role: str | None = None             # what a money figure measures (nlp/figure_roles.py)
    scope: str | None = None            # "seller", "industry" or None (unknown)
    subject: str | None = None          # canonical name of the seller it belongs to

    def as_dict(self) -> dict:
        return {"kind": self.kind, "text": self.text, "start": self.start, "end": self.end, "value": self.value,
                "currency": self.currency, "qualifier": self.qualifier, "value_cny": self.value_cny,
                "counted": self.counted, "value_max": self.value_max, "value_cny_max": self.value_cny_max,
                "role": self.role, "scope": self.scope, "subject": self.subject}


@dataclass
class _Candidate:
    """A number with what surrounds it, before it is known to be a figure."""

    number: ParsedNumber
    start: int          # of the figure text (qualifier / currency prefix included)
    end: int
    num_start: int
    num_end: int
    unit_end: int = 0   # end of the currency, percent sign or measure word right after the number
    kind: str | None = None
    currency: str | None = None
    counted: str | None = None
    qualifier: str | None = None
    scale: float = 1.0  # 10 for 成 (三成 = 30 percent), borrowed by a bare low bound (2至3成)
    high: "_Candidate | None" = None  # the upper bound, on both bounds of a range


def _alternation(words) -> str:
    """Regex alternation, longest first; a word starting or ending in a Latin letter may not
    touch another Latin letter there (RMB, but 100万RMB too; HK$ before its digits). Behind a
    first-character lookahead: the qualifier and currency expressions are searched for in a
    window before each number, and the lookahead rejects most positions with one set test."""
    words = sorted(words, key=len, reverse=True)
    parts = []
    for word in words:
        escaped = re.escape(word)
        if word[0].isascii() and word[0].isalpha():
            escaped = rf"(?<![A-Za-z]){escaped}"
        if word[-1].isascii() and word[-1].isalpha():
            escaped = rf"{escaped}(?![A-Za-z])"
        parts.append(escaped)
    if not parts:
        return ""
    return f"{first_char_lookahead(words)}(?:{'|'.join(parts)})"


class FigureExtractor:
    """Find figures in text; built once from the lexicon and the CNY rate table."""

    def __init__(self, lexicon: dict, rates_to_cny: dict[str, float]):
        self.rates = rates_to_cny
        self.currency_suffix = lexicon["currency_suffix"]
        self.currency_prefix = lexicon["currency_prefix"]
        self.counted = {k.lower(): v for k, v in lexicon["counted"].items()}
        self.measures = lexicon["measure_words"]
        self.not_counted = frozenset(w.lower() for w in lexicon["not_counted_en"])
        self._suffix_re = re.compile(rf"\s?(?:{_alternation(self.currency_suffix)})")
        self._prefix_re = re.compile(rf"(?:{_alternation(self.currency_prefix)})\s?$")
        self._counted_zh_re = re.compile(_alternation(k for k in self.counted if not k.isascii()))
        self._measure_re = re.compile(_alternation(self.measures))
        self._qualifier_of = {}
        for qualifier, words in lexicon["qualifier_before"].items():
            self._qualifier_of.update({w.lower(): qualifier for w in words})
        glue = "|".join(map(re.escape, lexicon["qualifier_glue"]))
        self._qualifier_before_re = re.compile(
            rf"(?i)(?P<q>{_alternation(self._qualifier_of)})(?:{glue})?\s*$")
        self._qualifier_after = {w: q for q, words in lexicon["qualifier_after"].items() for w in words}
        self._qualifier_after_re = re.compile(_alternation(w for w in self._qualifier_after if len(w) > 1))
        # Characters that can follow a figure's number (a unit, a noun, a space, a range dash) or
        # end a currency prefix before it: most numbers in running text (一起, 万一, 2021年)
        # have neither and are dropped before any further work.
        self._unit_starts = frozenset(
            "%％成个 \t" + "至到-－~～—–" + "".join(w[0] for w in self.currency_suffix)
            + "".join(w[0] for w in self.measures) + "".join(w[0] for w in self.counted))
        self._prefix_ends = frozenset(w[-1] for w in self.currency_prefix) | {" "}

    def find(self, text: str, word_starts: list[int] | None = None, words=None) -> list[Figure]:
        """All figures in ``text``, in order. ``word_starts`` (sorted token offsets from the
        segmenter) vetoes Chinese numerals that start inside a word (统一, 万一); ``words`` (the
        segmenter's distinct words) skips the scan for shares in words where none can be."""
        candidates = []
        number_re = NUMBER_RE if words is None or not _EN_NUMBER_WORDS.isdisjoint(words) else NUMBER_RE_NO_WORDS
        for match in number_re.finditer(text):
            candidate = self._candidate(text, match, word_starts)
            if candidate is not None:
                candidates.append(candidate)
        self._link_ranges(text, candidates)
        figures = [self._figure(text, c) for c in candidates if c.kind]
        if (words is None or not _SHARE_TRIGGERS.isdisjoint(words)) and (shares := self._word_figures(text, figures)):
            figures = sorted(figures + shares, key=lambda f: f.start)
        return figures

    def _word_figures(self, text: str, figures: list[Figure]) -> list[Figure]:
        """Shares written in words (half of, a quarter of, one in four, 一半), as percents, and
        vague English counts (hundreds of sellers -> 100, their order of magnitude); a count the
        words overlap ("four sellers" in "one in four sellers") is dropped in their favour."""
        shares = []
        for match in _SHARE_WORDS.finditer(text):
            if match.group("vague"):
                end, counted = self._counted_after_en(text, match.end() + len(" of"), False)
                if end is not None:
                    shares.append(Figure("count", text[match.start():end], match.start(), end,
                                         float(_VAGUE_VALUES[match.group("vague").lower()]), None, "over", None, counted))
                continue
            if match.group("zh"):
                value = 50.0
            elif match.group("half"):
                value = 50.0
            elif match.group("num"):
                value = 100 * _NUMERATORS[match.group("num").lower()] / _DENOMINATORS[match.group("den").lower()]
            else:
                value = 100 * _NUMERATORS[match.group("one").lower()] / _DENOMINATORS[match.group("of").lower()]
            shares.append(Figure("percent", match.group(), match.start(), match.end(), round(value, 3),
                                 None, None, None, None))
        for share in shares:
            figures[:] = [f for f in figures if not (f.start < share.end and share.start < f.end)]
        return shares

    def _candidate(self, text: str, match: re.Match, word_starts) -> _Candidate | None:
        start, end = match.span()
        if (match.group("pct_of") is None and match.group("den") is None and end < len(text)
                and text[end] not in self._unit_starts and (not start or text[start - 1] not in self._prefix_ends)):
            return None
        if _ORDINAL_BEFORE.search(text, max(0, start - 7), start):
            return None
        if match.group("arabic") is not None and start and (text[start - 1].isalnum() and text[start - 1].isascii()
                                                           or text[start - 1] == "."):
            return None  # part of a code, version or decimal (A380, v2.1)
        number = self._parse(match)
        if number is None:
            return None
        if match.group("chinese") is not None and word_starts and not _starts_word(text, start, word_starts):
            return None
        candidate = _Candidate(number, start, end, start, end, end)
        if match.group("pct_of") is not None or match.group("den") is not None:
            candidate.kind = "percent"
        else:
            self._classify(text, match, candidate)
            if (candidate.kind and match.group("chinese") is not None and word_starts
                    and not (_is_word_start(candidate.num_end, word_starts, len(text))
                             or _is_word_start(candidate.unit_end, word_starts, len(text)))):
                return None  # the numeral and its unit run into a longer word (万家乐)
        self._add_qualifiers(text, candidate)
        return candidate

    @staticmethod
    def _parse(match: re.Match) -> ParsedNumber | None:
        if match.group("pct_of") is not None:
            return parse_number(match.group("pct_of").replace("点", "."))
        if match.group("den") is not None:
            den, num = parse_number(match.group("den")), parse_number(match.group("num"))
            if not den or not num or not den.value:
                return None
            return ParsedNumber(round(100 * num.value / den.value, 3))
        return parse_number(match.group())

    def _classify(self, text: str, match: re.Match, c: _Candidate) -> None:
        """Set kind, currency and counted from the words right before and after the number."""
        after = c.end
        prefix = self._prefix_re.search(text, max(0, c.start - 5), c.start)
        if prefix:
            c.kind, c.currency, c.start = "money", self.currency_prefix[prefix.group().strip()], prefix.start()
            if text.startswith("元", c.end):  # 新台币300万元
                c.end += 1
            return
        percent = _PERCENT_AFTER.match(text, after)
        if percent:
            c.kind, c.end = "percent", percent.end()
            c.unit_end = c.end
            if percent.group() == "成":
                c.scale = 10.0
                c.number = replace(c.number, value=c.number.value * 10)
            return
        suffix = self._suffix_re.match(text, after)
        if suffix:
            c.kind, c.currency, c.end = "money", self.currency_suffix[suffix.group().strip()], suffix.end()
            c.unit_end = c.end
            return
        self._classify_count(text, match, c)

    def _classify_count(self, text: str, match: re.Match, c: _Candidate) -> None:
        if match.group().lower() in ("一", "one"):
            return  # the indefinite 一家 / one seller is not a count
        measure = self._measure_re.match(text, c.end)
        if measure:
            if _TIME_AFTER_MEASURE.match(text, measure.end()):
                return
            if measure.group() == "点" and (_CLOCK_BEFORE.search(text, max(0, c.start - 4), c.start)
                                           or _CLOCK_AFTER.match(text, measure.end())):
                return  # 下午3点, 3点半: a time of day
            default = self.measures[measure.group()]
            c.end = c.unit_end = measure.end()
            noun_end, counted = self._counted_after_zh(text, c.end, 8)
            if counted:
                c.end, c.counted = noun_end, counted
            else:
                c.counted = self._counted_before_zh(text, c.num_start)
                if c.counted is None and default == "needs_noun":
                    return
                c.counted = c.counted or (default if default != "needs_noun" else None)
            c.kind = "count"
            return
        noun_end, counted = self._counted_after_zh(text, c.end, 0)
        if counted is None:
            year_like = bool(re.fullmatch(r"(?:19|20)\d\d", match.group()))
            noun_end, counted = self._counted_after_en(text, c.end, year_like)
        if noun_end is not None and noun_end > c.end:
            c.kind, c.end, c.counted = "count", noun_end, counted
            c.unit_end = noun_end

    def _counted_after_zh(self, text: str, pos: int, window: int) -> tuple[int, str | None]:
        """First counted noun within ``window`` characters (not crossing 的/被/punctuation), extended
        over an adjacent one (卖家账号 -> accounts)."""
        if window:
            limit = pos
            while limit < len(text) and limit - pos < window and text[limit] not in _CN_WINDOW_STOP:
                limit += 1
            found = self._counted_zh_re.search(text, pos, limit + 2)  # a noun may straddle the window end
        else:
            found = self._counted_zh_re.match(text, pos)
        if not found:
            return pos, None
        end, counted = found.end(), self.counted[found.group()]
        while (nxt := self._counted_zh_re.match(text, end)) is not None:
            end, counted = nxt.end(), self.counted[nxt.group()]
        return end, counted

    def _counted_before_zh(self, text: str, pos: int) -> str | None:
        """Counted noun just before the number in the same clause (账号超过3000个, 卖家十家有七家)."""
        start = pos
        while start > 0 and pos - start < 8 and text[start - 1] not in _CLAUSE_BREAK:
            start -= 1
        last = None
        for found in self._counted_zh_re.finditer(text, start, pos):
            last = found
        return self.counted[last.group()] if last else None

    def _counted_after_en(self, text: str, pos: int, year_like: bool) -> tuple[int | None, str | None]:
        """The counted English noun within four words (no stop word between; "two of its three
        warehouses" looks past "of" and a determiner): its end and category, the category None
        for a plural noun of another kind (300 jobs, 12 violation points), the end None when there
        is none or it is a unit of time or measure (90 days, 50 km). A year (2021 sales) is no count."""
        found_end, counted = None, None
        words = list(_iter_words(text, pos, 6))
        if len(words) >= 2 and words[0].group(1).lower() == "of" and words[1].group(1).lower() in _EN_DETERMINERS:
            words = words[2:]
        for word in words[:4]:
            lowered = word.group(1).lower()
            if lowered in _EN_STOPWORDS:
                break
            if lowered in self.counted:
                found_end, counted = word.end(), self.counted[lowered]
            elif counted or found_end is not None:
                break
            elif lowered in self.not_counted:
                return None, None
            elif len(lowered) > 3 and lowered.endswith("s") and not lowered.endswith("ss") and not year_like:
                found_end = word.end()  # a plural noun: keep looking for a counted one right after
        return found_end, counted

    def _add_qualifiers(self, text: str, c: _Candidate) -> None:
        before = self._qualifier_before_re.search(text, max(0, c.start - 16), c.start)
        if before:
            c.qualifier, c.start = self._qualifier_of[before.group("q").lower()], before.start()
        after = self._qualifier_after_re.match(text, c.end)
        if after:
            c.end = after.end()
            c.qualifier = c.qualifier or self._qualifier_after[after.group()]
        if c.qualifier is None and c.number.approximate:
            c.qualifier = "over"

    def _link_ranges(self, text: str, candidates: list[_Candidate]) -> None:
        """'20万元至500万元', '20万-50万元', 'between $1 million and $3 million': low bound gets
        at_least, high bound up_to; a bare low bound borrows the high bound's unit."""
        for low, high in zip(candidates, candidates[1:]):
            if not high.kind or (low.kind and low.kind != high.kind):
                continue
            gap = text[low.num_end if not low.kind else low.end:high.start]
            if _RANGE_CONNECTOR.fullmatch(gap) is None:
                english = _RANGE_CONNECTOR_EN.fullmatch(gap)
                opener = _RANGE_OPENER_EN.search(text, max(0, low.start - 14), low.start)
                if not english or not opener:
                    continue
            if not low.kind:
                low.kind, low.currency, low.counted = high.kind, high.currency, high.counted
                factor = high.scale * (high.number.multiplier if low.number.multiplier == 1.0 else 1.0)
                low.number = replace(low.number, value=low.number.value * factor)
                low.end = low.num_end
            low.qualifier, high.qualifier = "at_least", "up_to"
            low.high = high.high = high

    def _figure(self, text: str, c: _Candidate) -> Figure:
        value = c.number.value
        value_max = c.high.number.value if c.high is not None else None
        return Figure(c.kind, text[c.start:c.end], c.start, c.end, value, c.currency, c.qualifier,
                      self._cny(c, value), c.counted if c.kind == "count" else None,
                      value_max, self._cny(c, value_max))

    def _cny(self, c: _Candidate, value: float | None) -> float | None:
        if value is None or c.kind != "money" or c.currency not in self.rates:
            return None
        return round(value * self.rates[c.currency], 2)


# Characters that may precede a numeral inside one jieba word (近万, 逾百, 数十, 好几百).
_NUMERAL_WORD_PREFIX = frozenset("近逾约超数上好")


def _starts_word(text: str, pos: int, word_starts: list[int]) -> bool:
    """Does a word start at ``pos``, or only qualifier characters precede it in its word?"""
    word_start = word_starts[bisect_right(word_starts, pos) - 1]
    return all(ch in _NUMERAL_WORD_PREFIX for ch in text[word_start:pos])


def _is_word_start(pos: int, word_starts: list[int], text_length: int) -> bool:
    index = bisect_right(word_starts, pos) - 1
    return pos == text_length or (index >= 0 and word_starts[index] == pos)


def _iter_words(text: str, pos: int, limit: int):
    """Up to ``limit`` whitespace-separated words directly after ``pos``."""
    pattern = re.compile(r"\s+([A-Za-z][\w'-]*)")
    for _ in range(limit):
        word = pattern.match(text, pos)
        if word is None:
            return
        yield word
        pos = word.end()

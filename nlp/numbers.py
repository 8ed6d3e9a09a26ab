"""Numeral parsing: Arabic (1,000 / 1.3), Chinese (二十几万, 两千多), mixed (1,000多亿, 5万多) and English (2.5 million, 40k, four).

A number written as a lower bound (多, 余, 几, 数十, 上亿) parses to that bound with
``approximate=True``; callers turn that into the qualifier "over". A vague leading 几 / 数 gives
the order of magnitude (几万 -> 10,000, 数百 -> 100), as the annotation guide does. Two adjacent digits
before a unit (四五十万, "forty or fifty ten-thousands") parse to the lower one, also approximate.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
CN_APPROX = frozenset("多余几")
# 数十 / 上亿: "several tens" / "over a hundred million" — the unit is the lower bound.
CN_VAGUE_PREFIXES = frozenset("数上")
CN_NUMERAL_CHARS = "".join(CN_DIGITS) + "".join(CN_SMALL_UNITS) + "".join(CN_BIG_UNITS) + "几"

EN_MULTIPLIERS = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
                  "k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9}
EN_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
EN_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
EN_SCALES = {"hundred": 100, "thousand": 1000, "million": 1e6, "billion": 1e9}

ARABIC_PATTERN = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_ARABIC_PREFIX = re.compile(ARABIC_PATTERN)


@dataclass(frozen=True)
class ParsedNumber:
    """A parsed numeral: its value, whether it is a lower bound, and the multiplier it was written with."""

    value: float
    approximate: bool = False
    multiplier: float = 1.0


def parse_arabic(text: str) -> float:
    """'1,000' -> 1000.0, '1.3' -> 1.3."""
    return float(text.replace(",", ""))


def parse_chinese(text: str) -> ParsedNumber | None:
    """Parse a Chinese numeral ('二十几万', '两千多', '四五十万', '数十', '上亿'); None if it is not one."""
    if not text:
        return None
    approximate = False
    if text[0] in CN_VAGUE_PREFIXES:
        if len(text) < 2 or text[1] not in CN_SMALL_UNITS and text[1] not in CN_BIG_UNITS:
            return None
        text, approximate = "一" + text[1:], True
    if not any(ch in CN_DIGITS or ch in CN_SMALL_UNITS or ch in CN_BIG_UNITS for ch in text):
        return None
    if all(ch in CN_DIGITS for ch in text):
        # positional digits without units (二〇二一): read digit by digit
        return ParsedNumber(float("".join(str(CN_DIGITS[ch]) for ch in text)))
    total = wan_part = section = 0.0  # 亿 and above / 万 group / below 万
    digit: float | None = None
    multiplier = 1.0
    for ch in text:
        if ch in "零〇":
            digit = None  # a placeholder (一百零五), not a digit of its own
        elif ch in CN_DIGITS:
            if digit is not None:  # 四五十: keep the lower of two adjacent digits
                approximate = True
                continue
            digit = CN_DIGITS[ch]
        elif ch == "几":
            approximate = True
            if digit is None:
                digit = 0 if section else 1  # 几百: "a few hundred", its order of magnitude
        elif ch in CN_SMALL_UNITS:
            section += (1 if digit is None else digit) * CN_SMALL_UNITS[ch]
            digit = None
        elif ch in CN_BIG_UNITS:
            if digit is None and not (section or wan_part or total):
                digit = 1  # 万 / 亿 alone: one unit
            group = section + (digit or 0)
            if ch == "万":
                wan_part = (wan_part + group) * CN_BIG_UNITS[ch]
            else:
                total, wan_part = (total + wan_part + group) * CN_BIG_UNITS[ch], 0.0
            section, digit = 0.0, None
            multiplier = CN_BIG_UNITS[ch]
        elif ch in CN_APPROX:
            approximate = True
        else:
            return None
    return ParsedNumber(total + wan_part + section + (digit or 0), approximate, multiplier)


def parse_mixed(text: str) -> ParsedNumber | None:
    """Parse Arabic digits followed by Chinese multipliers ('1,000多亿', '5万多', '1.3亿', '8000万')."""
    match = _ARABIC_PREFIX.match(text)
    if not match:
        return parse_chinese(text)
    value = parse_arabic(match.group())
    approximate = False
    multiplier = 1.0
    for ch in text[match.end():]:
        if ch in CN_APPROX:
            approximate = True
        elif ch in CN_SMALL_UNITS or ch in CN_BIG_UNITS:
            unit = CN_SMALL_UNITS.get(ch) or CN_BIG_UNITS[ch]
            multiplier *= unit
        else:
            return None
    return ParsedNumber(value * multiplier, approximate, multiplier)


def parse_english(text: str) -> ParsedNumber | None:
    """Parse '2.5 million', '40k', '$12,500' digits, or words ('four', 'twenty-five thousand')."""
    words = text.lower().replace("-", " ").split()
    if not words:
        return None
    match = _ARABIC_PREFIX.match(words[0])
    if match:
        value = parse_arabic(match.group())
        rest = words[0][match.end():] or (words[1] if len(words) > 1 else "")
        multiplier = EN_MULTIPLIERS.get(rest, 1.0)
        if rest and rest not in EN_MULTIPLIERS:
            return None
        return ParsedNumber(value * multiplier, False, multiplier)
    total = current = 0.0
    multiplier = 1.0
    if words[0] not in EN_UNITS and words[0] not in EN_TENS:
        return None  # a scale word alone ("million") is not a number
    for word in words:
        if word == "and":
            continue
        if word in EN_UNITS:
            current += EN_UNITS[word]
        elif word in EN_TENS:
            current += EN_TENS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in EN_SCALES:
            multiplier = EN_SCALES[word]
            total += (current or 1) * multiplier
            current = 0.0
        else:
            return None
    return ParsedNumber(total + current, False, multiplier)


def parse_number(text: str) -> ParsedNumber | None:
    """Parse any numeral form above; None if the text is not a number."""
    text = text.strip()
    if not text:
        return None
    first = text[0]
    if first.isdigit():
        tail = text[_ARABIC_PREFIX.match(text).end():].strip()
        if not tail or all(ch in CN_NUMERAL_CHARS or ch in CN_APPROX for ch in tail):
            return parse_mixed(text.replace(" ", ""))
        return parse_english(text)
    if first in CN_NUMERAL_CHARS or first in CN_VAGUE_PREFIXES:
        return parse_chinese(text)
    return parse_english(text)

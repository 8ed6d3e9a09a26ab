"""Normalise publication dates to timezone-aware ISO 8601.

Hand-written patterns rather than dateparser: the forms found on Chinese
portals and forums are few and regular (2021年8月15日, 2021-8-15 10:23,
昨天 14:05, 3小时前), dateparser is slow enough to show in the extraction
budget, and it mis-resolves some of them. Absolute dates without an offset
are read in ``default_tz`` (the site's zone); relative ones count back from
the crawl time, so a page re-extracted later keeps its date.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {
    m: i
    for i, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")),
        start=1,
    )
    for m in names
}
_MONTH = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_TIME = (
    r"(?:[T\s,]*(?:at\s+)?(?P<h>\d{1,2})[:：](?P<mi>\d{2})(?:[:：](?P<s>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?)?"
)
_ZONE = r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2}|UTC|GMT|CST|BST|EST|EDT|PST|PDT)?(?:\s*[+-]\d{4})?"
_ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "CST": 8, "BST": 1, "EST": -5, "EDT": -4, "PST": -8, "PDT": -7}

_ABSOLUTE = [
    # 2021年8月15日 10:23 / 2021-08-15T10:23:00+08:00 / 2021/8/15 / 2021.8.15
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?:年|[-/.])\s*(?P<m>\d{1,2})\s*(?:月|[-/.])"
               r"\s*(?P<d>\d{1,2})(?!\d)\s*日?"
               + _TIME + _ZONE, re.I),
    # May 12, 2021 10:23 / Wed, May 12 2021
    re.compile(r"\b" + _MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{2})\b" + _TIME + _ZONE, re.I),
    # 12 May 2021 10:23 GMT
    re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<y>(?:19|20)\d{2})\b" + _TIME + _ZONE, re.I),
    # 08/05/2024 9:58 pm (forum software): day first when the first number
    # cannot be a month, else month first (the US default of most engines)
    re.compile(r"(?<![\d/.-])(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>(?:19|20)\d{2})(?![\d/.-])" + _TIME + _ZONE),
    # 1998年3月号, 2005年8月: month precision, read as the month's first day
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月(?!\s*\d)(?P<d>)"),
    # 8月15日 10:23 / 08-15 10:23: year taken from the crawl time
    re.compile(r"(?<![\d/.-])(?P<m>\d{1,2})\s*(?:月|-|/)\s*(?P<d>\d{1,2})(?![\d/.-])\s*日?" + _TIME),
]
_DAY_WORDS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2, "today": 0, "yesterday": 1}
_DAY_WORD = re.compile(r"(?P<w>今天|今日|昨天|昨日|前天|today|yesterday)" + _TIME, re.I)
_AGO = re.compile(
    r"(?P<n>\d+|半|一|两|几)\s*(?P<u>个?(?:秒|分钟|分|小时|天|日|周|星期|月|年)"
    r"|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s*(?:前|以前|ago)",
    re.I,
)
_JUST_NOW = re.compile(r"刚刚|刚才|just now", re.I)
# Unit by its first character(s) once a leading 个 is dropped ("个小时", "个月": 个 is only a measure word).
_UNIT_SECONDS = {
    "秒": 1, "sec": 1, "分": 60, "min": 60, "小": 3600, "hou": 3600, "hr": 3600,
    "天": 86400, "日": 86400, "day": 86400, "周": 604800, "星": 604800, "wee": 604800,
    "月": 2592000, "mon": 2592000, "年": 31536000, "yea": 31536000,
}


def normalise_date(raw: str, crawled_at: datetime | None = None, default_tz: str = "Asia/Shanghai") -> str | None:
    """Parse a date as written on a page; return ISO 8601 with offset, or None.

    Date-only values become midnight in ``default_tz``; naive ``crawled_at`` is
    taken as UTC. Dates after the crawl (by more than a day) are rejected as
    misreads.
    """
    if not raw or not isinstance(raw, str):
        return None
    tz = _zone(default_tz)
    now = _aware(crawled_at or datetime.now(timezone.utc)).astimezone(tz)
    text = " ".join(raw.split())[:200]
    value = _iso(text, tz) or _relative(text, now) or _absolute(text, now, tz) or _rfc2822(text)
    if value is None or value > now + timedelta(days=1):
        return None
    return value.replace(microsecond=0).isoformat()


def _iso(text: str, tz) -> datetime | None:
    """Strict ISO 8601 (meta tags, JSON-LD, <time datetime>)."""
    candidate = text.strip().replace("Z", "+00:00") if text[:4].isdigit() else ""
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if not 1990 <= value.year <= 2100:
        return None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _relative(text: str, now: datetime) -> datetime | None:
    match = _DAY_WORD.search(text)
    if match:
        day = now - timedelta(days=_DAY_WORDS[match["w"].lower()])
        if match["h"] is None:
            return day.replace(hour=0, minute=0, second=0, microsecond=0)
        return _at_time(day, match)
    match = _AGO.search(text)
    if match:
        n = {"半": 0.5, "一": 1, "两": 2, "几": 3}.get(match["n"]) or int(match["n"])
        unit = match["u"].lower().removeprefix("个")
        seconds = next(v for k, v in _UNIT_SECONDS.items() if unit.startswith(k))
        return now - timedelta(seconds=n * seconds)
    if _JUST_NOW.search(text):
        return now
    return None


def _absolute(text: str, now: datetime, tz) -> datetime | None:
    for pattern in _ABSOLUTE:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            if groups.get("a"):
                first, second = int(groups["a"]), int(groups["b"])
                month, groups["d"] = (second, first) if first > 12 else (first, second)
            else:
                month = _MONTHS[groups["mon"].lower()] if groups.get("mon") else int(groups["m"])
            year = int(groups["y"]) if groups.get("y") else now.year
            try:
                day = datetime(year, month, int(groups["d"] or 1), tzinfo=_offset(groups.get("tz")) or tz)
            except ValueError:
                continue
            if not groups.get("y") and day > now + timedelta(days=1):
                day = day.replace(year=year - 1)  # "12-30" read in January is last year's
            return _at_time(day, match) if groups.get("h") is not None else day
    return None


def _rfc2822(text: str) -> datetime | None:
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return value if value and value.tzinfo else None


def _at_time(day: datetime, match: re.Match) -> datetime | None:
    hour, minute = int(match["h"]), int(match["mi"])
    ampm = (match["ampm"] or "").replace(".", "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        return day.replace(hour=hour, minute=minute, second=int(match["s"] or 0), microsecond=0)
    except ValueError:
        return day.replace(hour=0, minute=0, second=0, microsecond=0)


def _offset(name: str | None) -> timezone | None:
    if not name:
        return None
    name = name.upper()
    if name in _ZONES:
        return timezone(timedelta(hours=_ZONES[name]))
    sign = -1 if name[0] == "-" else 1
    digits = name[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@lru_cache(maxsize=32)
def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone(timedelta(hours=8))

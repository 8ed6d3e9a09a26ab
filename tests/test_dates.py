from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st

from pipelines.extract.dates import normalise_date

CRAWL = datetime(2021, 8, 16, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


@pytest.mark.parametrize("raw,expected", [
    ("2021年8月15日", "2021-08-15T00:00:00+08:00"),
    ("2021年08月15日 10:23", "2021-08-15T10:23:00+08:00"),
    ("2021-8-15 10:23", "2021-08-15T10:23:00+08:00"),
    ("发表于 2021-8-15 10:23:45", "2021-08-15T10:23:45+08:00"),
    ("2021/08/15", "2021-08-15T00:00:00+08:00"),
    ("2021.8.15", "2021-08-15T00:00:00+08:00"),
    ("08-15", "2021-08-15T00:00:00+08:00"),
    ("8月15日 10:23", "2021-08-15T10:23:00+08:00"),
    ("今天 09:30", "2021-08-16T09:30:00+08:00"),
    ("昨天 14:05", "2021-08-15T14:05:00+08:00"),
    ("前天", "2021-08-14T00:00:00+08:00"),
    ("3小时前", "2021-08-16T07:00:00+08:00"),
    ("5分钟前", "2021-08-16T09:55:00+08:00"),
    ("1天前", "2021-08-15T10:00:00+08:00"),
    ("半小时前", "2021-08-16T09:30:00+08:00"),
    ("3 小时前", "2021-08-16T07:00:00+08:00"),
    ("2个小时前", "2021-08-16T08:00:00+08:00"),
    ("3个月前", "2021-05-18T10:00:00+08:00"),  # 个 is a measure word: months, not hours (issue 11)
    ("1个星期前", "2021-08-09T10:00:00+08:00"),
    ("2 months ago", "2021-06-17T10:00:00+08:00"),
    ("May 12, 2021", "2021-05-12T00:00:00+08:00"),
    ("12 May 2021 10:23 GMT", "2021-05-12T10:23:00+00:00"),
    ("Aug. 3, 2021, 5:30 p.m.", "2021-08-03T17:30:00+08:00"),
    ("2021-08-15T10:23:00Z", "2021-08-15T10:23:00+00:00"),
    ("2021-08-15T10:23:00", "2021-08-15T10:23:00+08:00"),
    ("Sun, 15 Aug 2021 02:23:00 +0000", "2021-08-15T02:23:00+00:00"),
])
def test_forms(raw, expected):
    assert normalise_date(raw, CRAWL) == expected


def test_month_day_after_crawl_date_is_last_year():
    assert normalise_date("12-30", CRAWL) == "2020-12-30T00:00:00+08:00"


def test_default_timezone_is_configurable():
    assert normalise_date("2021-08-15 10:23", CRAWL, "UTC") == "2021-08-15T10:23:00+00:00"


def test_naive_crawl_time_is_utc():
    assert normalise_date("3小时前", CRAWL.replace(tzinfo=None)) == "2021-08-16T07:00:00+08:00"


@pytest.mark.parametrize("raw", ["", "garbage", "2030-01-01", "第3页", "2021年13月45日"])
def test_unparseable_or_future_is_none(raw):
    assert normalise_date(raw, CRAWL) is None


@given(st.text(max_size=80))
def test_never_raises_and_output_is_aware_iso(raw):
    value = normalise_date(raw, CRAWL)
    assert value is None or datetime.fromisoformat(value).tzinfo is not None

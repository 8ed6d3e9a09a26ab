"""Waves against the real Elasticsearch: signals by aggregation, records, reruns, the backtest."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from wavedata import CST, doc, history, index, noon, quiet, waves_config
from waves import records as wave_records
from waves.config import WavesConfig
from waves.run import backtest, update
from waves.signals import OVERALL_SCOPE, Scope, compute

pytestmark = pytest.mark.es

START = date(2021, 1, 4)
ONSET = START + timedelta(days=120)
WAVE = [4, 8, 12, 10, 7, 5, 3, 2, 1, 1]
LOSS = [{"kind": "money", "text": "10亿元", "value": 10, "value_cny": 1e9, "role": "loss"},
        {"kind": "money", "text": "30亿元", "value": 30, "value_cny": 3e9, "role": "sales"}]


def cfg(**overrides) -> WavesConfig:
    return waves_config(overrides)


@pytest.fixture
def wave_index(es, es_env):
    """150 quiet days of news, then a forum wave about one seller from ONSET."""
    docs = history(START, quiet(150), kind="news")
    docs += history(ONSET, WAVE, sellers=("傲基",), thread="t1", figures=LOSS, keywords=("封店", "傲基"))
    docs.append(doc(ONSET + timedelta(days=1), 99, sellers=("傲基", "Mpow"), thread="t2", kind="forum"))
    index(es, es_env, docs)
    return docs


def test_signals_count_relevant_own_mentions_per_day_in_china_time(es, es_env):
    day = date(2021, 5, 10)
    docs = [doc(day, 0, sellers=("傲基",), thread="a"), doc(day, 1, sellers=("傲基", "泽宝"), thread="a"),
            doc(day, 2, kind="news", sellers=("泽宝",)),
            doc(day, 3, relevant=False, sellers=("傲基",), thread="b"),          # not relevant: not counted
            doc(day, 4, context_sellers=("傲基",), sellers=(), thread="c"),       # inherited name only
            doc(day, 5, hour=7, sellers=("帕拓逊",), thread="d"),                 # 07:05 in China, 23:05 UTC the day before
            doc(day + timedelta(days=1), 0, hour=1, sellers=("傲基",), thread="a")]  # next day 01:00 China time
    index(es, es_env, docs)
    signals = compute(es, es_env.docs_alias, day - timedelta(days=2), day + timedelta(days=2), "Asia/Shanghai",
                      max_scopes=10, hourly_days=1, now=datetime.combine(day + timedelta(days=1), time(12), CST))
    assert [d.isoformat() for d in signals.days] == ["2021-05-08", "2021-05-09", "2021-05-10", "2021-05-11"]
    assert signals.overall().tolist() == [0, 0, 5, 1]
    assert signals.series[Scope("seller", "傲基")].tolist() == [0, 0, 2, 1]
    assert signals.series[Scope("seller", "泽宝")].tolist() == [0, 0, 2, 0]
    assert signals.series[Scope("source_kind", "news")].tolist() == [0, 0, 1, 0]
    assert signals.series[Scope("source_kind", "forum")].tolist() == [0, 0, 4, 1]
    assert signals.series[Scope("platform", "Amazon")].tolist() == [0, 0, 5, 1]
    assert signals.threads.tolist() == [0, 0, 3, 1]            # a, c, d on the 10th; a again on the 11th
    assert signals.new_sellers.tolist() == [0, 0, 3, 0]        # 傲基, 泽宝, 帕拓逊 first mentioned on the 10th
    # the 24 hours before 13:00 on the 11th (the hour of "now" included), China time
    assert len(signals.hours) == 24 and signals.hours[0] == datetime.combine(day, time(13), CST)
    assert int(signals.hourly.sum()) == 1 and signals.hourly[12] == 1   # 01:00-02:00 on the 11th


def test_update_writes_one_record_per_wave_and_scope(es, es_env, wave_index):
    result = update(es, es_env, cfg(), None, now=noon(ONSET + timedelta(days=3)))
    by_scope = {(r["scope_kind"], r["scope"]): r for r in result.records}
    assert set(by_scope) == {("overall", "all"), ("platform", "Amazon"), ("seller", "傲基"), ("source_kind", "forum")}
    seller = by_scope[("seller", "傲基")]
    assert seller["onset"][:10] == ONSET.isoformat() and seller["raised_on"][:10] == ONSET.isoformat()
    assert seller["status"] == "active"
    assert seller["documents"] == sum(WAVE[:4]) + 1
    assert seller["peak_count"] == 12 and seller["peak_day"][:10] == (ONSET + timedelta(days=2)).isoformat()
    assert seller["first_report"]["url"] == doc(ONSET, 0, sellers=("傲基",))["url"]
    assert seller["first_report"]["time"].startswith(ONSET.isoformat())
    assert [s["name"] for s in seller["sellers_hit"]] == ["傲基", "Mpow"]
    # only the loss figure counts as a stated loss, not the larger sales figure
    assert [(loss["value_cny"], loss["role"]) for loss in seller["losses"]] == [(1e9, "loss")]
    assert seller["losses"][0]["url"].startswith("http://test.example/forum/")
    assert "傲基" in seller["keywords"] and seller["threads"] == 2
    stored = wave_records.load(es, es_env.waves_alias)
    assert {r["wave_id"] for r in stored} == {r["wave_id"] for r in result.records}
    assert ("seller", "Mpow") not in by_scope  # one post about a seller with no history raises nothing


def test_reruns_are_idempotent_and_a_wave_keeps_its_id_as_it_evolves(es, es_env, wave_index):
    first = update(es, es_env, cfg(), None, now=noon(ONSET + timedelta(days=1)))
    again = update(es, es_env, cfg(), None, now=noon(ONSET + timedelta(days=1)))
    strip = lambda rs: sorted((dict(r, updated_at=None) for r in rs), key=lambda r: r["wave_id"])  # noqa: E731
    assert strip(first.records) == strip(again.records)
    later = update(es, es_env, cfg(), None, now=noon(ONSET + timedelta(days=29)))
    assert {r["wave_id"] for r in later.records} == {r["wave_id"] for r in first.records}
    stored = {r["wave_id"]: r for r in wave_records.load(es, es_env.waves_alias)}
    assert len(stored) == len(first.records)
    seller = next(r for r in stored.values() if r["scope"] == "傲基")
    assert seller["status"] == "over"
    assert [e["event"] for e in seller["events"]] == ["emerging", "active", "escalated", "subsiding", "over"]
    # the report's helper: waves overlapping a period
    found = wave_records.waves_for_period(es, es_env.waves_alias, ONSET - timedelta(days=5), ONSET)
    assert {r["wave_id"] for r in found} == set(stored)
    assert wave_records.waves_for_period(es, es_env.waves_alias, START, START + timedelta(days=30)) == []


def test_backtest_says_when_each_wave_would_have_been_raised(es, es_env, wave_index):
    found = backtest(es, es_env, cfg(), ONSET - timedelta(days=60), ONSET + timedelta(days=40))
    seller = next(w for w in found if w.track.scope == Scope("seller", "傲基"))
    assert (seller.onset, seller.raised, seller.delay) == (ONSET, ONSET, 0)
    # the wave lasts to its last elevated day (2 documents against a baseline of 0.2); single posts after it don't
    assert seller.last_active == ONSET + timedelta(days=7) and seller.documents == sum(WAVE[:8]) + 1
    assert seller.track.status == "over" and seller.ended == seller.last_active + timedelta(days=14)
    overall = next(w for w in found if w.track.scope == OVERALL_SCOPE)
    assert overall.onset == ONSET
    # the quiet months before raised nothing
    assert all(w.raised >= ONSET for w in found)
    # nothing is written by a backtest
    assert not es.indices.exists_alias(name=es_env.waves_alias) or es.count(index=es_env.waves_alias)["count"] == 0


def test_a_few_posts_about_a_new_seller_raise_no_wave(es, es_env):
    docs = history(START, quiet(130), kind="news")
    docs += history(START + timedelta(days=120), [1, 0, 2, 0, 1], sellers=("某新卖家",), thread="x")
    index(es, es_env, docs)
    result = update(es, es_env, cfg(), None, now=noon(START + timedelta(days=126)))
    assert result.records == []


def test_a_second_wave_of_a_scope_gets_its_own_record(es, es_env, wave_index):
    second = ONSET + timedelta(days=45)
    index(es, es_env, history(second, [6, 9, 5, 2], sellers=("傲基",), thread="t9"))
    early = update(es, es_env, cfg(), None, now=noon(ONSET + timedelta(days=2)))
    [first_id] = [r["wave_id"] for r in early.records if r["scope"] == "傲基"]
    late = update(es, es_env, cfg(), None, now=noon(second + timedelta(days=3)))
    seller = sorted((r for r in late.records if r["scope"] == "傲基"), key=lambda r: r["onset"])
    assert [r["onset"][:10] for r in seller] == [ONSET.isoformat(), second.isoformat()]
    assert seller[0]["wave_id"] == first_id != seller[1]["wave_id"]
    assert [r["status"] for r in seller] == ["over", "active"]
    assert len([r for r in wave_records.load(es, es_env.waves_alias) if r["scope"] == "傲基"]) == 2

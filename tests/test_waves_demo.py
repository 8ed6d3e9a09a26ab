"""The demo web's history through the real crawl, NLP and index: the backtest raises the 2021 wave
from the forum's first reports and nothing in the quiet months before and after."""
from __future__ import annotations

import json
from datetime import date

import pytest

import config
from conftest import banwave
from pipelines.elastic import make_client
from wavedata import waves_config
from waves.run import backtest
from waves.signals import OVERALL_SCOPE

pytestmark = [pytest.mark.es, pytest.mark.slow]

SINCE, UNTIL = date(2021, 1, 1), date(2022, 2, 28)


def test_backtest_raises_the_2021_wave_on_the_forum_first_reports(demo_index):
    client = make_client(demo_index)
    found = backtest(client, demo_index, waves_config(), SINCE, UNTIL)
    overall = [w for w in found if w.track.scope == OVERALL_SCOPE]
    assert overall, "no overall wave raised"
    first = overall[0]
    # The forum thread of 2021-04-20 (five closure reports in a day) is the onset, raised the same day:
    # before the press named it a wave (cn-news 2021-04-21).
    assert (first.onset, first.raised) == (date(2021, 4, 20), date(2021, 4, 20))
    # the quiet months raised nothing: no wave before the onset, none in 2022
    assert all(w.raised >= date(2021, 4, 20) for w in found)
    assert all(w.raised < date(2021, 12, 1) for w in found), [(str(w.track.scope), w.raised) for w in found]


def test_banwave_waves_backtest_prints_when_each_wave_was_raised(demo_index):
    environ = {f"BANWAVE_{k}": v for k, v in (("ES_URL", demo_index.es_url), ("INDEX_PREFIX", demo_index.index_prefix),
                                              ("DATA_DIR", str(demo_index.data_dir)))}
    proc = banwave(["waves", "backtest", "--since", "2021-01-01", "--until", "2022-02-28", "--json"],
                   config.process_environ({**environ, "BANWAVE_ENV_FILE": ""}))
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    overall = [r for r in rows if r["scope_kind"] == "overall"]
    assert overall[0]["onset"] == "2021-04-20" and overall[0]["delay_days"] == 0
